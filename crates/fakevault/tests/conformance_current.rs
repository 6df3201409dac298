//! The fake's Current mode against facts read in current Infisical's source
//! (routes, status codes, error names and texts, body keys), table-driven,
//! on the 2024 recording's data set; each row cites the source file it
//! checks (the `source` column). `conformance_recorded_current` replays a
//! recording of a current server.

mod support;

use infisical_fakevault::{Generation, RunningVault};
use reqwest::Method;
use serde_json::{Value, json};
use support::recorded::{self, test_secret};
use support::{Res, TestResult, client, start};

const P: &str = "664ba048-fc91-4735-8948-7d7d3ee03887";
const WARDEN: &str = "b41b117a-0c57-4c5e-b054-47c5416c93bb";

struct Case {
    /// Where the fact comes from (Infisical source file).
    source: &'static str,
    auth: Auth,
    method: Method,
    path: &'static str,
    body: Option<Value>,
    status: u16,
    error: Option<&'static str>,
    message: Option<Value>,
    /// JSON pointers that must exist in the answer.
    present: &'static [&'static str],
    /// JSON pointers that must not.
    absent: &'static [&'static str],
}

enum Auth {
    None,
    Warden,
    Raw(&'static str),
}

fn cases() -> Vec<Case> {
    vec![
        Case {
            source: "routes/index.ts /api/status",
            auth: Auth::None,
            method: Method::GET,
            path: "/api/status",
            body: None,
            status: 200,
            error: None,
            message: Some(json!("Ok")),
            present: &["/date", "/auditLogStorageDisabled"],
            absent: &[],
        },
        Case {
            source: "identity-universal-auth-router.ts: zod, 422 on the current build",
            auth: Auth::None,
            method: Method::POST,
            path: "/api/v1/auth/universal-auth/login",
            body: Some(json!({"clientId": WARDEN})),
            status: 422,
            error: Some("ValidationFailure"),
            message: Some(
                json!([{"code": "invalid_type", "expected": "string", "received": "undefined",
                "path": ["clientSecret"], "message": "Required"}]),
            ),
            present: &["/reqId"],
            absent: &[],
        },
        Case {
            source: "identity-ua-service.ts: unknown client id is Invalid credentials",
            auth: Auth::None,
            method: Method::POST,
            path: "/api/v1/auth/universal-auth/login",
            body: Some(json!({"clientId": "ff06c3ea-ba69-479e-8b33-c67ca112697d", "clientSecret": "x"})),
            status: 401,
            error: Some("UnauthorizedError"),
            message: Some(json!("Invalid credentials")),
            present: &["/reqId"],
            absent: &[],
        },
        Case {
            source: "verify-auth.ts: no Authorization header",
            auth: Auth::None,
            method: Method::GET,
            path: "/api/v4/secrets?projectId=664ba048-fc91-4735-8948-7d7d3ee03887&environment=dev&secretPath=/agents/warden",
            body: None,
            status: 401,
            error: Some("UnauthorizedError"),
            message: Some(json!("Token missing")),
            present: &["/reqId"],
            absent: &[],
        },
        Case {
            source: "inject-identity.ts: a non-JWT bearer",
            auth: Auth::Raw("Bearer not-a-jwt"),
            method: Method::GET,
            path: "/api/v4/secrets?projectId=664ba048-fc91-4735-8948-7d7d3ee03887&environment=dev&secretPath=/agents/warden",
            body: None,
            status: 403,
            error: Some("TokenError"),
            message: Some(json!(
                "The provided access token is malformed. Please use a valid token or generate a new one and try again."
            )),
            present: &["/reqId"],
            absent: &[],
        },
        Case {
            source: "inject-identity.ts: x-api-key is refused",
            auth: Auth::Raw("x-api-key"),
            method: Method::GET,
            path: "/api/v4/secrets?projectId=664ba048-fc91-4735-8948-7d7d3ee03887&environment=dev",
            body: None,
            status: 400,
            error: Some("BadRequest"),
            message: Some(json!(
                "API key authentication is not supported anymore. Please use another authentication method."
            )),
            present: &[],
            absent: &[],
        },
        Case {
            source: "deprecated-secret-router.ts: v3 list without environment",
            auth: Auth::Warden,
            method: Method::GET,
            path: "/api/v3/secrets/raw?workspaceId=664ba048-fc91-4735-8948-7d7d3ee03887",
            body: None,
            status: 400,
            error: Some("BadRequest"),
            message: Some(json!("Missing project id or environment")),
            present: &[],
            absent: &[],
        },
        Case {
            source: "v4 secret-router.ts + sanitizedSchemas.ts secretRawSchema: list shape (v4 expands references unless told not to)",
            auth: Auth::Warden,
            method: Method::GET,
            path: "/api/v4/secrets?projectId=664ba048-fc91-4735-8948-7d7d3ee03887&environment=dev&secretPath=/agents/warden&expandSecretReferences=false",
            body: None,
            status: 200,
            error: None,
            message: None,
            present: &[
                "/imports",
                "/secrets/0/secretPath",
                "/secrets/0/secretValueHidden",
                "/secrets/0/secretMetadata",
                "/secrets/0/tags",
                "/secrets/0/isRotatedSecret",
                "/secrets/0/workspace",
            ],
            absent: &["/secrets/0/metadata"],
        },
        Case {
            source: "secret-v2-bridge-service.ts getSecrets: unknown path",
            auth: Auth::Warden,
            method: Method::GET,
            path: "/api/v4/secrets?projectId=664ba048-fc91-4735-8948-7d7d3ee03887&environment=dev&secretPath=/agents/warden/nope",
            body: None,
            status: 404,
            error: Some("SecretPathNotFound"),
            message: Some(json!(
                "Folder with path '/agents/warden/nope' in environment 'dev' was not found. Please ensure the environment slug and secret path is correct."
            )),
            present: &[],
            absent: &[],
        },
        Case {
            source: "secret-v2-bridge-service.ts getSecretByName: unknown name",
            auth: Auth::Warden,
            method: Method::GET,
            path: "/api/v4/secrets/NOPE?projectId=664ba048-fc91-4735-8948-7d7d3ee03887&environment=dev&secretPath=/agents/warden",
            body: None,
            status: 404,
            error: Some("NotFound"),
            message: Some(json!("Secret with name 'NOPE' not found")),
            present: &[],
            absent: &[],
        },
        Case {
            source: "secret-v2-bridge-service.ts getSecretByName: unknown path",
            auth: Auth::Warden,
            method: Method::GET,
            path: "/api/v4/secrets/NOPE?projectId=664ba048-fc91-4735-8948-7d7d3ee03887&environment=dev&secretPath=/agents/warden/nope",
            body: None,
            status: 404,
            error: Some("GetSecretByName"),
            message: Some(json!(
                "Folder with path '/agents/warden/nope' in environment with slug 'dev' not found"
            )),
            present: &[],
            absent: &[],
        },
        Case {
            source: "v4 secret-router.ts: get without projectId (double space sic)",
            auth: Auth::Warden,
            method: Method::GET,
            path: "/api/v4/secrets/WARDEN_API_KEY?environment=dev&secretPath=/agents/warden",
            body: None,
            status: 400,
            error: Some("BadRequest"),
            message: Some(json!("You must provide  workspaceId")),
            present: &[],
            absent: &[],
        },
        Case {
            source: "sanitizedSchemas.ts: single secret carries secretPath on the current build",
            auth: Auth::Warden,
            method: Method::GET,
            path: "/api/v4/secrets/WARDEN_API_KEY?projectId=664ba048-fc91-4735-8948-7d7d3ee03887&environment=dev&secretPath=/agents/warden",
            body: None,
            status: 200,
            error: None,
            message: None,
            present: &[
                "/secret/secretPath",
                "/secret/tags/0/slug",
                "/secret/tags/0/name",
                "/secret/secretValueHidden",
            ],
            absent: &["/secret/metadata"],
        },
        Case {
            source: "secret-folder-service.ts getFolders: unknown environment",
            auth: Auth::Warden,
            method: Method::GET,
            path: "/api/v2/folders?projectId=664ba048-fc91-4735-8948-7d7d3ee03887&environment=qa",
            body: None,
            status: 404,
            error: Some("NotFound"),
            message: Some(json!("Environment with slug 'qa' not found")),
            present: &[],
            absent: &[],
        },
        Case {
            source: "secret-folder-service.ts getFolders: unknown path is an empty list",
            auth: Auth::Warden,
            method: Method::GET,
            path: "/api/v2/folders?projectId=664ba048-fc91-4735-8948-7d7d3ee03887&environment=dev&path=/nope",
            body: None,
            status: 200,
            error: None,
            message: None,
            present: &["/folders"],
            absent: &["/folders/0"],
        },
        Case {
            source: "secret-folders.ts SecretFoldersSchema: folder keys",
            auth: Auth::Warden,
            method: Method::GET,
            path: "/api/v2/folders?projectId=664ba048-fc91-4735-8948-7d7d3ee03887&environment=dev&path=/agents/warden",
            body: None,
            status: 200,
            error: None,
            message: None,
            present: &[
                "/folders/0/description",
                "/folders/0/lastSecretModified",
                "/folders/0/isReserved",
            ],
            absent: &["/folders/0/relativePath"],
        },
        Case {
            source: "deprecated-project-router.ts: project keys on the current build",
            auth: Auth::Warden,
            method: Method::GET,
            path: "/api/v1/workspace/664ba048-fc91-4735-8948-7d7d3ee03887",
            body: None,
            status: 200,
            error: None,
            message: None,
            present: &[
                "/workspace/defaultProduct",
                "/workspace/hasDeleteProtection",
                "/workspace/environments/2/slug",
            ],
            absent: &[],
        },
        Case {
            source: "routes/index.ts: unknown route is fastify's 404",
            auth: Auth::Warden,
            method: Method::GET,
            path: "/api/v3/nope",
            body: None,
            status: 404,
            error: Some("Not Found"),
            message: Some(json!("Route GET:/api/v3/nope not found")),
            present: &[],
            absent: &["/reqId"],
        },
    ]
}

async fn token(c: &reqwest::Client, v: &RunningVault) -> Res<String> {
    let a: Value = c
        .post(format!("{}/api/v1/auth/universal-auth/login", v.base_url()))
        .json(&json!({"clientId": WARDEN, "clientSecret": test_secret(WARDEN)}))
        .send()
        .await?
        .json()
        .await?;
    Ok(a["accessToken"].as_str().unwrap_or_default().to_owned())
}

#[tokio::test]
async fn the_current_fake_agrees_with_the_known_current_api() -> TestResult {
    let recording = recorded::load(recorded::FIXTURE_2024)?;
    assert_eq!(recording.dataset["project"]["id"], P);
    let v = start(recorded::recorded_vault(&recording.dataset, Generation::Current)?).await?;
    let c = client()?;
    let warden = token(&c, &v).await?;
    let mut problems = Vec::new();
    for case in cases() {
        let mut req = c.request(case.method.clone(), format!("{}{}", v.base_url(), case.path));
        req = match case.auth {
            Auth::None => req,
            Auth::Warden => req.bearer_auth(&warden),
            Auth::Raw("x-api-key") => req.header("x-api-key", "k"),
            Auth::Raw(header) => req.header("authorization", header),
        };
        if let Some(body) = &case.body {
            req = req.json(body);
        }
        let answer = req.send().await?;
        let status = answer.status().as_u16();
        let text = answer.text().await?;
        let body: Value = serde_json::from_str(&text).unwrap_or(Value::Null);
        let mut wrong = Vec::new();
        if status != case.status {
            wrong.push(format!("status {status}, want {}", case.status));
        }
        if let Some(error) = case.error.filter(|e| body["error"] != *e) {
            wrong.push(format!("error {}, want {error}", body["error"]));
        }
        if let Some(message) = case.message.as_ref().filter(|m| body["message"] != **m) {
            wrong.push(format!("message {}, want {message}", body["message"]));
        }
        if case.error.is_some() && !case.absent.contains(&"/reqId") {
            let req_id = body["reqId"].as_str().unwrap_or_default();
            if !(req_id.starts_with("req-") && req_id.len() == 18) {
                wrong.push(format!("reqId {req_id:?} is not req-XXXXXXXXXXXXXX"));
            }
        }
        for pointer in case.present {
            if body.pointer(pointer).is_none() {
                wrong.push(format!("{pointer} missing"));
            }
        }
        for pointer in case.absent {
            if body.pointer(pointer).is_some() {
                wrong.push(format!("{pointer} present"));
            }
        }
        if !wrong.is_empty() {
            problems.push(format!(
                "{} {} ({}): {}\n    body: {text}",
                case.method,
                case.path,
                case.source,
                wrong.join("; ")
            ));
        }
    }

    // Renewal and revocation (identity-access-token-service.ts): warden's TTL
    // equals its max TTL, so renewing would outlive it, and the token dies.
    let renew: Value = c
        .post(format!("{}/api/v1/auth/token/renew", v.base_url()))
        .json(&json!({"accessToken": warden}))
        .send()
        .await?
        .json()
        .await?;
    assert_eq!(
        renew["message"], "Failed to renew MI access token past its Max TTL expiration",
        "{renew}"
    );
    let fresh = token(&c, &v).await?;
    let revoke: Value = c
        .post(format!("{}/api/v1/auth/token/revoke", v.base_url()))
        .json(&json!({"accessToken": fresh}))
        .send()
        .await?
        .json()
        .await?;
    assert_eq!(revoke, json!({"message": "Successfully revoked access token"}));
    let after = c
        .get(format!(
            "{}/api/v4/secrets?projectId={P}&environment=dev&secretPath=/agents/warden",
            v.base_url()
        ))
        .bearer_auth(&fresh)
        .send()
        .await?;
    assert_eq!(after.status(), 401);
    let after: Value = after.json().await?;
    assert_eq!(after["message"], "No identity access token found");

    v.shutdown().await;
    assert!(problems.is_empty(), "{}", problems.join("\n"));
    Ok(())
}
