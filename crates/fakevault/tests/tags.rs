//! Fake vault: the project tag routes (`GET`/`POST /api/v1/workspace/{id}/tags`)
//! replayed against answers recorded from a real Infisical of the 2024 build
//! (`tests/fixtures/real-infisical-tags.json`): same status, same error name
//! and message, and a success body of the same shape (keys in the same order,
//! same types, same list lengths) with the same slugs and colours. Ids and
//! timestamps are the server's own and are not compared.

mod support;

use infisical_fakevault::{Action, FakeVault, Generation, Identity, PermissionRule, Tag, VaultData};
use reqwest::Method;
use serde_json::{Value, json};
use support::*;

const FIXTURE: &str = include_str!("fixtures/real-infisical-tags.json");
const TAGGER_ID: &str = "tagger-client-id";
const TAGGER_SECRET: &str = "tagger-FAKE-client-secret";

/// The recorded "admin-user": reads and creates tags (and reads every secret).
fn tagger() -> Identity {
    Identity::new(TAGGER_ID, TAGGER_SECRET, vec![PermissionRule::read("*", "/**")])
        .tag_actions(&[Action::Read, Action::Create])
}

/// The recorded project with the tags it held before the records.
fn recorded_vault(fixture: &Value, generation: Generation) -> FakeVault {
    let project = fixture["projectId"].as_str().unwrap_or_default();
    let mut data = VaultData::new()
        .project(project, "oracle-project", "oracle-project")
        .environment(project, "dev", "Development")
        .secret(project, "dev", "/agents/warden", "WARDEN_API_KEY", "fake");
    for t in fixture["dataset"]["tags"].as_array().into_iter().flatten() {
        let slug = t["slug"].as_str().unwrap_or_default();
        data = data.tag(
            project,
            Tag {
                id: t["id"].as_str().unwrap_or_default().to_owned(),
                slug: slug.to_owned(),
                name: slug.to_owned(),
                color: t["color"].as_str().unwrap_or_default().to_owned(),
            },
        );
    }
    FakeVault::new(data)
        .generation(generation)
        .identity(tagger())
        .identity(warden())
}

/// Keys (in order) and JSON types, recursively; lists by length and items.
fn shape(v: &Value) -> Value {
    match v {
        Value::Object(map) => Value::Array(map.iter().map(|(k, v)| json!([k, shape(v)])).collect()),
        Value::Array(items) => json!({"list": items.iter().map(shape).collect::<Vec<_>>()}),
        Value::String(_) => json!("string"),
        Value::Number(_) => json!("number"),
        Value::Bool(_) => json!("bool"),
        Value::Null => json!("null"),
    }
}

/// `[(slug, colour)]` of a tag list or a single tag.
fn slugs(body: &Value) -> Vec<(String, String)> {
    let one = |t: &Value| {
        (
            t["slug"].as_str().unwrap_or_default().to_owned(),
            t["color"].as_str().unwrap_or_default().to_owned(),
        )
    };
    match (&body["workspaceTags"], &body["workspaceTag"]) {
        (Value::Array(list), _) => list.iter().map(one).collect(),
        (_, tag @ Value::Object(_)) => vec![one(tag)],
        _ => Vec::new(),
    }
}

#[tokio::test]
async fn tag_routes_answer_like_the_recorded_build() -> TestResult {
    let fixture: Value = serde_json::from_str(FIXTURE)?;
    let records = fixture["records"].as_array().ok_or("no records")?;
    assert_eq!(records.len(), 13, "the fixture lost records");
    let v = start(recorded_vault(&fixture, Generation::Legacy)).await?;
    let c = client()?;
    let tagger = login(&c, &v, TAGGER_ID, TAGGER_SECRET).await?;
    let agent = login(&c, &v, WARDEN_ID, WARDEN_SECRET).await?;
    for r in records {
        let case = r["case"].as_str().unwrap_or_default();
        let token = match r["actor"].as_str() {
            Some("warden-ro") => &agent,
            _ => &tagger,
        };
        let method = Method::from_bytes(r["method"].as_str().unwrap_or_default().as_bytes())?;
        let url = format!("{}{}", v.base_url(), r["url"].as_str().unwrap_or_default());
        let body = Some(r["request_body"].clone()).filter(|b| !b.is_null());
        let a = call(&c, method, &url, Some(token), body).await?;
        let got = a.json();
        let want = &r["body"];
        assert_eq!(a.status.as_u16(), r["status"], "{case}: {}", a.text);
        if a.status.is_success() {
            assert_eq!(shape(&got), shape(want), "{case}: {}", a.text);
            assert_eq!(slugs(&got), slugs(want), "{case}");
        } else {
            // Error bodies carry no ids: the whole body must be the same.
            assert_eq!(&got, want, "{case}");
        }
    }
    Ok(())
}

#[tokio::test]
async fn the_slug_rule_holds_on_both_generations() -> TestResult {
    let fixture: Value = serde_json::from_str(FIXTURE)?;
    let project = fixture["projectId"].as_str().unwrap_or_default();
    for generation in [Generation::Current, Generation::Legacy] {
        let v = start(recorded_vault(&fixture, generation)).await?;
        let c = client()?;
        let t = login(&c, &v, TAGGER_ID, TAGGER_SECRET).await?;
        let url = format!("{}/api/v1/workspace/{project}/tags", v.base_url());
        let create = |slug: &str| json!({"slug": slug, "color": "#10b981"});
        for refused in [
            "function:dns-edit",
            "consumer_agent",
            "rotation 90d",
            "sensitivity.high",
        ] {
            let a = post_as(&c, &url, &t, create(refused)).await?;
            assert_eq!(a.json()["error"], "ValidationFailure", "{refused}: {}", a.text);
            assert_eq!(
                a.json()["message"][0]["message"],
                "Invalid slug. Slug can only contain alphanumeric characters and hyphens.",
                "{refused}"
            );
        }
        let a = post_as(&c, &url, &t, create("  Consumer-Agent ")).await?;
        assert_eq!(a.status, 200, "{}", a.text);
        assert_eq!(
            a.json()["workspaceTag"]["slug"],
            "consumer-agent",
            "trimmed and lower-cased"
        );
        assert_eq!(a.json()["workspaceTag"]["projectId"], project);
        let a = get(&c, &url, &t).await?;
        let listed: Vec<String> = slugs(&a.json()).into_iter().map(|(s, _)| s).collect();
        assert_eq!(
            listed,
            [
                "function-dns-edit",
                "sensitivity-high",
                "consumer-terraform",
                "rotation-90d",
                "consumer-agent"
            ],
            "{generation:?}: creation order"
        );
        // The agent sees tags inside secrets but may not list or create them.
        let agent = login(&c, &v, WARDEN_ID, WARDEN_SECRET).await?;
        let a = post_as(&c, &url, &agent, create("consumer-x")).await?;
        assert_eq!(a.status, 403, "{}", a.text);
        assert_eq!(a.json()["message"], "You are not allowed to create on tags");
        let a = get_at(&c, &v, "/api/v1/workspace/no-such-project/tags", &t).await?;
        assert_eq!(a.status, 404, "{}", a.text);
    }
    Ok(())
}
