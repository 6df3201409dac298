//! The admin calls against the 2024 build's recorded answers
//! (`recorded-2024-10.json` beside this file), replayed in order
//! by a tiny server that also checks the requests: not against the fake
//! vault, so that a belief shared by the fake and the client cannot hide.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
use std::collections::VecDeque;
use std::sync::{Arc, Mutex};

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{Method as AxMethod, StatusCode as AxStatus, Uri};
use serde_json::Value;

use reqwest::StatusCode;
use secrecy::{ExposeSecret, SecretString};

use super::SecretAt;
use crate::config::{Credentials, VaultSettings};
use crate::vault::call::{is_missing_route, is_token_refusal};
use crate::vault::http::{Answer, ApiError};
use crate::vault::{VaultClient, VaultError};

const RECORDED: &str = include_str!("recorded-2024-10.json");
const PROJECT: &str = "664ba048-fc91-4735-8948-7d7d3ee03887";
const AGENT: &str = "8908b15d-be6d-4ab1-be77-c30d9612df20";

fn record(case: &str) -> Value {
    let all: Value = serde_json::from_str(RECORDED).unwrap();
    all["records"][case].clone()
}

type Seen = Arc<Mutex<Vec<(String, String, Value)>>>;

#[derive(Clone)]
struct Replay {
    queue: Arc<Mutex<VecDeque<&'static str>>>,
    seen: Seen,
}

async fn answer(
    State(r): State<Replay>,
    method: AxMethod,
    uri: Uri,
    body: Bytes,
) -> (AxStatus, [(&'static str, &'static str); 1], String) {
    let case = r
        .queue
        .lock()
        .unwrap()
        .pop_front()
        .unwrap_or_else(|| panic!("unexpected {method} {uri}"));
    let rec = record(case);
    let recorded_path = rec["url"].as_str().unwrap().split('?').next().unwrap().to_owned();
    assert_eq!(
        (method.as_str(), uri.path()),
        (rec["method"].as_str().unwrap(), recorded_path.as_str()),
        "request for case {case}"
    );
    let sent = serde_json::from_slice(&body).unwrap_or(Value::Null);
    r.seen
        .lock()
        .unwrap()
        .push((method.to_string(), uri.to_string(), sent));
    let status = AxStatus::from_u16(u16::try_from(rec["status"].as_u64().unwrap()).unwrap()).unwrap();
    (
        status,
        [("content-type", "application/json; charset=utf-8")],
        rec["body"].to_string(),
    )
}

async fn replay(cases: &[&'static str]) -> (VaultClient, Replay) {
    let state = Replay {
        queue: Arc::new(Mutex::new(cases.iter().copied().collect())),
        seen: Arc::default(),
    };
    let app = axum::Router::new().fallback(answer).with_state(state.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await });
    let settings = VaultSettings {
        base_url: url::Url::parse(&format!("http://{addr}")).unwrap(),
        cf_access: None,
        user_agent: crate::config::default_user_agent(),
        connect_timeout: std::time::Duration::from_secs(2),
        call_timeout: std::time::Duration::from_secs(10),
        max_response_bytes: 1 << 20,
        max_concurrency: 4,
    };
    let credentials = Credentials::UniversalAuth {
        client_id: "89e3718c-be88-4a85-927f-7a452dde22d7".into(),
        client_secret: SecretString::from("admin-mi-secret"),
    };
    (VaultClient::new(&settings, credentials).unwrap(), state)
}

#[tokio::test]
async fn privileges_move_to_the_v1_routes_once_on_the_2024_build() {
    let (api, replay) = replay(&[
        "admin-mi-login",
        "prov-get-project",
        "prov-privilege-v2",
        "prov-privilege-v1-permissions",
        "prov-privilege-list",
    ])
    .await;
    let project = api.project(PROJECT).await.unwrap();
    assert_eq!(project.org_id, "848a7218-65d8-4f61-aa6b-8f9c7a6f2dec");
    assert_eq!(project.slug, "oracle-project");
    assert_eq!(project.environments, ["dev", "staging", "prod"]);
    assert!(!api.legacy_privileges());
    let made = api
        .create_privilege(
            &project,
            AGENT,
            "mcp-probe-agent-read",
            "prod",
            "/MooseQuest/raxx-dev-bot/**",
        )
        .await
        .unwrap();
    assert_eq!(made.slug, "mcp-probe-agent-read");
    assert!(api.legacy_privileges());
    let listed = api.privileges(&project, AGENT).await.unwrap();
    assert_eq!(
        listed.iter().map(|p| p.slug.as_str()).collect::<Vec<_>>(),
        ["mcp-probe-agent-read", "mcp-probe-agent-read-pp"]
    );
    assert!(
        replay.queue.lock().unwrap().is_empty(),
        "every recorded step was asked for"
    );
    let seen = replay.seen.lock().unwrap();
    // The body the 2024 build accepted: projectSlug, one action string.
    let v1 = &seen[3].2;
    assert_eq!(v1["projectSlug"], "oracle-project");
    assert_eq!(v1["permissions"][0]["action"], "read");
    assert_eq!(
        v1["permissions"][0]["conditions"]["secretPath"]["$glob"],
        "/MooseQuest/raxx-dev-bot/**"
    );
    assert_eq!(v1, &record("prov-privilege-v1-permissions")["request"]);
}

#[tokio::test]
async fn identity_steps_parse_the_recorded_answers() {
    let (api, _replay) = replay(&[
        "admin-mi-login",
        "prov-create-identity",
        "prov-ua-attach",
        "prov-client-secret",
        "identities-after-cleanup",
        "prov-ua-get",
        "prov-membership",
        "clean-client-secret-revoke",
        "clean-client-secrets-list",
        "clean-membership-delete-again",
        "err-secret-exists",
    ])
    .await;
    let org = "848a7218-65d8-4f61-aa6b-8f9c7a6f2dec";
    assert_eq!(
        api.create_identity(org, "infisical-identity-mcp-probe-agent")
            .await
            .unwrap(),
        AGENT
    );
    let ua = api
        .attach_universal_auth(AGENT, 3600, 7200, &["0.0.0.0/0".into(), "::/0".into()])
        .await
        .unwrap();
    assert_eq!(
        (ua.client_id.as_str(), ua.ttl, ua.max_ttl),
        ("72168a8a-aef7-4d33-b4a5-543257833a4b", 3600, 7200)
    );
    let secret = api.create_client_secret(AGENT, "prod 2026-12-01").await.unwrap();
    assert_eq!(secret.id, "e7baa900-1fca-4816-aeff-16fedaf88d15");
    assert_eq!(
        secret.secret.expose_secret(),
        "<redacted>",
        "the top-level clientSecret"
    );
    assert_eq!(
        api.identities_named(org, "warden-ro").await.unwrap(),
        ["ee3f92e3-a7f0-45ba-8b84-2b8042bc2f06"]
    );
    assert_eq!(
        api.universal_auth(AGENT).await.unwrap().unwrap().client_id,
        ua.client_id
    );
    api.create_membership(PROJECT, AGENT).await.unwrap();
    api.revoke_client_secret(AGENT, &secret.id).await.unwrap();
    assert_eq!(
        api.client_secret_ids(AGENT).await.unwrap(),
        std::slice::from_ref(&secret.id)
    );
    assert!(
        !api.delete_membership(PROJECT, AGENT).await.unwrap(),
        "a 404 means already gone"
    );
    let at = SecretAt {
        project_id: PROJECT,
        environment: "prod",
        path: "/MooseQuest/identities/infisical-identity-mcp-probe-agent",
        key: "MCP_PROBE_AGENT_CLIENT_ID",
    };
    // provision's store step turns this 400 into a PATCH.
    let exists = api.create_secret(&at, &SecretString::from("x")).await;
    assert!(
        matches!(exists, Err(VaultError::BadRequest { status: 400, .. })),
        "{exists:?}"
    );
}

fn answer_of(case: &str) -> (Answer, ApiError) {
    let rec = record(case);
    let answer = Answer {
        status: StatusCode::from_u16(u16::try_from(rec["status"].as_u64().unwrap()).unwrap()).unwrap(),
        headers: reqwest::header::HeaderMap::new(),
        body: rec["body"].to_string().into_bytes(),
    };
    let error = answer.api_error();
    (answer, error)
}

#[test]
fn only_token_401s_trigger_a_new_login() {
    for (case, refusal) in [
        ("clean-token-after-identity-delete", true),
        ("err-privilege-no-permissions", false),
        ("prov-privilege-v1-with-v2-body", false),
        ("clean-privilege-delete-again", false),
    ] {
        let (answer, error) = answer_of(case);
        assert_eq!(is_token_refusal(&answer, &error), refusal, "{case}");
    }
    let (answer, error) = answer_of("prov-privilege-v2");
    assert!(is_missing_route(&answer, &error));
    let (answer, error) = answer_of("clean-membership-delete-again");
    assert!(
        !is_missing_route(&answer, &error),
        "a missing resource is not a missing route"
    );
}
