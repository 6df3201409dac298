//! `github-token` end to end: the real binary against the fake vault (behind
//! the fake Cloudflare gate) and a fake GitHub API on loopback that verifies
//! the App JWT with the public key, as GitHub does. One row per failure of
//! the mint runbook's table (docs/runbook-modes.md), and a leak check at RUST_LOG=trace.
//!
//! Keys are throwaway RSA keys generated once per test run, never stored.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{SystemTime, UNIX_EPOCH};

use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::{Json, Router};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use common::{CF_ID, CF_SECRET, Run, login_gate, run_bin, start, vault_env, vault_reads};
use infisical_fakevault::{CfGate, FakeVault, Generation, Identity, PermissionRule, RunningVault, VaultData};
use rsa::pkcs1::EncodeRsaPrivateKey;
use rsa::pkcs1v15::{Signature, VerifyingKey};
use rsa::pkcs8::{EncodePrivateKey, LineEnding};
use rsa::sha2::Sha256;
use rsa::signature::Verifier;
use rsa::{RsaPrivateKey, RsaPublicKey};
use serde_json::{Value, json};

const PROJECT: &str = "proj-mq-0001";
const CLIENT_ID: &str = "ua-dispatcher-0001";
const CLIENT_SECRET: &str = "ua-dispatcher-SECRET-9f2c";
const APP_ID: &str = "3501352";
const INSTALLATION_ID: u64 = 61_508_217;
const TOKEN: &str = "ghs_FAKEtokenMINTEDbyTHEfakeGITHUB0123";
const EXPIRES_AT: &str = "2030-01-01T12:00:00Z";

struct TestKey {
    pkcs1: String,
    pkcs8: String,
    public: RsaPublicKey,
}

/// One 2048-bit key for the whole run (the size GitHub issues).
fn key() -> &'static TestKey {
    static KEY: OnceLock<TestKey> = OnceLock::new();
    KEY.get_or_init(|| {
        let private = RsaPrivateKey::new(&mut rsa::rand_core::OsRng, 2048).unwrap();
        TestKey {
            pkcs1: private.to_pkcs1_pem(LineEnding::LF).unwrap().to_string(),
            pkcs8: private.to_pkcs8_pem(LineEnding::LF).unwrap().to_string(),
            public: private.to_public_key(),
        }
    })
}

/// A line from the middle of a PEM: key material that must never be echoed.
fn pem_body_lines(pem: &str) -> Vec<String> {
    pem.lines()
        .filter(|l| !l.starts_with("-----"))
        .map(str::to_string)
        .collect()
}

// ---------------------------------------------------------------- fake GitHub

/// What the fake GitHub saw of one mint request.
#[derive(Clone, Debug)]
struct Seen {
    installation_id: u64,
    jwt: String,
    /// `Ok` when headers, signature and claims all pass GitHub's rules.
    verdict: Result<Value, String>,
}

struct GithubState {
    public: RsaPublicKey,
    seen: Mutex<Vec<Seen>>,
}

fn now() -> i64 {
    SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_secs() as i64
}

/// GitHub's checks on an App JWT, with the answer's claims on success.
fn verify(headers: &HeaderMap, jwt: &str, public: &RsaPublicKey) -> Result<Value, String> {
    let header = |n: &str| headers.get(n).and_then(|v| v.to_str().ok()).unwrap_or_default();
    if header("accept") != "application/vnd.github+json" {
        return Err(format!("accept was {:?}", header("accept")));
    }
    if header("x-github-api-version") != "2022-11-28" {
        return Err("no X-GitHub-Api-Version".into());
    }
    if header("user-agent").is_empty() {
        return Err("no User-Agent (GitHub refuses those)".into());
    }
    let parts: Vec<&str> = jwt.split('.').collect();
    let [head, body, sig] = parts[..] else {
        return Err("not three JWT parts".into());
    };
    let head: Value = serde_json::from_slice(&URL_SAFE_NO_PAD.decode(head).map_err(|e| e.to_string())?)
        .map_err(|e| e.to_string())?;
    if head["alg"] != "RS256" {
        return Err(format!("alg {}", head["alg"]));
    }
    let signature = Signature::try_from(URL_SAFE_NO_PAD.decode(sig).map_err(|e| e.to_string())?.as_slice())
        .map_err(|e| e.to_string())?;
    VerifyingKey::<Sha256>::new(public.clone())
        .verify(format!("{}.{body}", parts[0]).as_bytes(), &signature)
        .map_err(|_| "signature does not verify with the App's public key".to_string())?;
    let claims: Value = serde_json::from_slice(&URL_SAFE_NO_PAD.decode(body).map_err(|e| e.to_string())?)
        .map_err(|e| e.to_string())?;
    let (iat, exp) = (
        claims["iat"].as_i64().ok_or("no iat")?,
        claims["exp"].as_i64().ok_or("no exp")?,
    );
    if claims["iss"] != APP_ID {
        return Err(format!("iss {} is not the App", claims["iss"]));
    }
    if (iat - (now() - 60)).abs() > 5 {
        return Err(format!("iat {iat} is not backdated ~60 s from {}", now()));
    }
    if exp - iat > 600 || exp <= now() {
        return Err(format!("exp {exp} out of GitHub's window (iat {iat})"));
    }
    Ok(claims)
}

async fn access_tokens(
    State(state): State<Arc<GithubState>>,
    Path(installation_id): Path<u64>,
    headers: HeaderMap,
) -> Response {
    let jwt = headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .unwrap_or_default()
        .to_string();
    let verdict = verify(&headers, &jwt, &state.public);
    state.seen.lock().unwrap().push(Seen {
        installation_id,
        jwt,
        verdict: verdict.clone(),
    });
    let docs = "https://docs.github.com/rest";
    if verdict.is_err() {
        let body = json!({"message": "A JSON web token could not be decoded", "documentation_url": docs});
        return (StatusCode::UNAUTHORIZED, Json(body)).into_response();
    }
    if installation_id != INSTALLATION_ID {
        let body = json!({"message": "Not Found", "documentation_url": docs});
        return (StatusCode::NOT_FOUND, Json(body)).into_response();
    }
    let body = json!({
        "token": TOKEN,
        "expires_at": EXPIRES_AT,
        "permissions": {"contents": "read", "issues": "write"},
        "repository_selection": "selected"
    });
    (StatusCode::CREATED, Json(body)).into_response()
}

struct FakeGithub {
    url: String,
    state: Arc<GithubState>,
}

impl FakeGithub {
    async fn start() -> Self {
        let state = Arc::new(GithubState {
            public: key().public.clone(),
            seen: Mutex::new(Vec::new()),
        });
        let app = Router::new()
            .route("/app/installations/{id}/access_tokens", post(access_tokens))
            .with_state(state.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, app).await });
        Self { url, state }
    }

    fn seen(&self) -> Vec<Seen> {
        self.state.seen.lock().unwrap().clone()
    }
}

// ---------------------------------------------------------------- fake vault

const READABLE_BOTS: [&str; 7] = [
    "raxx-dev-bot",
    "raxx-ops-bot",
    "raxx-pm-bot",
    "renamed-bot",
    "badpem-bot",
    "wrongapp-bot",
    "uninstalled-bot",
];

fn bot(data: VaultData, name: &str, app_id: &str, installation_id: &str, pem: &str) -> VaultData {
    let path = format!("/MooseQuest/{name}");
    data.folder(PROJECT, "prod", &path)
        .secret(PROJECT, "prod", &path, "APP_ID", app_id)
        .secret(PROJECT, "prod", &path, "INSTALLATION_ID", installation_id)
        .secret(PROJECT, "prod", &path, "PRIVATE_KEY_PEM", pem)
}

fn data() -> VaultData {
    let k = key();
    let installed = INSTALLATION_ID.to_string();
    let data = VaultData::new()
        .project(PROJECT, "MooseQuest", "moosequest")
        .environment(PROJECT, "dev", "Development")
        .environment(PROJECT, "prod", "Production");
    let data = bot(data, "raxx-dev-bot", APP_ID, &installed, &k.pkcs1);
    let data = bot(data, "raxx-ops-bot", APP_ID, &installed, &k.pkcs8);
    // As the runbook shows it: one line with literal \n sequences.
    let data = bot(
        data,
        "raxx-pm-bot",
        APP_ID,
        &installed,
        &k.pkcs1.replace('\n', "\\n"),
    );
    let data = bot(data, "wrongapp-bot", "999999", &installed, &k.pkcs1);
    let data = bot(data, "uninstalled-bot", APP_ID, "404404", &k.pkcs1);
    let data = bot(data, "locked-bot", APP_ID, &installed, &k.pkcs1);
    let broken_pem =
        "-----BEGIN RSA PRIVATE KEY-----\nTm90QW5SU0FLZXlBdEFsbA==\n-----END RSA PRIVATE KEY-----";
    let data = bot(data, "badpem-bot", APP_ID, &installed, broken_pem);
    // Stored under the original provisioning runbook's names.
    data.folder(PROJECT, "prod", "/MooseQuest/renamed-bot")
        .secret(PROJECT, "prod", "/MooseQuest/renamed-bot", "APP_ID", APP_ID)
        .secret(PROJECT, "prod", "/MooseQuest/renamed-bot", "installation-id", "1")
        .secret(
            PROJECT,
            "prod",
            "/MooseQuest/renamed-bot",
            "private-key",
            &k.pkcs1,
        )
}

/// Read on every bot folder but `locked-bot`, as the runbook grants it.
fn identity() -> Identity {
    let rules = READABLE_BOTS
        .iter()
        .map(|b| PermissionRule::read("prod", &format!("/MooseQuest/{b}/**")))
        .collect();
    Identity::new(CLIENT_ID, CLIENT_SECRET, rules)
}

async fn vault(generation: Generation, gate: CfGate) -> RunningVault {
    vault_as(generation, gate, identity()).await
}

/// The fake vault behind the Access gate, and a fake GitHub.
async fn both(generation: Generation) -> (RunningVault, FakeGithub) {
    (vault(generation, login_gate()).await, FakeGithub::start().await)
}

async fn vault_as(generation: Generation, gate: CfGate, identity: Identity) -> RunningVault {
    start(
        FakeVault::new(data())
            .generation(generation)
            .gate(gate)
            .identity(identity),
    )
    .await
}

/// The runbook's shell: universal auth under the short variable names, CF
/// token, project; trace logging.
fn env(vault: &RunningVault) -> HashMap<String, String> {
    let mut env = vault_env(vault, CLIENT_ID, CLIENT_SECRET, PROJECT);
    for (long, short) in [
        ("INFISICAL_UNIVERSAL_AUTH_CLIENT_ID", "INFISICAL_CLIENT_ID"),
        (
            "INFISICAL_UNIVERSAL_AUTH_CLIENT_SECRET",
            "INFISICAL_CLIENT_SECRET",
        ),
    ] {
        let value = env.remove(long).unwrap();
        env.insert(short.into(), value);
    }
    env.insert("INFISICAL_PATH_PREFIX".into(), "/MooseQuest/".into());
    env
}

async fn run(env: &HashMap<String, String>, bot: &str, github: &str, extra: &[&str]) -> Run {
    let mut args = vec!["github-token", "--bot", bot, "--github-api-url", github];
    args.extend_from_slice(extra);
    run_bin(env, &args).await
}

/// A failure: exit 1, nothing on stdout, the message and its fix on stderr,
/// no panic or backtrace.
fn assert_failure(r: &Run, message: &str, fix: &str) {
    assert_eq!(r.code, 1, "stderr: {}", r.stderr);
    assert_eq!(r.stdout, "", "stdout must stay empty on failure");
    let line = r
        .stderr
        .lines()
        .find(|l| l.starts_with("infisical-mcp-rs github-token: "))
        .unwrap_or_else(|| panic!("no failure line in: {}", r.stderr));
    assert!(line.contains(message), "{line:?} lacks {message:?}");
    let fix_line = r
        .stderr
        .lines()
        .find(|l| l.trim_start().starts_with("fix: "))
        .unwrap();
    assert!(fix_line.contains(fix), "{fix_line:?} lacks {fix:?}");
    assert!(!r.stderr.contains("panicked") && !r.stderr.contains("stack backtrace"));
}

// ---------------------------------------------------------------- happy paths

#[tokio::test]
async fn pkcs1_key_mints_a_token_with_a_jwt_github_accepts() {
    let (vault, github) = both(Generation::Current).await;
    let r = run(&env(&vault), "raxx-dev-bot", &github.url, &[]).await;

    assert_eq!(r.code, 0, "stderr: {}", r.stderr);
    assert_eq!(r.stdout, format!("{TOKEN}\n"), "stdout holds the token line only");
    let seen = github.seen();
    assert_eq!(seen.len(), 1);
    assert_eq!(seen[0].installation_id, INSTALLATION_ID);
    let claims = seen[0].verdict.clone().unwrap();
    assert_eq!(claims["iss"], APP_ID);
    // One login and one listing with values: no per-key reads.
    assert_eq!(vault_reads(&vault), vec!["GET /api/v4/secrets".to_string()]);
    let list = vault
        .requests()
        .into_iter()
        .find(|r| r.path == "/api/v4/secrets")
        .unwrap();
    assert_eq!(list.query_param("secretPath"), Some("/MooseQuest/raxx-dev-bot"));
    assert_eq!(list.query_param("environment"), Some("prod"));
    assert_eq!(list.query_param("viewSecretValue"), Some("true"));
}

#[tokio::test]
async fn pkcs8_key_and_export_lines_for_a_session() {
    let (vault, github) = both(Generation::Current).await;
    let r = run(&env(&vault), "raxx-ops-bot", &github.url, &["--export"]).await;

    assert_eq!(r.code, 0, "stderr: {}", r.stderr);
    assert_eq!(
        r.stdout,
        format!("export GH_TOKEN={TOKEN}\nexport GH_TOKEN_EXPIRES_AT={EXPIRES_AT}\n")
    );
    assert!(github.seen()[0].verdict.is_ok());
}

/// The runbook's own variable names, its literal-\n PEM, and the 2024
/// self-hosted vault (v3 raw routes).
#[tokio::test]
async fn runbook_variables_literal_newline_pem_and_the_older_vault() {
    let (vault, github) = both(Generation::Legacy).await;
    let mut e = env(&vault);
    let host = e.remove("INFISICAL_HOST_URL").unwrap();
    e.insert("INFISICAL_HOST".into(), host);
    e.insert("INFISICAL_ENV".into(), "prod".into());
    e.insert("INFISICAL_PATH_PREFIX".into(), "/MooseQuest/".into());
    let r = run(&e, "raxx-pm-bot", &github.url, &[]).await;

    assert_eq!(r.code, 0, "stderr: {}", r.stderr);
    assert_eq!(r.stdout, format!("{TOKEN}\n"));
    assert!(github.seen()[0].verdict.is_ok());
}

/// At RUST_LOG=trace, neither the key, the JWT nor the token reach stderr;
/// the JWT and the key never reach stdout.
#[tokio::test]
async fn key_jwt_and_token_never_reach_the_logs() {
    let (vault, github) = both(Generation::Current).await;
    let ok = run(&env(&vault), "raxx-dev-bot", &github.url, &["--export"]).await;
    let failed = run(&env(&vault), "wrongapp-bot", &github.url, &[]).await;
    assert_eq!((ok.code, failed.code), (0, 1));
    assert!(
        ok.stderr.contains("TRACE") || ok.stderr.contains("DEBUG"),
        "trace logging was on"
    );

    let jwts: Vec<String> = github.seen().into_iter().map(|s| s.jwt).collect();
    assert_eq!(jwts.len(), 2);
    for r in [&ok, &failed] {
        for jwt in &jwts {
            let signature = jwt.rsplit('.').next().unwrap();
            assert!(!r.stderr.contains(jwt.as_str()) && !r.stderr.contains(signature));
            assert!(!r.stdout.contains(signature));
        }
        for line in pem_body_lines(&key().pkcs1) {
            assert!(
                !r.stderr.contains(&line) && !r.stdout.contains(&line),
                "PEM line leaked"
            );
        }
        assert!(!r.stderr.contains(TOKEN), "token leaked to stderr");
        assert!(!r.stderr.contains(CLIENT_SECRET) && !r.stderr.contains(CF_SECRET));
    }
}

// ---------------------------------------------------------------- failure rows

/// "Infisical login failed: HTTP 302": Access in front, no service token set.
#[tokio::test]
async fn access_redirect_without_a_service_token() {
    let (vault, github) = both(Generation::Current).await;
    let mut e = env(&vault);
    e.remove("CF_ACCESS_CLIENT_ID");
    e.remove("CF_ACCESS_CLIENT_SECRET");
    let r = run(&e, "raxx-dev-bot", &github.url, &[]).await;
    assert_failure(
        &r,
        "Infisical login failed: Cloudflare Access is in front of the vault and no service token is configured",
        "set CF_ACCESS_CLIENT_ID and CF_ACCESS_CLIENT_SECRET",
    );
    assert!(github.seen().is_empty());
}

/// "Infisical login failed: HTTP 403": a service token the Access policy
/// does not include.
#[tokio::test]
async fn access_403_for_a_service_token_outside_the_policy() {
    let gate = CfGate::ServiceAuthOnly {
        client_id: CF_ID.into(),
        client_secret: CF_SECRET.into(),
    };
    let (vault, github) = (vault(Generation::Current, gate).await, FakeGithub::start().await);
    let mut e = env(&vault);
    e.insert(
        "CF_ACCESS_CLIENT_SECRET".into(),
        "cf-secret-of-another-token".into(),
    );
    let r = run(&e, "raxx-dev-bot", &github.url, &[]).await;
    assert_failure(
        &r,
        "Infisical login failed: Cloudflare Access did not accept the configured service token",
        "attach the Service Auth policy that includes this service token",
    );
    assert!(!r.stderr.contains("cf-secret-of-another-token"));
}

/// "Infisical login failed: HTTP 401": wrong client id / secret.
#[tokio::test]
async fn wrong_universal_auth_credentials() {
    let (vault, github) = both(Generation::Current).await;
    let mut e = env(&vault);
    e.insert("INFISICAL_CLIENT_SECRET".into(), "not-the-secret".into());
    let r = run(&e, "raxx-dev-bot", &github.url, &[]).await;
    assert_failure(
        &r,
        "Infisical login failed: the vault refused the client id / secret",
        "verify INFISICAL_CLIENT_ID / INFISICAL_CLIENT_SECRET",
    );
    assert!(!r.stderr.contains("not-the-secret"));
}

/// "Infisical fetch failed at /MooseQuest/<bot>: HTTP 403": no read on the
/// bot path (the 2024 vault refuses the listing outright).
#[tokio::test]
async fn no_read_permission_on_the_bot_path() {
    let (vault, github) = both(Generation::Legacy).await;
    let r = run(&env(&vault), "locked-bot", &github.url, &[]).await;
    assert_failure(
        &r,
        "Infisical fetch failed at /MooseQuest/locked-bot (environment prod): permission denied",
        "add read permission on the bot path",
    );
    assert!(
        r.stderr.contains("with the glob /MooseQuest/locked-bot/** — /MooseQuest/locked-bot/* (a common grant) matches only what lies below"),
        "{}",
        r.stderr
    );
    assert!(github.seen().is_empty());
}

/// The current vault hides unreadable secrets from a listing instead: the
/// answer then names both causes.
#[tokio::test]
async fn no_read_permission_on_a_current_vault_reads_as_an_empty_folder() {
    let (vault, github) = both(Generation::Current).await;
    let r = run(&env(&vault), "locked-bot", &github.url, &[]).await;
    assert_failure(
        &r,
        "bot secrets at /MooseQuest/locked-bot/ missing keys: APP_ID, INSTALLATION_ID, PRIVATE_KEY_PEM",
        "grant it read on the bot path, with the glob /MooseQuest/locked-bot/**",
    );
}

/// The bot-token runbook grants `read on /MooseQuest/<bot>/*`, which Infisical's
/// picomatch does not match against the bot's own folder: on either build the
/// failure names the glob that does.
#[tokio::test]
async fn the_runbooks_bot_glob_misses_the_bot_folder_and_the_error_says_so() {
    for generation in [Generation::Legacy, Generation::Current] {
        let identity = Identity::new(
            CLIENT_ID,
            CLIENT_SECRET,
            vec![PermissionRule::read("prod", "/MooseQuest/raxx-dev-bot/*")],
        );
        let vault = vault_as(generation, login_gate(), identity).await;
        let github = FakeGithub::start().await;
        let r = run(&env(&vault), "raxx-dev-bot", &github.url, &[]).await;
        assert_eq!(r.code, 1, "{generation:?}: {}", r.stderr);
        assert!(
            r.stderr.contains("with the glob /MooseQuest/raxx-dev-bot/** — /MooseQuest/raxx-dev-bot/* (a common grant) matches only what lies below /MooseQuest/raxx-dev-bot, not the folder itself"),
            "{generation:?}: {}",
            r.stderr
        );
        assert!(github.seen().is_empty());
    }
}

/// The same glob as a client-side scope is refused before any request, naming
/// the entry and the one to write.
#[tokio::test]
async fn a_scope_entry_below_the_bot_folder_is_named() {
    let (vault, github) = both(Generation::Current).await;
    let scope = ["--scope", "prod:/MooseQuest/raxx-dev-bot/*"];
    let r = run(&env(&vault), "raxx-dev-bot", &github.url, &scope).await;
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(
        r.stderr.contains("prod:/MooseQuest/raxx-dev-bot/* reaches only what lies below /MooseQuest/raxx-dev-bot, not the folder itself")
            && r.stderr.contains("write 'prod:/MooseQuest/raxx-dev-bot/**'"),
        "{}",
        r.stderr
    );
    assert!(vault.requests().is_empty() && github.seen().is_empty());
    // Another bot's entry is not blamed for this one.
    let scope = ["--scope", "prod:/MooseQuest/raxx-ops-bot/*"];
    let r = run(&env(&vault), "raxx-dev-bot", &github.url, &scope).await;
    assert_eq!(r.code, 2);
    assert!(!r.stderr.contains("reaches only what lies below"), "{}", r.stderr);
}

/// "missing keys: PRIVATE_KEY_PEM": stored under other names; says which.
#[tokio::test]
async fn missing_keys_are_named_exactly() {
    let (vault, github) = both(Generation::Current).await;
    let r = run(&env(&vault), "renamed-bot", &github.url, &[]).await;
    assert_failure(
        &r,
        "bot secrets at /MooseQuest/renamed-bot/ missing keys: INSTALLATION_ID, PRIVATE_KEY_PEM \
         ('installation-id' looks like INSTALLATION_ID, 'private-key' looks like PRIVATE_KEY_PEM)",
        "rename them in Infisical to APP_ID / INSTALLATION_ID / PRIVATE_KEY_PEM",
    );
    assert!(github.seen().is_empty());
}

#[tokio::test]
async fn malformed_pem_is_reported_without_its_content() {
    let (vault, github) = both(Generation::Current).await;
    let r = run(&env(&vault), "badpem-bot", &github.url, &[]).await;
    assert_failure(
        &r,
        "PRIVATE_KEY_PEM at /MooseQuest/badpem-bot/ is not a usable RSA private key: the PKCS#1 key does not parse",
        "re-download it",
    );
    assert!(!r.stderr.contains("Tm90QW5SU0FLZXlBdEFsbA"));
    assert!(github.seen().is_empty());
}

/// "GitHub API returned 401": the JWT's issuer is not the key's App.
#[tokio::test]
async fn github_rejects_the_jwt() {
    let (vault, github) = both(Generation::Current).await;
    let r = run(&env(&vault), "wrongapp-bot", &github.url, &[]).await;
    assert_failure(
        &r,
        "GitHub API returned 401: the App JWT was rejected (\"A JSON web token could not be decoded\")",
        "check that APP_ID belongs to the App whose private key is stored",
    );
    assert!(r.stderr.contains("clock"));
}

/// GitHub 404: the App is not installed under that installation id.
#[tokio::test]
async fn github_does_not_know_the_installation() {
    let (vault, github) = both(Generation::Current).await;
    let r = run(&env(&vault), "uninstalled-bot", &github.url, &[]).await;
    assert_failure(
        &r,
        "GitHub API returned 404: installation 404404 not found for App 3501352",
        "check INSTALLATION_ID on the App's installation page",
    );
}

#[tokio::test]
async fn github_unreachable() {
    let vault = vault(Generation::Current, login_gate()).await;
    let closed = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        format!("http://{}", listener.local_addr().unwrap())
    };
    let r = run(&env(&vault), "raxx-dev-bot", &closed, &[]).await;
    assert_failure(
        &r,
        &format!("GitHub API unreachable at {closed}/app/installations/{INSTALLATION_ID}/access_tokens"),
        "--github-api-url",
    );
}

// ---------------------------------------------------------------- before any request

#[tokio::test]
async fn a_bot_outside_the_scope_is_refused_before_any_request() {
    let (vault, github) = both(Generation::Current).await;
    let scope = ["--scope", "prod:/MooseQuest/raxx-dev-bot/**"];
    let r = run(&env(&vault), "raxx-ops-bot", &github.url, &scope).await;
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert_eq!(r.stdout, "");
    assert!(
        r.stderr
            .contains("prod:/MooseQuest/raxx-ops-bot is outside the scope"),
        "{}",
        r.stderr
    );
    assert!(vault.requests().is_empty() && github.seen().is_empty());

    // INFISICAL_SCOPE applies as well, and an allowed bot goes through.
    let mut e = env(&vault);
    e.insert(
        "INFISICAL_SCOPE".into(),
        "prod:/MooseQuest/raxx-dev-bot/**".into(),
    );
    assert_eq!(run(&e, "raxx-ops-bot", &github.url, &[]).await.code, 2);
    assert!(vault.requests().is_empty());
    assert_eq!(run(&e, "raxx-dev-bot", &github.url, &[]).await.code, 0);
}

#[tokio::test]
async fn configuration_errors_exit_2_naming_the_variable() {
    let (vault, github) = both(Generation::Current).await;
    let mut e = env(&vault);
    e.remove("INFISICAL_PROJECT_ID");
    let r = run(&e, "raxx-dev-bot", &github.url, &[]).await;
    assert_eq!(r.code, 2);
    assert!(
        r.stderr.contains("INFISICAL_PROJECT_ID: is not set"),
        "{}",
        r.stderr
    );

    let r = run(&env(&vault), "../raxx-dev-bot", &github.url, &[]).await;
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("--bot"), "{}", r.stderr);
    assert!(vault.requests().is_empty() && github.seen().is_empty());
}
