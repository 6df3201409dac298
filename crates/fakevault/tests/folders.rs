//! Fake vault: folder listing on v2 (current) and v1 (both generations).

mod support;

use infisical_fakevault::Generation;
use serde_json::Value;
use support::*;

fn names(body: &Value) -> Vec<String> {
    body["folders"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|f| f["name"].as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default()
}

#[tokio::test]
async fn v2_lists_direct_children_sorted_and_unscoped() -> TestResult {
    let s = Session::warden(Generation::Current).await?;
    let a = s
        .get(&format!(
            "/api/v2/folders?projectId={P}&environment=prod&path=MooseQuest/"
        ))
        .await?;
    assert_eq!(a.status, 200, "{}", a.text);
    // Folder names are not permission-checked: the warden sees prod's folders.
    assert_eq!(
        names(&a.json()),
        [
            "alpaca",
            "anthropic",
            "aws",
            "cloudflare",
            "dreamhost",
            "github",
            "heroku",
            "postmark"
        ]
    );
    let f = &a.json()["folders"][0];
    for field in [
        "id",
        "name",
        "version",
        "createdAt",
        "updatedAt",
        "envId",
        "parentId",
        "isReserved",
        "description",
        "lastSecretModified",
    ] {
        assert!(f.get(field).is_some(), "missing {field}: {f}");
    }
    assert!(f.get("relativePath").is_none());
    Ok(())
}

#[tokio::test]
async fn v2_recursive_has_relative_paths() -> TestResult {
    let s = Session::warden(Generation::Current).await?;
    let a = s
        .get(&format!(
            "/api/v2/folders?projectId={P}&environment=dev&path=/agents&recursive=true"
        ))
        .await?;
    let body = a.json();
    let rel: Vec<&str> = body["folders"]
        .as_array()
        .map(|a| a.iter().filter_map(|f| f["relativePath"].as_str()).collect())
        .unwrap_or_default();
    assert_eq!(rel, ["/scribe", "/warden", "/warden/db", "/warden/notify"]);
    Ok(())
}

#[tokio::test]
async fn unknown_environment_404_unknown_path_empty() -> TestResult {
    let s = Session::warden(Generation::Current).await?;
    let a = s
        .get(&format!("/api/v2/folders?projectId={P}&environment=qa"))
        .await?;
    assert_current_error(&a, 404, "NotFound", "Environment with slug 'qa' not found");
    let a = s
        .get(&format!(
            "/api/v2/folders?projectId={P}&environment=dev&path=/no/such"
        ))
        .await?;
    assert_eq!(a.status, 200);
    assert_eq!(a.text, r#"{"folders":[]}"#);
    let a = s.get("/api/v2/folders?environment=dev").await?;
    assert_eq!(a.status, 422);
    assert_eq!(a.json()["message"][0]["path"][0], "projectId");
    Ok(())
}

#[tokio::test]
async fn v1_takes_workspace_id_on_both_generations_and_directory_on_current() -> TestResult {
    for generation in [Generation::Current, Generation::Legacy] {
        let s = Session::warden(generation).await?;
        let a = s
            .get(&format!(
                "/api/v1/folders?workspaceId={P}&environment=dev&directory=/agents/warden"
            ))
            .await?;
        assert_eq!(a.status, 200, "{}", a.text);
        // The recorded 2024 build defaults `path` to "/" and never reads
        // `directory`: the root listing.
        let want: &[&str] = match generation {
            Generation::Current => &["db", "notify"],
            Generation::Legacy => &["MooseQuest", "agents", "shared"],
        };
        assert_eq!(names(&a.json()), want);
        let a = s
            .get(&format!("/api/v1/folders?workspaceId={P}&environment=dev"))
            .await?;
        assert_eq!(names(&a.json()), ["MooseQuest", "agents", "shared"]);
    }
    Ok(())
}
