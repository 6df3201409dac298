//! Reading less from the vault, checked against the fake vault's request
//! log: concurrent identical reads coalesce, the optional cache answers
//! repeats, errors are never cached, and a rate-limited vault is answered
//! from the cache or failed fast.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::time::Duration;

use infisical_fakevault::{CfGate, FakeVault, Identity, PermissionRule, RunningVault, VaultData};
use infisical_mcp_rs::config::{CachePolicy, Credentials, VaultSettings};
use infisical_mcp_rs::scope::SecretPath;
use infisical_mcp_rs::vault::{Location, ReadOptions, VaultClient, VaultError};
use secrecy::{ExposeSecret, SecretString};

const PROJECT: &str = "proj-reuse";

async fn vault() -> RunningVault {
    let data = VaultData::new()
        .project(PROJECT, "p", "p")
        .environment(PROJECT, "dev", "Development")
        .secret(PROJECT, "dev", "/app", "A", "value-A-reuse")
        .secret(PROJECT, "dev", "/app", "B", "value-B-reuse");
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    FakeVault::new(data)
        .gate(CfGate::Off)
        .identity(Identity::new(
            "id",
            "secret",
            vec![PermissionRule::read("dev", "/app/**")],
        ))
        .start(listener)
        .await
        .unwrap()
}

fn client(vault: &RunningVault, ttl: Option<u64>) -> VaultClient {
    let settings = VaultSettings {
        base_url: url::Url::parse(&vault.base_url()).unwrap(),
        cf_access: None,
        user_agent: "reuse-test/1".into(),
        connect_timeout: Duration::from_secs(2),
        call_timeout: Duration::from_secs(5),
        max_response_bytes: 1024 * 1024,
        max_concurrency: 8,
    };
    let credentials = Credentials::UniversalAuth {
        client_id: "id".into(),
        client_secret: SecretString::from("secret"),
    };
    VaultClient::new(&settings, credentials)
        .unwrap()
        .with_cache(CachePolicy {
            ttl: ttl.map(Duration::from_secs),
            max_stale: Duration::from_secs(60),
            ..CachePolicy::default()
        })
}

fn app() -> Location {
    Location {
        project_id: PROJECT.into(),
        environment: "dev".into(),
        path: SecretPath::parse("/app").unwrap(),
    }
}

fn secret_reads(vault: &RunningVault) -> usize {
    vault
        .requests()
        .iter()
        .filter(|r| r.path.starts_with("/api/v4/secrets"))
        .count()
}

#[tokio::test]
async fn fifty_concurrent_identical_reads_make_one_upstream_request() {
    let vault = vault().await;
    let client = client(&vault, None);
    client.authenticate().await.unwrap();
    // Slow answers, so the fifty calls are surely in flight together.
    vault.faults().set_latency(Duration::from_millis(300));
    let at = app();
    let reads = (0..50).map(|_| client.get_secret(&at, "A", ReadOptions::default()));
    let results = futures::future::join_all(reads).await;
    assert!(
        results
            .iter()
            .all(|r| r.as_ref().unwrap().secret_value.expose_secret() == "value-A-reuse")
    );
    assert_eq!(secret_reads(&vault), 1);
    // Different keys are different reads.
    vault.faults().set_latency(Duration::ZERO);
    client.get_secret(&at, "B", ReadOptions::default()).await.unwrap();
    assert_eq!(secret_reads(&vault), 2);
}

#[tokio::test]
async fn without_a_cache_every_sequential_read_goes_upstream() {
    let vault = vault().await;
    let client = client(&vault, None);
    for _ in 0..3 {
        let served = client
            .read_secret(&app(), "A", ReadOptions::default())
            .await
            .unwrap();
        assert!(served.cached_age.is_none());
    }
    assert_eq!(secret_reads(&vault), 3);
}

#[tokio::test]
async fn the_cache_answers_within_its_ttl_and_not_after() {
    let vault = vault().await;
    let client = client(&vault, Some(1));
    let first = client
        .read_secret(&app(), "A", ReadOptions::default())
        .await
        .unwrap();
    assert!(first.cached_age.is_none());
    for _ in 0..4 {
        let again = client
            .read_secret(&app(), "A", ReadOptions::default())
            .await
            .unwrap();
        assert!(again.cached_age.is_some());
        assert_eq!(again.value.secret_value.expose_secret(), "value-A-reuse");
    }
    assert_eq!(secret_reads(&vault), 1);
    // Waiting for the TTL to pass, not for readiness.
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let later = client
        .read_secret(&app(), "A", ReadOptions::default())
        .await
        .unwrap();
    assert!(later.cached_age.is_none());
    assert_eq!(secret_reads(&vault), 2);
}

#[tokio::test]
async fn errors_are_never_cached() {
    let vault = vault().await;
    let client = client(&vault, Some(60));
    for _ in 0..2 {
        let err = client
            .get_secret(&app(), "MISSING", ReadOptions::default())
            .await
            .unwrap_err();
        assert!(matches!(err, VaultError::NotFound { .. }), "{err:?}");
    }
    assert_eq!(secret_reads(&vault), 2);
}

#[tokio::test]
async fn a_rate_limited_vault_is_answered_from_cache_or_failed_fast() {
    let vault = vault().await;
    let client = client(&vault, Some(1));
    client
        .get_secret(&app(), "A", ReadOptions::default())
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_millis(1100)).await;
    vault.faults().rate_limit_next(1);
    let stale = client
        .read_secret(&app(), "A", ReadOptions::default())
        .await
        .unwrap();
    assert!(
        stale.cached_age.unwrap() >= Duration::from_secs(1),
        "served stale, with its age"
    );
    assert_eq!(stale.value.secret_value.expose_secret(), "value-A-reuse");
    let before = secret_reads(&vault);
    let started = std::time::Instant::now();
    let err = client
        .get_secret(&app(), "B", ReadOptions::default())
        .await
        .unwrap_err();
    assert!(
        started.elapsed() < Duration::from_millis(500),
        "did not fail fast"
    );
    match err {
        VaultError::RateLimited { retry_after } => assert!(retry_after.unwrap() > Duration::from_secs(50)),
        other => panic!("{other:?}"),
    }
    assert_eq!(
        secret_reads(&vault),
        before,
        "a rate-limited call still went upstream"
    );
}
