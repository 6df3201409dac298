//! Fake vault: secret list / get / write routes, permission evaluation per
//! generation (docs/vault-api.md, "Secrets" and "Permissions"), validation, expansion and imports.

mod support;

use infisical_fakevault::{Generation, RunningVault};
use reqwest::Method;
use serde_json::{Value, json};
use support::*;

fn v4(v: &RunningVault, query: &str) -> String {
    format!("{}/api/v4/secrets?projectId={P}&{query}", v.base_url())
}

fn v3(v: &RunningVault, query: &str) -> String {
    format!("{}/api/v3/secrets/raw?workspaceId={P}&{query}", v.base_url())
}

#[tokio::test]
async fn list_in_scope_on_v4_and_v3() -> TestResult {
    let s = Session::warden(Generation::Current).await?;
    for url in [
        v4(&s.v, "environment=dev&secretPath=/agents/warden"),
        v3(&s.v, "environment=dev&secretPath=/agents/warden/"),
    ] {
        let a = get(&s.c, &url, &s.t).await?;
        assert_eq!(a.status, 200, "{}", a.text);
        let body = a.json();
        assert_eq!(
            keys(&body),
            [
                "WARDEN_API_TOKEN",
                "WARDEN_MOTD",
                "WARDEN_FEATURE_FLAGS",
                "WARDEN_DB_URL"
            ]
        );
        // v4 lists imports by default; one out of scope comes without secrets.
        let imports = body["imports"].as_array().cloned().unwrap_or_default();
        assert!(imports.iter().all(|i| i["secrets"] == json!([])), "{body}");
        let first = &body["secrets"][0];
        for field in [
            "id",
            "_id",
            "workspace",
            "environment",
            "version",
            "type",
            "secretKey",
            "secretValue",
            "secretComment",
            "createdAt",
            "updatedAt",
            "secretPath",
            "secretValueHidden",
            "secretMetadata",
            "tags",
            "skipMultilineEncoding",
        ] {
            assert!(first.get(field).is_some(), "missing {field} in {first}");
        }
        assert_eq!(first["workspace"], P);
        assert_eq!(first["type"], "shared");
        assert_eq!(first["secretPath"], "/agents/warden");
        assert_eq!(first["secretValueHidden"], false);
        let tags: Vec<&str> = first["tags"]
            .as_array()
            .map(|a| a.iter().filter_map(|t| t["slug"].as_str()).collect())
            .unwrap_or_default();
        assert_eq!(
            tags,
            [
                "function-vault-read",
                "sensitivity-low",
                "consumer-agent",
                "rotation-90d"
            ]
        );
        assert_eq!(
            body["secrets"][1]["secretValue"],
            "Grüße aus Zürich — 秘密の値 🔐"
        );
        assert_eq!(body["secrets"][2]["secretValue"], "");
        // v4 expands references by default, v3 does not.
        let db_url = if url.contains("/api/v4/") {
            "postgres://warden:pg-FAKE-password-Qw3@db.internal:5432/warden"
        } else {
            "${dev.agents.warden.db.DB_URL}"
        };
        assert_eq!(body["secrets"][3]["secretValue"], db_url);
    }
    Ok(())
}

#[tokio::test]
async fn list_on_a_parent_filters_on_current_and_403s_on_legacy() -> TestResult {
    let s = Session::warden(Generation::Current).await?;
    for q in [
        "environment=dev&secretPath=/agents",
        "environment=dev&secretPath=/",
        "environment=dev",
        "environment=prod&secretPath=/MooseQuest/cloudflare",
    ] {
        let a = get(&s.c, &v4(&s.v, q), &s.t).await?;
        assert_eq!(a.status, 200, "{q}: {}", a.text);
        assert_eq!(keys(&a.json()), Vec::<String>::new(), "{q}");
    }

    let (lv, lc, lt) = warden_session(Generation::Legacy).await?;
    for q in [
        "environment=dev&secretPath=/agents",
        "environment=dev",
        "environment=prod&secretPath=/agents/warden",
        "environment=nope&secretPath=/agents/warden",
        "environment=dev&secretPath=/agents/wardenx",
        "environment=dev&secretPath=agents/warden",
    ] {
        let a = get(&lc, &v3(&lv, q), &lt).await?;
        assert_legacy_error(
            &a,
            403,
            "PermissionDenied",
            "You are not allowed to read on secrets",
        );
    }
    Ok(())
}

#[tokio::test]
async fn recursive_lists_filter_by_each_secrets_own_path() -> TestResult {
    for generation in [Generation::Current, Generation::Legacy] {
        let s = Session::warden(generation).await?;
        let a = get(
            &s.c,
            &v3(&s.v, "environment=dev&secretPath=/&recursive=true"),
            &s.t,
        )
        .await?;
        assert_eq!(a.status, 200, "{}", a.text);
        let body = a.json();
        let mut got: Vec<(String, String)> = body["secrets"]
            .as_array()
            .map(|a| {
                a.iter()
                    .map(|s| {
                        (
                            s["secretPath"].as_str().unwrap_or("").to_owned(),
                            s["secretKey"].as_str().unwrap_or("").to_owned(),
                        )
                    })
                    .collect()
            })
            .unwrap_or_default();
        got.sort();
        let paths: Vec<&str> = got.iter().map(|(p, _)| p.as_str()).collect();
        assert!(paths.iter().all(|p| p.starts_with("/agents/warden")), "{got:?}");
        assert!(got.contains(&("/agents/warden/db".to_owned(), "DB_PASSWORD".to_owned())));
        assert!(
            !got.iter()
                .any(|(_, k)| k == "SLACK_WEBHOOK" || k == "STR_BILLING_WRITE")
        );
        assert_eq!(got.len(), 7);
    }
    Ok(())
}

#[tokio::test]
async fn missing_folder_in_scope() -> TestResult {
    let s = Session::warden(Generation::Current).await?;
    let a = get(
        &s.c,
        &v4(&s.v, "environment=dev&secretPath=/agents/warden/nothing"),
        &s.t,
    )
    .await?;
    assert_current_error(
        &a,
        404,
        "SecretPathNotFound",
        "Folder with path '/agents/warden/nothing' in environment 'dev' was not found. Please ensure the environment slug and secret path is correct.",
    );
    let (lv, lc, lt) = warden_session(Generation::Legacy).await?;
    let a = get(
        &lc,
        &v3(&lv, "environment=dev&secretPath=/agents/warden/nothing"),
        &lt,
    )
    .await?;
    assert_eq!(a.status, 200);
    assert_eq!(a.json(), json!({"secrets": [], "imports": []}));
    Ok(())
}

#[tokio::test]
async fn legacy_has_no_v4_or_v2_routes() -> TestResult {
    let s = Session::warden(Generation::Legacy).await?;
    let url = v4(&s.v, "environment=dev&secretPath=/agents/warden");
    let a = get(&s.c, &url, &s.t).await?;
    assert_eq!(a.status, 404);
    let path_and_query = url.trim_start_matches(&s.v.base_url()).to_owned();
    assert_eq!(
        a.text,
        format!(
            r#"{{"message":"Route GET:{path_and_query} not found","error":"Not Found","statusCode":404}}"#
        )
    );
    let a = s
        .get(&format!(
            "/api/v4/secrets/WARDEN_MOTD?projectId={P}&environment=dev"
        ))
        .await?;
    assert_eq!(a.status, 404);
    assert!(
        a.json()["message"]
            .as_str()
            .is_some_and(|m| m.starts_with("Route GET:/api/v4/secrets/WARDEN_MOTD?"))
    );
    let a = s
        .get(&format!("/api/v2/folders?projectId={P}&environment=dev"))
        .await?;
    assert_eq!(a.json()["error"], "Not Found");
    Ok(())
}

#[tokio::test]
async fn booleans_must_be_true_or_false() -> TestResult {
    let s = Session::warden(Generation::Current).await?;
    let a = get(
        &s.c,
        &v4(
            &s.v,
            "environment=dev&secretPath=/agents/warden&recursive=yes&expandSecretReferences=1",
        ),
        &s.t,
    )
    .await?;
    assert_eq!(a.status, 422, "{}", a.text);
    let body = a.json();
    assert_eq!(body["error"], "ValidationFailure");
    assert_eq!(body["message"][0]["code"], "invalid_enum_value");
    assert_eq!(body["message"][0]["options"], json!(["true", "false"]));
    let fields: Vec<&str> = body["message"]
        .as_array()
        .map(|a| a.iter().filter_map(|i| i["path"][0].as_str()).collect())
        .unwrap_or_default();
    assert_eq!(fields, ["expandSecretReferences", "recursive"]);

    let (lv, lc, lt) = warden_session(Generation::Legacy).await?;
    let a = get(
        &lc,
        &v3(
            &lv,
            "environment=dev&secretPath=/agents/warden&include_imports=TRUE",
        ),
        &lt,
    )
    .await?;
    assert_eq!(a.status, 401);
    assert_eq!(a.json()["error"], "ValidationFailure");
    Ok(())
}

#[tokio::test]
async fn missing_project_or_environment() -> TestResult {
    let s = Session::warden(Generation::Current).await?;
    let a = s.get("/api/v4/secrets?environment=dev").await?;
    assert_current_error(&a, 400, "BadRequest", "Missing project id or environment");
    let a = s.get("/api/v3/secrets/raw/X?environment=dev").await?;
    assert_current_error(
        &a,
        400,
        "BadRequest",
        "You must provide workspaceSlug or workspaceId",
    );
    let a = s.get("/api/v4/secrets/X?environment=dev").await?;
    assert_current_error(&a, 400, "BadRequest", "You must provide  workspaceId");
    let a = s.get(&format!("/api/v4/secrets/X?projectId={P}")).await?;
    assert_current_error(&a, 400, "BadRequest", "Missing environment");
    let a = s
        .get("/api/v3/secrets/raw?workspaceSlug=raxx-secrets&environment=dev&secretPath=/agents/warden")
        .await?;
    assert_eq!(a.status, 200);
    Ok(())
}

#[tokio::test]
async fn get_by_name_current() -> TestResult {
    let s = Session::warden(Generation::Current).await?;
    let a = s
        .get(&format!(
            "/api/v4/secrets/WARDEN_MOTD?projectId={P}&environment=dev&secretPath=/agents/warden&type=shared"
        ))
        .await?;
    assert_eq!(a.status, 200);
    let secret = &a.json()["secret"];
    assert_eq!(secret["secretKey"], "WARDEN_MOTD");
    assert_eq!(secret["secretValue"], "Grüße aus Zürich — 秘密の値 🔐");
    assert_eq!(secret["secretPath"], "/agents/warden");
    assert_eq!(secret["version"], 1);

    // Out of scope: 403 whether or not the secret exists (no existence oracle).
    for name in ["STR_BILLING_WRITE", "DOES_NOT_EXIST"] {
        let a = s
            .get(&format!(
                "/api/v4/secrets/{name}?projectId={P}&environment=dev&secretPath=/MooseQuest/stripe"
            ))
            .await?;
        assert_current_error(
            &a,
            403,
            "PermissionDenied",
            "You are not allowed to describeSecret on secrets",
        );
        // A `read` rule grants describeSecret but is not listed for it
        // (recorded: get-out-of-scope-existing, get-out-of-scope-nonexistent).
        assert_eq!(a.json()["details"], json!([]), "{}", a.text);
    }
    let a = s
        .get(&format!(
            "/api/v3/secrets/raw/NOPE?workspaceId={P}&environment=dev&secretPath=/agents/warden"
        ))
        .await?;
    assert_current_error(&a, 404, "NotFound", "Secret with name 'NOPE' not found");
    let a = s
        .get(&format!(
            "/api/v4/secrets/NOPE?projectId={P}&environment=dev&secretPath=/agents/warden/gone"
        ))
        .await?;
    assert_current_error(
        &a,
        404,
        "GetSecretByName",
        "Folder with path '/agents/warden/gone' in environment with slug 'dev' not found",
    );
    let a = s
        .get(&format!(
            "/api/v4/secrets/WARDEN_MOTD?projectId={P}&environment=dev&secretPath=/agents/warden&type=secret"
        ))
        .await?;
    assert_eq!(a.status, 422);
    Ok(())
}

#[tokio::test]
async fn get_by_name_legacy() -> TestResult {
    let s = Session::warden(Generation::Legacy).await?;
    let a = s
        .get(&format!(
            "/api/v3/secrets/raw/WARDEN_API_TOKEN?workspaceId={P}&environment=dev&secretPath=/agents/warden"
        ))
        .await?;
    assert_eq!(a.status, 200);
    let secret = &a.json()["secret"];
    assert_eq!(secret["secretValue"], "warden-FAKE-api-token-4Rt7");
    assert!(secret.get("secretPath").is_none(), "{secret}");
    for name in ["STR_BILLING_WRITE", "DOES_NOT_EXIST"] {
        let a = s
            .get(&format!(
                "/api/v3/secrets/raw/{name}?workspaceId={P}&environment=dev&secretPath=/MooseQuest/stripe"
            ))
            .await?;
        assert_legacy_error(
            &a,
            403,
            "PermissionDenied",
            "You are not allowed to read on secrets",
        );
    }
    let a = s
        .get(&format!(
            "/api/v3/secrets/raw/NOPE?workspaceId={P}&environment=dev&secretPath=/agents/warden"
        ))
        .await?;
    assert_legacy_error(&a, 404, "NotFound", "Secret not found");
    let a = s
        .get(&format!(
            "/api/v3/secrets/raw/NOPE?workspaceId={P}&environment=dev&secretPath=/agents/warden/gone"
        ))
        .await?;
    assert_legacy_error(
        &a,
        404,
        // Sic: the recorded build reuses the create route's error name.
        "Create secret",
        "Folder not found for the given environment slug & secret path",
    );
    let a = s
        .get("/api/v3/secrets/raw?workspaceId=nope&environment=dev")
        .await?;
    assert_legacy_error(
        &a,
        404,
        "NotFound",
        "Project not found during bot lookup. Are you sure you are using the correct project ID?",
    );
    Ok(())
}

#[tokio::test]
async fn reference_expansion() -> TestResult {
    let s = Session::warden(Generation::Current).await?;
    let a = get(
        &s.c,
        &v4(
            &s.v,
            "environment=dev&secretPath=/agents/warden&expandSecretReferences=true",
        ),
        &s.t,
    )
    .await?;
    assert_eq!(a.status, 200, "{}", a.text);
    assert_eq!(
        a.json()["secrets"][3]["secretValue"],
        "postgres://warden:pg-FAKE-password-Qw3@db.internal:5432/warden"
    );

    // A reference the identity cannot read: the whole list is refused.
    let a = get(
        &s.c,
        &v4(
            &s.v,
            "environment=dev&secretPath=/agents/warden/notify&expandSecretReferences=true",
        ),
        &s.t,
    )
    .await?;
    assert_current_error(
        &a,
        403,
        "ForbiddenError",
        "Failed to expand one or more secret references",
    );
    let forbidden = "You do not have permission to read secret 'SLACK_WEBHOOK' in environment 'dev' at path '/shared', which is referenced by secret 'WARDEN_SLACK_WEBHOOK' in environment 'dev' at path '/agents/warden/notify'.";
    assert_eq!(a.json()["details"], json!([forbidden]));
    let a = s.get(&format!("/api/v4/secrets/WARDEN_SLACK_WEBHOOK?projectId={P}&environment=dev&secretPath=/agents/warden/notify&expandSecretReferences=true")).await?;
    assert_current_error(&a, 403, "ForbiddenError", forbidden);

    let (lv, lc, lt) = warden_session(Generation::Legacy).await?;
    let a = get(
        &lc,
        &v3(
            &lv,
            "environment=dev&secretPath=/agents/warden/notify&expandSecretReferences=true",
        ),
        &lt,
    )
    .await?;
    assert_eq!(a.status, 200);
    assert_eq!(
        a.json()["secrets"][0]["secretValue"],
        "${dev.shared.SLACK_WEBHOOK}"
    );
    let a = get_at(&lc, &lv, &format!("/api/v3/secrets/raw/WARDEN_SLACK_WEBHOOK?workspaceId={P}&environment=dev&secretPath=/agents/warden/notify&expandSecretReferences=true"), &lt).await?;
    let legacy = "You are attempting to reference secret named SLACK_WEBHOOK from environment dev in path /shared which you do not have access to.";
    assert_legacy_error(&a, 403, "ForbiddenError", legacy);
    Ok(())
}

#[tokio::test]
async fn imports_with_either_parameter_name() -> TestResult {
    let v = start(vault(Generation::Current)).await?;
    let c = client()?;
    let admin = login(&c, &v, ADMIN_ID, ADMIN_SECRET).await?;
    let warden = login(&c, &v, WARDEN_ID, WARDEN_SECRET).await?;
    for param in ["include_imports", "includeImports"] {
        let a = get(
            &c,
            &v4(
                &v,
                &format!("environment=dev&secretPath=/agents/warden&{param}=true"),
            ),
            &admin,
        )
        .await?;
        let imports = &a.json()["imports"];
        assert_eq!(imports[0]["secretPath"], "/shared");
        assert_eq!(imports[0]["environment"], "dev");
        assert_eq!(imports[0]["secrets"][0]["secretKey"], "SLACK_WEBHOOK");
        // The same import is out of the warden's scope: listed, without secrets.
        let a = get(
            &c,
            &v4(
                &v,
                &format!("environment=dev&secretPath=/agents/warden&{param}=true"),
            ),
            &warden,
        )
        .await?;
        assert_eq!(a.json()["imports"][0]["secretPath"], "/shared", "{}", a.text);
        assert_eq!(a.json()["imports"][0]["secrets"], json!([]), "{}", a.text);
    }
    // The 2024 build only knows `include_imports`.
    let lv = start(vault(Generation::Legacy)).await?;
    let admin = login(&c, &lv, ADMIN_ID, ADMIN_SECRET).await?;
    let a = get(
        &c,
        &v3(
            &lv,
            "environment=dev&secretPath=/agents/warden&includeImports=true",
        ),
        &admin,
    )
    .await?;
    // Without `include_imports` the 2024 build sends no `imports` key.
    assert_eq!(a.status, 200, "{}", a.text);
    assert!(a.json().get("imports").is_none(), "{}", a.text);
    let a = get(
        &c,
        &v3(
            &lv,
            "environment=dev&secretPath=/agents/warden&include_imports=true",
        ),
        &admin,
    )
    .await?;
    assert_eq!(a.json()["imports"][0]["secretPath"], "/shared");

    // get-by-name falls back to an import.
    let a = get(&c, &format!("{}/api/v4/secrets/SLACK_WEBHOOK?projectId={P}&environment=dev&secretPath=/agents/warden&include_imports=true", v.base_url()), &login(&c, &v, ADMIN_ID, ADMIN_SECRET).await?).await?;
    assert_eq!(a.json()["secret"]["secretPath"], "/shared");
    Ok(())
}

#[tokio::test]
async fn hidden_values_and_tag_filters() -> TestResult {
    let s = Session::warden(Generation::Current).await?;
    let a = get(
        &s.c,
        &v4(
            &s.v,
            "environment=dev&secretPath=/agents/warden&viewSecretValue=false",
        ),
        &s.t,
    )
    .await?;
    let secret = &a.json()["secrets"][0];
    assert_eq!(secret["secretValue"], "<hidden-by-infisical>");
    assert_eq!(secret["secretValueHidden"], true);

    let admin = login(&s.c, &s.v, ADMIN_ID, ADMIN_SECRET).await?;
    let a = get(
        &s.c,
        &v4(
            &s.v,
            "environment=prod&secretPath=/&recursive=true&tagSlugs=function-agent-identity",
        ),
        &admin,
    )
    .await?;
    assert_eq!(keys(&a.json()), ["APP_ID", "INSTALLATION_ID", "PRIVATE_KEY_PEM"]);
    let pem = a.json()["secrets"][2]["secretValue"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    assert!(pem.starts_with("-----BEGIN RSA PRIVATE KEY-----\n") && pem.lines().count() == 5);
    Ok(())
}

#[tokio::test]
async fn write_checks_come_in_each_generations_order() -> TestResult {
    // The older build checks permission first; current Infisical looks the
    // secret up first for update and delete (a missing key is a 404 even
    // without the permission), and checks permission first for create.
    for generation in [Generation::Current, Generation::Legacy] {
        let s = Session::warden(generation).await?;
        let url = format!("{}/api/v3/secrets/raw/NOT_THERE", s.v.base_url());
        let body = json!({"workspaceId": P, "environment": "dev", "secretPath": "/agents/warden"});
        for (method, action) in [
            (Method::DELETE, "delete"),
            (Method::PATCH, "edit"),
            (Method::POST, "create"),
        ] {
            let mut b = body.clone();
            b["secretValue"] = json!("x");
            let a = call(&s.c, method.clone(), &url, Some(&s.t), Some(b)).await?;
            let message = format!("You are not allowed to {action} on secrets");
            match generation {
                Generation::Current if method != Method::POST => {
                    assert_current_error(&a, 404, "NotFound", "Secret with name 'NOT_THERE' not found")
                }
                Generation::Current => assert_current_error(&a, 403, "PermissionDenied", &message),
                Generation::Legacy => assert_legacy_error(&a, 403, "PermissionDenied", &message),
            }
        }
    }
    Ok(())
}

#[tokio::test]
async fn an_over_privileged_identity_can_write() -> TestResult {
    let v = start(vault(Generation::Current)).await?;
    let c = client()?;
    let t = login(&c, &v, ADMIN_ID, ADMIN_SECRET).await?;
    let base = v.base_url();
    let target = json!({"projectId": P, "environment": "dev", "secretPath": "/agents/warden"});
    let url = format!("{base}/api/v4/secrets/NEW_KEY");

    let mut create = target.clone();
    create["secretValue"] = json!("  first\n");
    let a = post_as(&c, &url, &t, create.clone()).await?;
    assert_eq!(a.status, 200, "{}", a.text);
    assert_eq!(a.json()["secret"]["secretValue"], "first\n");
    let dup = post_as(&c, &url, &t, create).await?;
    assert_current_error(&dup, 400, "BadRequest", "Secret already exists: NEW_KEY");

    let mut update = target.clone();
    update["secretValue"] = json!("second");
    let a = call(&c, Method::PATCH, &url, Some(&t), Some(update)).await?;
    assert_eq!(a.json()["secret"]["version"], 2);
    let old = get(
        &c,
        &format!(
            "{base}/api/v4/secrets/NEW_KEY?projectId={P}&environment=dev&secretPath=/agents/warden&version=1"
        ),
        &t,
    )
    .await?;
    assert_eq!(old.json()["secret"]["secretValue"], "first\n");

    let a = call(
        &c,
        Method::DELETE,
        &format!("{base}/api/v3/secrets/raw/NEW_KEY"),
        Some(&t),
        Some(json!({"workspaceId": P, "environment": "dev", "secretPath": "/agents/warden"})),
    )
    .await?;
    assert_eq!(a.status, 200);
    let gone = get(
        &c,
        &format!("{base}/api/v4/secrets/NEW_KEY?projectId={P}&environment=dev&secretPath=/agents/warden"),
        &t,
    )
    .await?;
    assert_current_error(&gone, 404, "NotFound", "Secret with name 'NEW_KEY' not found");
    Ok(())
}

#[tokio::test]
async fn odd_paths_are_not_normalised_into_scope() -> TestResult {
    let s = Session::warden(Generation::Legacy).await?;
    for path in [
        "/agents//warden",
        "/agents/./warden",
        "/agents/x/../warden",
        "/Agents/warden",
        "/agents%2Fwarden",
        "\\agents\\warden",
    ] {
        let encoded: String = url::form_urlencoded::byte_serialize(path.as_bytes()).collect();
        let a = get(
            &s.c,
            &v3(&s.v, &format!("environment=dev&secretPath={encoded}")),
            &s.t,
        )
        .await?;
        assert_eq!(a.status, 403, "{path}: {}", a.text);
    }
    for path in ["/agents/warden/", " /agents/warden ", "/agents/warden//"] {
        let encoded: String = url::form_urlencoded::byte_serialize(path.as_bytes()).collect();
        let a = get(
            &s.c,
            &v3(&s.v, &format!("environment=dev&secretPath={encoded}")),
            &s.t,
        )
        .await?;
        assert_eq!(a.status, 200, "{path:?}: {}", a.text);
    }
    Ok(())
}

/// The recorded build's `tagIds` on writes: set on create, replaced by a
/// PATCH that names them, kept by one that does not, cleared by `[]`; an
/// unknown id is 404 `Tag not found`; PATCH needs `secretValue`.
#[tokio::test]
async fn tag_ids_set_replace_keep_clear_and_refuse_unknown() -> TestResult {
    let v = start(vault(Generation::Legacy)).await?;
    let c = client()?;
    let admin = login(&c, &v, ADMIN_ID, ADMIN_SECRET).await?;
    let all = get(&c, &v3(&v, "environment=dev&secretPath=/&recursive=true"), &admin).await?;
    let tagged = all.json()["secrets"]
        .as_array()
        .and_then(|s| {
            s.iter()
                .find(|s| s["tags"].as_array().is_some_and(|t| !t.is_empty()))
        })
        .cloned()
        .ok_or("the sample vault has no tagged secret")?;
    let (tag_id, slug, path) = (
        tagged["tags"][0]["id"].clone(),
        tagged["tags"][0]["slug"].clone(),
        tagged["secretPath"].as_str().unwrap_or("/").to_owned(),
    );
    let url = format!("{}/api/v3/secrets/raw/TAG_IDS_PROBE", v.base_url());
    let body = |extra: Value| {
        let mut b = json!({"workspaceId": P, "environment": "dev", "secretPath": path, "secretValue": "v"});
        if let (Value::Object(b), Value::Object(extra)) = (&mut b, extra) {
            b.extend(extra);
        }
        b
    };
    let read_tags = || async {
        let q = format!("environment=dev&secretPath={path}");
        let one = format!(
            "{}/api/v3/secrets/raw/TAG_IDS_PROBE?workspaceId={P}&{q}",
            v.base_url()
        );
        let a = get(&c, &one, &admin).await?;
        Ok::<_, Box<dyn std::error::Error>>(a.json()["secret"]["tags"].clone())
    };

    let created = post_as(&c, &url, &admin, body(json!({"tagIds": [tag_id]}))).await?;
    assert_eq!(created.status, 200, "{}", created.text);
    // Write answers carry no tags on this build.
    assert!(created.json()["secret"].get("tags").is_none(), "{}", created.text);
    assert_eq!(read_tags().await?[0]["slug"], slug);

    let kept = call(&c, Method::PATCH, &url, Some(&admin), Some(body(json!({})))).await?;
    assert_eq!(kept.status, 200, "{}", kept.text);
    assert_eq!(read_tags().await?[0]["slug"], slug);

    let unknown = json!({"tagIds": ["00000000-0000-4000-8000-000000000000"]});
    let refused = call(&c, Method::PATCH, &url, Some(&admin), Some(body(unknown))).await?;
    assert_legacy_error(&refused, 404, "NotFound", "Tag not found");
    assert_eq!(read_tags().await?[0]["slug"], slug);

    let cleared = call(
        &c,
        Method::PATCH,
        &url,
        Some(&admin),
        Some(body(json!({"tagIds": []}))),
    )
    .await?;
    assert_eq!(cleared.status, 200, "{}", cleared.text);
    assert_eq!(read_tags().await?, json!([]));

    let no_value = json!({"workspaceId": P, "environment": "dev", "secretPath": path, "tagIds": []});
    let a = call(&c, Method::PATCH, &url, Some(&admin), Some(no_value)).await?;
    assert_eq!(a.status, 401, "{}", a.text);
    assert_eq!(a.json()["message"][0]["path"], json!(["secretValue"]));
    Ok(())
}
