//! No `RUST_LOG` value, however targeted, makes a dependency log a payload,
//! a value, a token or a header: the real binary as an MCP server (stderr
//! and `--log-dir` files), as `demo`, and as a proxy, each run with every
//! filter below, searched for the secret values, the client secret, the
//! Cloudflare secret and the tokens the vault issued.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;
mod proxy_support;

use std::collections::HashMap;

use common::*;
use infisical_fakevault::{self as fakevault, CfGate, Generation, RunningVault};
use serde_json::json;

/// Filters that turned dependency payload logging on before the cap was a
/// filter of its own (an EnvFilter lets its most specific directive win).
const FILTERS: [&str; 10] = [
    "trace",
    "rmcp::service=trace",
    "rmcp=trace",
    "reqwest=trace",
    "hyper=trace",
    "hyper_util=trace",
    "h2=trace",
    "rustls=trace",
    "debug,rmcp::service=trace,hyper_util::client::legacy=trace,reqwest::connect=trace",
    "rmcp::service[serve_inner]=trace",
];

/// Sample-vault values the calls below read.
const VALUES: [&str; 3] = [
    "warden-FAKE-api-token-4Rt7",
    "pg-FAKE-password-Qw3",
    proxy_support::IN_SCOPE_VALUE,
];

/// The base64url of `{"alg":"HS256","typ":"JWT"}`: the start of every
/// access token the fake vault issues.
const JWT_HEAD: &str = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9";

fn assert_clean(what: &str, filter: &str, text: &str, extra: &[String]) {
    let mut needles: Vec<String> = VALUES.iter().map(|s| s.to_string()).collect();
    needles.extend([
        fakevault::DEMO_CLIENT_SECRET.to_string(),
        fakevault::DEMO_CF_CLIENT_SECRET.to_string(),
        JWT_HEAD.to_string(),
    ]);
    needles.extend(extra.iter().cloned());
    assert_absent(&format!("{what} with RUST_LOG={filter}"), text, &needles);
}

fn issued_tokens(vault: &RunningVault) -> Vec<String> {
    vault
        .requests()
        .iter()
        .filter_map(|r| {
            r.header("authorization")
                .map(|v| v.trim_start_matches("Bearer ").to_string())
        })
        .collect()
}

async fn session(env: &HashMap<String, String>, args: &[&str]) -> String {
    let served = serve(env, args).await;
    let get =
        |name: &str, path: &str| json!({"secretName": name, "secretPath": path, "environmentSlug": "dev"});
    for (name, path) in [
        ("WARDEN_API_TOKEN", "/agents/warden"),
        ("DB_URL", "/agents/warden/db"),
    ] {
        let r = served.call("get-secret", get(name, path)).await;
        assert!(!is_error(&r), "{}", text(&r));
    }
    let r = served
        .call(
            "get-secret",
            json!({"secretName": "CF_DNS_EDIT_RAXX_APP", "secretPath": "/MooseQuest/cloudflare", "environmentSlug": "prod"}),
        )
        .await;
    assert!(text(&r).contains(proxy_support::IN_SCOPE_VALUE), "{}", text(&r));
    served
        .call(
            "list-secrets",
            json!({"secretPath": "/agents/warden", "recursive": true}),
        )
        .await;
    let stderr = served.stderr.clone();
    served.client.cancel().await.unwrap();
    let bytes = stderr.lock().unwrap().clone();
    String::from_utf8_lossy(&bytes).into_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn serve_logs_no_secret_under_any_filter() {
    let vault = start_vault(Generation::Current, login_gate()).await;
    for filter in FILTERS {
        let mut env = good_env(&vault);
        env.insert("RUST_LOG".into(), filter.into());
        let stderr = session(&env, &[]).await;
        assert_clean("serve (stderr)", filter, &stderr, &issued_tokens(&vault));

        let dir = tempfile::tempdir().unwrap();
        let stderr = session(&env, &["--log-dir", dir.path().to_str().unwrap()]).await;
        let mut written = stderr;
        for entry in std::fs::read_dir(dir.path()).unwrap() {
            written.push_str(&std::fs::read_to_string(entry.unwrap().path()).unwrap());
        }
        assert_clean("serve (--log-dir)", filter, &written, &issued_tokens(&vault));
    }
    // The filters did log something: the cap removes the payload lines, not
    // the server's own.
    let mut env = good_env(&vault);
    env.insert("RUST_LOG".into(), "trace".into());
    let stderr = session(&env, &[]).await;
    assert!(stderr.contains("TRACE") || stderr.contains("DEBUG"), "{stderr}");
    assert!(
        !stderr
            .lines()
            .any(|l| l.contains(" rmcp") && (l.contains("TRACE") || l.contains("DEBUG"))),
        "an rmcp debug/trace line got through:\n{stderr}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn demo_logs_no_secret_under_any_filter() {
    for filter in FILTERS {
        let env = HashMap::from([("RUST_LOG".to_string(), filter.to_string())]);
        let stderr = session(&env, &["demo"]).await;
        assert_clean("demo", filter, &stderr, &[]);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn proxy_logs_no_secret_under_any_filter() {
    use proxy_support::*;
    let vault = fake_vault_gated().await;
    for filter in FILTERS {
        let base = fake_env(&vault);
        let mut env = env_refs(&base);
        // Our own info line tells the test the port; the filter comes after.
        let with_info = format!("infisical_mcp_rs=info,{filter}");
        env.push(("RUST_LOG", &with_info));
        let mut proxy = spawn_binary(&["proxy", "--listen", "127.0.0.1:0"], &env);
        proxy.wait_listening();
        let token = login(&proxy.url("")).await;
        let r = client()
            .get(proxy.url(&format!(
                "/api/v3/secrets/raw/{IN_SCOPE_KEY}?workspaceId={PROJECT}&environment=prod&secretPath={IN_SCOPE_PATH}"
            )))
            .bearer_auth(&token)
            .header("cookie", "session=cookie-value-LEAK")
            .send()
            .await
            .unwrap();
        assert!(r.text().await.unwrap().contains(IN_SCOPE_VALUE));
        let (status, proxy) = proxy.stop().await;
        assert!(status.success());
        assert_clean(
            "proxy",
            filter,
            &proxy.stderr_text(),
            &[token, "cookie-value-LEAK".to_string()],
        );
    }
}

async fn fake_vault_gated() -> RunningVault {
    start_vault(
        Generation::Current,
        CfGate::LoginRedirect {
            client_id: CF_ID.into(),
            client_secret: CF_SECRET.into(),
        },
    )
    .await
}
