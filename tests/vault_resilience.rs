//! The vault client against injected faults: flaky gateways are retried,
//! rate limits are reported with their wait, tokens are renewed before they
//! lapse, and nothing is retried without end.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::time::Duration;

use infisical_mcp_rs::config::{CfAccess, Credentials, VaultSettings};
use infisical_mcp_rs::fakevault::{
    CfGate, FakeVault, Generation, Identity, PermissionRule, RunningVault, VaultData,
};
use infisical_mcp_rs::scope::SecretPath;
use infisical_mcp_rs::vault::{Location, ReadOptions, VaultClient, VaultError};
use secrecy::SecretString;

const PROJECT: &str = "proj-resilience";
const ID: &str = "ua-resilience";
const SECRET: &str = "ua-resilience-secret-XYZ";
const CF_ID: &str = "cf-id.access";
const CF_SECRET: &str = "cf-secret-resilience";

async fn vault(generation: Generation, identity: Identity) -> RunningVault {
    let data = VaultData::new()
        .project(PROJECT, "p", "p")
        .environment(PROJECT, "dev", "Development")
        .secret(PROJECT, "dev", "/app", "API_KEY", "value-RES-1");
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    FakeVault::new(data)
        .generation(generation)
        .gate(CfGate::LoginRedirect {
            client_id: CF_ID.into(),
            client_secret: CF_SECRET.into(),
        })
        .identity(identity)
        .start(listener)
        .await
        .unwrap()
}

fn identity() -> Identity {
    Identity::new(ID, SECRET, vec![PermissionRule::read("dev", "/app/**")])
}

fn client(vault: &RunningVault, call_timeout: Duration) -> VaultClient {
    let settings = VaultSettings {
        base_url: url::Url::parse(&vault.base_url()).unwrap(),
        cf_access: Some(CfAccess {
            client_id: CF_ID.into(),
            client_secret: SecretString::from(CF_SECRET),
        }),
        user_agent: "resilience-test/1".into(),
        connect_timeout: Duration::from_secs(2),
        call_timeout,
        max_response_bytes: 1024 * 1024,
        max_concurrency: 8,
    };
    VaultClient::new(
        &settings,
        Credentials::UniversalAuth {
            client_id: ID.into(),
            client_secret: SecretString::from(SECRET),
        },
    )
    .unwrap()
}

fn app() -> Location {
    Location {
        project_id: PROJECT.into(),
        environment: "dev".into(),
        path: SecretPath::parse("/app").unwrap(),
    }
}

async fn read(client: &VaultClient) -> Result<String, VaultError> {
    use secrecy::ExposeSecret;
    client
        .get_secret(&app(), "API_KEY", ReadOptions::default())
        .await
        .map(|s| s.secret_value.expose_secret().to_string())
}

#[tokio::test]
async fn gateway_errors_and_dropped_connections_are_retried() {
    let vault = vault(Generation::Current, identity()).await;
    let client = client(&vault, Duration::from_secs(10));
    read(&client).await.unwrap();
    for status in [502, 503, 504] {
        vault.faults().fail_next(2, status);
        assert_eq!(read(&client).await.unwrap(), "value-RES-1", "after two {status}s");
    }
    vault.faults().drop_next(2);
    assert_eq!(
        read(&client).await.unwrap(),
        "value-RES-1",
        "after two dropped connections"
    );
}

#[tokio::test]
async fn retries_are_bounded_and_end_in_a_clear_error() {
    let vault = vault(Generation::Current, identity()).await;
    let client = client(&vault, Duration::from_secs(10));
    read(&client).await.unwrap();
    vault.clear_requests();
    vault.faults().fail_next(100, 503);
    let err = read(&client).await.unwrap_err();
    assert!(matches!(err, VaultError::Unreachable { .. }), "{err:?}");
    let attempts = vault.requests().len();
    assert!((2..=4).contains(&attempts), "{attempts} attempts");
    vault.faults().clear();
    assert_eq!(
        read(&client).await.unwrap(),
        "value-RES-1",
        "recovers once the vault is back"
    );
}

#[tokio::test]
async fn a_rate_limit_longer_than_the_budget_fails_fast_with_its_wait() {
    for generation in [Generation::Current, Generation::Legacy] {
        let vault = vault(generation, identity()).await;
        let client = client(&vault, Duration::from_secs(5));
        read(&client).await.unwrap();
        vault.faults().rate_limit_next(1);
        let started = std::time::Instant::now();
        let err = read(&client).await.unwrap_err();
        assert!(
            started.elapsed() < Duration::from_secs(2),
            "waited instead of failing fast"
        );
        match &err {
            VaultError::RateLimited { retry_after } => {
                assert_eq!(*retry_after, Some(Duration::from_secs(60)))
            }
            other => panic!("{generation:?}: {other:?}"),
        }
        assert!(err.to_string().contains("retry in 60 s"), "{err}");
    }
}

#[tokio::test]
async fn a_short_rate_limit_is_waited_out() {
    let vault = vault(Generation::Current, identity()).await;
    let client = client(&vault, Duration::from_secs(5));
    read(&client).await.unwrap();
    vault.faults().rate_limit_next_with(1, 1, None);
    assert_eq!(read(&client).await.unwrap(), "value-RES-1");
}

#[tokio::test]
async fn a_token_near_expiry_is_renewed_not_replaced() {
    // A 1 s TTL: renewal is due after 0.75 s. This waits for the clock, not
    // for readiness.
    let identity = identity().ttl(Duration::from_secs(1), Duration::from_secs(60));
    let vault = vault(Generation::Current, identity).await;
    let client = client(&vault, Duration::from_secs(5));
    read(&client).await.unwrap();
    tokio::time::sleep(Duration::from_millis(850)).await;
    read(&client).await.unwrap();
    assert_eq!(vault.login_count(), 1);
    assert!(
        vault
            .requests()
            .iter()
            .any(|r| r.path.ends_with("/auth/token/renew")),
        "no renewal seen"
    );
    assert_eq!(client.login_count(), 1);
}

#[tokio::test]
async fn a_token_at_its_max_ttl_is_replaced_by_a_login_not_renewed() {
    // TTL == max TTL: renewing would fail (and older vaults delete the token).
    let identity = identity().ttl(Duration::from_secs(1), Duration::from_secs(1));
    let vault = vault(Generation::Legacy, identity).await;
    let client = client(&vault, Duration::from_secs(5));
    read(&client).await.unwrap();
    tokio::time::sleep(Duration::from_millis(850)).await;
    read(&client).await.unwrap();
    assert_eq!(vault.login_count(), 2);
    assert!(
        !vault
            .requests()
            .iter()
            .any(|r| r.path.ends_with("/auth/token/renew"))
    );
}

#[tokio::test]
async fn a_slow_vault_hits_the_call_budget_not_a_hang() {
    let vault = vault(Generation::Current, identity()).await;
    let client = client(&vault, Duration::from_millis(700));
    read(&client).await.unwrap();
    vault.faults().set_latency(Duration::from_secs(3));
    let started = std::time::Instant::now();
    let err = read(&client).await.unwrap_err();
    assert!(matches!(err, VaultError::Timeout(_)), "{err:?}");
    assert!(started.elapsed() < Duration::from_secs(2));
}

#[tokio::test]
async fn the_cf_gate_flipping_to_reject_is_reported_then_recovered() {
    let vault = vault(Generation::Current, identity()).await;
    let client = client(&vault, Duration::from_secs(5));
    read(&client).await.unwrap();
    vault.set_gate(CfGate::ServiceAuthOnly {
        client_id: CF_ID.into(),
        client_secret: "rotated".into(),
    });
    assert!(matches!(
        read(&client).await,
        Err(VaultError::CloudflareAccessRejected { .. })
    ));
    vault.set_gate(CfGate::LoginRedirect {
        client_id: CF_ID.into(),
        client_secret: CF_SECRET.into(),
    });
    assert_eq!(read(&client).await.unwrap(), "value-RES-1");
}

/// A flaky tunnel: before each of 150 calls, the next request fails with a
/// gateway 5xx (30 %), is dropped (5 %) or is rate limited for 1 s (3 %);
/// tokens expire now and then (2 %). Every answer must be the right value
/// or a clear error; the success rate is printed for the issue note.
#[tokio::test]
async fn a_flaky_vault_never_yields_a_wrong_answer() {
    let vault = vault(Generation::Current, identity()).await;
    let client = client(&vault, Duration::from_secs(10));
    let (mut ok, mut failed) = (0u32, Vec::new());
    for _ in 0..150 {
        let roll: f64 = rand::random();
        match roll {
            r if r < 0.30 => vault
                .faults()
                .fail_next(1, [502, 503, 504][rand::random_range(0..3)]),
            r if r < 0.35 => vault.faults().drop_next(1),
            r if r < 0.38 => vault.faults().rate_limit_next_with(1, 1, None),
            r if r < 0.40 => vault.expire_tokens(),
            _ => {}
        }
        match read(&client).await {
            Ok(value) => {
                assert_eq!(value, "value-RES-1", "a wrong answer under faults");
                ok += 1;
            }
            Err(e) => failed.push(e.kind()),
        }
    }
    eprintln!("flaky vault: {ok}/150 calls succeeded; failures: {failed:?}");
    assert!(ok >= 147, "only {ok}/150 succeeded: {failed:?}");
}
