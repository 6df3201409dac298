//! The vault client against answers no real vault would send: numbers out of
//! every range (token lifetimes, versions, import positions, `retry-after`),
//! strings and lists of any length, JSON nested past any parser's depth,
//! bodies cut short. Every call ends in a value or a clean `VaultError`,
//! never a panic. Answers come from a bare loopback HTTP server that replays
//! whatever the case generated.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use common::words;
use infisical_mcp_rs::config::{Credentials, VaultSettings};
use infisical_mcp_rs::scope::SecretPath;
use infisical_mcp_rs::vault::{ListOptions, Location, ReadOptions, VaultClient};
use proptest::prelude::*;
use secrecy::SecretString;
use serde_json::Value;
use tokio::io::AsyncWriteExt;

/// One canned HTTP answer.
#[derive(Debug, Clone)]
struct Canned {
    status: u16,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

/// What the server answers: logins get `login`, everything else `read`.
#[derive(Debug, Clone)]
struct Script {
    login: Canned,
    read: Canned,
}

/// A loopback server answering every request from the shared script, one
/// request per connection.
async fn serve(script: Arc<Mutex<Script>>) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        while let Ok((mut socket, _)) = listener.accept().await {
            let script = script.clone();
            tokio::spawn(async move {
                let Some((text, _body)) = common::read_request(&mut socket).await else {
                    return;
                };
                let canned = {
                    let s = script.lock().unwrap();
                    if text.contains("/auth/") {
                        s.login.clone()
                    } else {
                        s.read.clone()
                    }
                };
                let mut out = format!(
                    "HTTP/1.1 {} Canned\r\ncontent-length: {}\r\nconnection: close\r\n",
                    canned.status,
                    canned.body.len()
                )
                .into_bytes();
                for (k, v) in &canned.headers {
                    out.extend_from_slice(format!("{k}: {v}\r\n").as_bytes());
                }
                out.extend_from_slice(b"\r\n");
                out.extend_from_slice(&canned.body);
                let _ = socket.write_all(&out).await;
                let _ = socket.shutdown().await;
            });
        }
    });
    format!("http://{addr}")
}

fn client(base: &str) -> VaultClient {
    let settings = VaultSettings {
        base_url: url::Url::parse(base).unwrap(),
        cf_access: None,
        user_agent: "props/1".into(),
        connect_timeout: Duration::from_secs(2),
        call_timeout: Duration::from_secs(2),
        max_response_bytes: 1024 * 1024,
        max_concurrency: 4,
    };
    VaultClient::new(
        &settings,
        Credentials::UniversalAuth {
            client_id: "id".into(),
            client_secret: SecretString::from("secret"),
        },
    )
    .unwrap()
}

/// Numbers from every range JSON can spell, and some it cannot hold.
fn number() -> impl Strategy<Value = String> {
    prop_oneof![
        any::<u64>().prop_map(|n| n.to_string()),
        any::<i64>().prop_map(|n| n.to_string()),
        any::<f64>().prop_map(|f| if f.is_finite() {
            format!("{f:e}")
        } else {
            "1e999".into()
        }),
        Just(u64::MAX.to_string()),
        Just("18446744073709551616".into()),
        Just("-0".into()),
        Just("1e308".into()),
        Just("\"3600\"".into()),
        Just("null".into()),
        Just("0".into()),
    ]
}

fn text() -> impl Strategy<Value = Value> {
    prop_oneof![
        4 => words(&["dev", "/app", "/app/../x", "API_KEY"]),
        1 => Just("x".repeat(70_000)),
        1 => ".{0,16}",
    ]
    .prop_map(Value::from)
}

/// JSON shaped like the vault's answers, with any leaf anywhere.
fn answer() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        number().prop_map(|n| serde_json::from_str(&n).unwrap_or(Value::Null)),
        text(),
    ];
    leaf.prop_recursive(5, 48, 5, |inner| {
        let key = words(&[
            "secret",
            "secrets",
            "imports",
            "folders",
            "secretImports",
            "workspace",
            "environments",
            "secretKey",
            "secretValue",
            "secretValueHidden",
            "version",
            "position",
            "importPath",
            "importEnv",
            "slug",
            "name",
            "tags",
            "message",
            "error",
        ]);
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..5).prop_map(Value::Array),
            prop::collection::vec((key, inner), 0..6).prop_map(|p| Value::Object(p.into_iter().collect())),
        ]
    })
}

/// A body: an answer-shaped value, the same cut short, or nesting past any
/// parser's limit.
fn body() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        4 => answer().prop_map(|v| v.to_string().into_bytes()),
        1 => answer().prop_map(|v| {
            let s = v.to_string().into_bytes();
            s[..s.len() / 2].to_vec()
        }),
        1 => (1usize..5000).prop_map(|d| format!("{{\"secrets\":{}{}}}", "[".repeat(d), "]".repeat(d)).into_bytes()),
        1 => prop::collection::vec(any::<u8>(), 0..64),
    ]
}

/// Statuses that end a call at once (no retry backoff to wait out), with
/// the headers the client reads.
fn canned() -> impl Strategy<Value = Canned> {
    let status = prop_oneof![
        Just(200u16),
        Just(302),
        Just(400),
        Just(401),
        Just(403),
        Just(404),
        Just(422),
        Just(429),
    ];
    let retry_after = prop_oneof![
        Just(None),
        Just(Some(u64::MAX.to_string())),
        Just(Some("99999999999999999999".to_string())),
        Just(Some("-1".to_string())),
        Just(Some("Wed, 21 Oct 2015 07:28:00 GMT".to_string())),
        (3600u64..u64::MAX).prop_map(|n| Some(n.to_string())),
    ];
    let content_type = prop::sample::select(vec![
        "application/json",
        "text/html",
        "application/json; charset=utf-8",
    ]);
    (status, retry_after, content_type, body()).prop_map(|(status, retry_after, content_type, body)| {
        let mut headers = vec![("content-type".to_string(), content_type.to_string())];
        // A rate limit without a wait the client can read is waited out a
        // second at a time: each 429 here names one past the call budget.
        let retry_after = match (status, retry_after) {
            (429, Some(r)) if r.parse::<u64>().is_ok() => Some(r),
            (429, _) => Some(u64::MAX.to_string()),
            (_, r) => r,
        };
        if let Some(r) = retry_after {
            headers.push(("retry-after".into(), r));
            headers.push(("x-ratelimit-remaining".into(), "0".into()));
        }
        if status == 302 {
            headers.push((
                "location".into(),
                "https://team.cloudflareaccess.com/cdn-cgi/access/login".into(),
            ));
        }
        Canned {
            status,
            headers,
            body,
        }
    })
}

/// A login answer: Infisical's token JSON with lifetimes anywhere in the
/// range it allows, with numbers it does not, or anything at all.
fn login() -> impl Strategy<Value = Canned> {
    let lifetime = prop_oneof![
        any::<u64>().prop_map(|n| n.to_string()),
        Just(u64::MAX.to_string()),
        Just("0".to_string()),
        (1u64..100_000).prop_map(|n| n.to_string()),
    ];
    prop_oneof![
        4 => (lifetime.clone(), lifetime).prop_map(|(ttl, max)| Canned {
            status: 200,
            headers: vec![("content-type".into(), "application/json".into())],
            body: format!(
                r#"{{"accessToken":"tok","expiresIn":{ttl},"accessTokenMaxTTL":{max},"tokenType":"Bearer"}}"#
            )
            .into_bytes(),
        }),
        1 => (number(), number()).prop_map(|(ttl, max)| Canned {
            status: 200,
            headers: vec![("content-type".into(), "application/json".into())],
            body: format!(
                r#"{{"accessToken":"tok","expiresIn":{ttl},"accessTokenMaxTTL":{max},"tokenType":"Bearer"}}"#
            )
            .into_bytes(),
        }),
        1 => canned(),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn any_vault_answer_ends_in_a_value_or_a_clean_error(login in login(), read in canned()) {
        let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        runtime.block_on(async {
            let script = Arc::new(Mutex::new(Script { login, read }));
            let client = client(&serve(script).await);
            let at = Location {
                project_id: "p".into(),
                environment: "dev".into(),
                path: SecretPath::parse("/app").unwrap(),
            };
            let outcomes = [
                client.read_secret(&at, "API_KEY", ReadOptions::default()).await.err(),
                client.read_secrets(&at, ListOptions::default()).await.err(),
                client.read_metadata(&at, true).await.err(),
                client.read_folders(&at, false).await.err(),
                client.read_imports(&at).await.err(),
                client.project_environments("p").await.err(),
                client.status().await.err(),
            ];
            for e in outcomes.into_iter().flatten() {
                // Every failure says what happened and what to do.
                assert!(!e.to_string().is_empty() && !e.hint().is_empty() && !e.kind().is_empty());
            }
        });
    }
}
