//! `provision` / `deprovision` through the real binary against the fake vault
//! behind the fake Cloudflare Access gate, on both API generations: the full
//! onboarding, a re-run, `--rotate-secret`, `deprovision` (twice), `--dry-run`
//! writing nothing, a failure injected at each step being undone, the glob
//! guard rails, a same-named identity refused, an identity without the right
//! to manage identities, and — after every run — no client secret (or other
//! credential) anywhere in stdout or stderr at `RUST_LOG=trace`.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::collections::HashMap;

use common::{CF_ID, CF_SECRET, Run, login_gate, run_bin, start, vault_env, with_token};
use infisical_fakevault::{FakeVault, Generation, Identity, PermissionRule, RunningVault, VaultData};
use serde_json::Value;

/// The project, and the admin identity that provisions (ids as the vault makes them).
const PROJECT: &str = "664ba048-fc91-4735-8948-7d7d3ee03887";
const ADMIN_ID: &str = "89e3718c-be88-4a85-927f-7a452dde22d7";
const ADMIN_SECRET: &str = "admin-mi-SECRET-0b0b0b";
/// An agent identity that exists already, read-only.
const WARDEN_ID: &str = "warden-ro-client";
const WARDEN_SECRET: &str = "warden-ro-SECRET-1c1c";
/// Planted values that no run may print.
const BOT_VALUE: &str = "raxx-bot-token-prod-fake";
const OTHER_AGENT_SECRET: &str = "other-agent-SECRET-2d2d";
/// The identity being provisioned: its name, where its credentials are
/// stored, and the glob it may read.
const NAME: &str = "mcp-probe-agent";
const STORE: &str = "/MooseQuest/identities/mcp-probe-agent";
const GLOB: &str = "/MooseQuest/raxx-dev-bot/**";

fn data() -> VaultData {
    VaultData::new()
        .project(PROJECT, "Oracle Project", "oracle-project")
        .environment(PROJECT, "dev", "Development")
        .environment(PROJECT, "prod", "Production")
        .secret(
            PROJECT,
            "prod",
            "/MooseQuest/raxx-dev-bot",
            "RAXX_BOT_TOKEN",
            BOT_VALUE,
        )
        .secret(PROJECT, "prod", "/shared", "SHARED_TOKEN", "shared-fake")
        .secret(
            PROJECT,
            "prod",
            "/MooseQuest/identities/other-agent",
            "OTHER_AGENT_CLIENT_SECRET",
            OTHER_AGENT_SECRET,
        )
        .secret(
            PROJECT,
            "prod",
            "/legacy-bots",
            "OLD_BOT_CLIENT_SECRET",
            "old-bot-SECRET-3e3e",
        )
}

fn admin() -> Identity {
    Identity::new(ADMIN_ID, ADMIN_SECRET, vec![PermissionRule::all("*", "/**")])
}

/// The fake vault with the data, an admin allowed to manage identities and
/// a read-only identity that is not.
fn fake(generation: Generation) -> FakeVault {
    let warden = Identity::new(
        WARDEN_ID,
        WARDEN_SECRET,
        vec![PermissionRule::read("dev", "/agents/warden/**")],
    );
    FakeVault::new(data())
        .generation(generation)
        .identity(admin())
        .identity(warden)
}

async fn vault(generation: Generation) -> RunningVault {
    let vault = start(fake(generation).gate(login_gate())).await;
    vault.allow_identity_management(ADMIN_ID);
    vault
}

/// The recorded data set keeps agent credentials under `/MooseQuest/identities`.
fn env_for(vault: &RunningVault, client_id: &str, client_secret: &str) -> HashMap<String, String> {
    let mut env = vault_env(vault, client_id, client_secret, PROJECT);
    env.insert("INFISICAL_STORE_ROOT".into(), "/MooseQuest/identities".into());
    env
}

/// What a `--json` report says.
trait Report {
    fn result(&self) -> String;
    /// (name, status) of each line of `section`.
    fn names(&self, section: &str) -> Vec<(String, String)>;
}

impl Report for Run {
    fn result(&self) -> String {
        self.json()["result"].as_str().unwrap_or_default().to_owned()
    }

    fn names(&self, section: &str) -> Vec<(String, String)> {
        self.json()[section]
            .as_array()
            .unwrap()
            .iter()
            .map(|l| {
                (
                    l["name"].as_str().unwrap().to_owned(),
                    l["status"].as_str().unwrap().to_owned(),
                )
            })
            .collect()
    }
}

/// Runs the binary as `who`, then checks that no credential the vault ever
/// issued or holds appears in its output.
async fn run_as(vault: &RunningVault, who: (&str, &str), args: &[&str]) -> Run {
    let run = run_bin(&env_for(vault, who.0, who.1), args).await;
    let mut secrets = vault.all_client_secrets();
    secrets.extend(
        [
            ADMIN_SECRET,
            CF_SECRET,
            WARDEN_SECRET,
            BOT_VALUE,
            OTHER_AGENT_SECRET,
        ]
        .map(String::from),
    );
    for secret in secrets {
        assert!(
            !run.stdout.contains(&secret),
            "stdout of {args:?} leaks a secret:\n{}",
            run.stdout
        );
        assert!(!run.stderr.contains(&secret), "stderr of {args:?} leaks a secret");
    }
    run
}

async fn run(vault: &RunningVault, args: &[&str]) -> Run {
    run_as(vault, (ADMIN_ID, ADMIN_SECRET), args).await
}

/// `provision NAME --environment prod --glob GLOB`, then `extra`.
fn provision_args<'a>(extra: &[&'a str]) -> Vec<&'a str> {
    provision_glob(GLOB, extra)
}

/// `provision NAME --environment prod --glob glob`, then `extra`.
fn provision_glob<'a>(glob: &'a str, extra: &[&'a str]) -> Vec<&'a str> {
    let mut argv = vec!["provision", NAME, "--environment", "prod", "--glob", glob];
    argv.extend_from_slice(extra);
    argv
}

/// `provision name --environment prod --rotate-secret --json`.
fn rotate_args(name: &str) -> Vec<&str> {
    vec![
        "provision",
        name,
        "--environment",
        "prod",
        "--rotate-secret",
        "--json",
    ]
}

const DEPROVISION: [&str; 5] = ["deprovision", NAME, "--environment", "prod", "--json"];

fn stored(vault: &RunningVault, key: &str) -> Option<String> {
    vault.stored_value(PROJECT, "prod", STORE, key)
}

fn assert_nothing_made(vault: &RunningVault, context: &str) {
    assert!(
        vault.managed_identities().is_empty(),
        "{context}: {:?}",
        vault.managed_identities()
    );
    assert!(
        vault.live_client_secrets().is_empty(),
        "{context}: a client secret is live"
    );
    assert_eq!(stored(vault, "MCP_PROBE_AGENT_CLIENT_ID"), None, "{context}");
    assert_eq!(stored(vault, "MCP_PROBE_AGENT_CLIENT_SECRET"), None, "{context}");
    assert!(
        !vault.folder_exists(PROJECT, "prod", STORE),
        "{context}: the credentials folder is left"
    );
    assert!(
        vault.folder_exists(PROJECT, "prod", "/MooseQuest/identities/other-agent"),
        "{context}"
    );
}

/// One test per API generation for a scenario.
macro_rules! on_both_generations {
    ($scenario:ident: $current:ident, $legacy:ident) => {
        #[tokio::test]
        async fn $current() {
            $scenario(Generation::Current).await;
        }

        #[tokio::test]
        async fn $legacy() {
            $scenario(Generation::Legacy).await;
        }
    };
}

async fn full_flow(generation: Generation) {
    let vault = vault(generation).await;
    let first = run(&vault, &provision_args(&["--json"])).await;
    assert_eq!(first.code, 0, "{}\n{}", first.stdout, first.stderr);
    assert_eq!(first.result(), "provisioned");
    let step_names: Vec<String> = first.names("steps").into_iter().map(|(n, _)| n).collect();
    assert_eq!(
        step_names,
        [
            "project",
            "lookup",
            "identity",
            "universal-auth",
            "client-secret",
            "folder",
            "store",
            "store",
            "membership",
            "privilege"
        ],
        "the runbook's order"
    );
    assert_eq!(
        first.names("verification"),
        [
            ("login", "pass"),
            ("in-scope", "pass"),
            ("out-of-scope", "pass"),
            ("write-refused", "pass")
        ]
        .map(|(a, b)| (a.to_owned(), b.to_owned()))
    );

    let made = vault.managed_identities();
    assert_eq!(made.len(), 1, "{made:?}");
    let identity = &made[0];
    assert_eq!(identity.name, NAME);
    assert_eq!(identity.active_client_secrets, 1);
    assert_eq!(identity.project_ids, [PROJECT]);
    assert_eq!(identity.privileges.len(), 1);
    let (slug, env, glob, actions) = &identity.privileges[0];
    assert!(slug.starts_with("mcp-probe-agent-read-"), "{slug}");
    assert_eq!((env.as_str(), glob.as_str()), ("prod", GLOB));
    assert_eq!(actions, &["read"], "read only");
    assert_eq!(stored(&vault, "MCP_PROBE_AGENT_CLIENT_ID"), identity.client_id);
    assert_eq!(
        stored(&vault, "MCP_PROBE_AGENT_CLIENT_SECRET"),
        vault.live_client_secrets().first().cloned(),
        "the stored secret is the live one"
    );
    let json = first.json();
    assert_eq!(json["identityId"], identity.id.as_str());
    let legacy = generation == Generation::Legacy;
    assert_eq!(
        json["apiGeneration"].as_str().unwrap().starts_with("2024"),
        legacy
    );
    let exports: Vec<&str> = common::strings_of(&json["export"], "variable");
    assert!(exports.contains(&"MCP_PROBE_AGENT_CLIENT_SECRET"), "{exports:?}");
    assert!(
        json["mcpConfig"]
            .as_str()
            .unwrap()
            .contains("--client-secret-var MCP_PROBE_AGENT_CLIENT_SECRET")
    );

    // The generation is learned once: one v2 privilege request on the 2024 build.
    let v2_calls = vault
        .requests()
        .iter()
        .filter(|r| {
            r.path
                .starts_with("/api/v2/identity-project-additional-privilege")
        })
        .count();
    let v1_calls = vault
        .requests()
        .iter()
        .filter(|r| r.path.starts_with("/api/v1/additional-privilege"))
        .count();
    if legacy {
        assert_eq!((v2_calls, v1_calls), (1, 1));
    } else {
        assert_eq!((v2_calls, v1_calls), (1, 0));
    }
    // Every request carried the Cloudflare headers (the gate lets nothing else in).
    assert!(vault.requests().iter().all(|r| r.gate_passed));

    // Re-run: nothing new, "already provisioned", verified again.
    let again = run(&vault, &provision_args(&[])).await;
    assert_eq!(again.code, 0, "{}", again.stdout);
    assert!(
        again.stdout.contains("result: already provisioned"),
        "{}",
        again.stdout
    );
    assert!(again.stdout.contains("✔ write-refused"), "{}", again.stdout);
    assert!(
        again.stdout.contains("infisical-mcp-rs mcp-config"),
        "{}",
        again.stdout
    );
    assert!(again.stdout.contains("MCP_PROBE_AGENT_CLIENT_SECRET  <- vault prod:/MooseQuest/identities/mcp-probe-agent/MCP_PROBE_AGENT_CLIENT_SECRET"), "{}", again.stdout);
    let after = vault.managed_identities();
    assert_eq!(after.len(), 1);
    assert_eq!(after[0].active_client_secrets, 1, "no second client secret");
    assert_eq!(after[0].privileges.len(), 1, "no second privilege");

    // A second glob on a re-run adds only its privilege.
    let wider = run(&vault, &provision_args(&["--glob", "/shared/**", "--json"])).await;
    assert_eq!(wider.code, 0, "{}", wider.stdout);
    assert_eq!(wider.result(), "provisioned (completed what was missing)");
    assert_eq!(vault.managed_identities()[0].privileges.len(), 2);

    let gone = run(&vault, &DEPROVISION).await;
    assert_eq!(gone.code, 0, "{}", gone.stdout);
    assert_eq!(gone.result(), "deprovisioned");
    assert_nothing_made(&vault, "after deprovision");
    assert_eq!(
        vault.all_client_secrets().len(),
        1,
        "the one secret was revoked, then went with the identity"
    );

    let twice = run(&vault, &DEPROVISION).await;
    assert_eq!(twice.code, 0, "{}", twice.stdout);
    assert_eq!(twice.result(), "nothing to remove");
}

on_both_generations!(full_flow: full_flow_rerun_and_deprovision_current, full_flow_rerun_and_deprovision_legacy);

async fn rotation(generation: Generation) {
    let vault = vault(generation).await;
    assert_eq!(run(&vault, &provision_args(&[])).await.code, 0);
    let old = stored(&vault, "MCP_PROBE_AGENT_CLIENT_SECRET").unwrap();
    let rotated = run(&vault, &rotate_args(NAME)).await;
    assert_eq!(rotated.code, 0, "{}", rotated.stdout);
    assert_eq!(rotated.result(), "rotated");
    let new = stored(&vault, "MCP_PROBE_AGENT_CLIENT_SECRET").unwrap();
    assert_ne!(new, old);
    assert_eq!(vault.live_client_secrets(), [new], "only the new secret is live");
    assert_eq!(vault.managed_identities()[0].revoked_client_secrets, 1);
    let steps: Vec<String> = rotated.names("steps").into_iter().map(|(n, _)| n).collect();
    let login = steps.iter().position(|n| n == "login").unwrap();
    let revoke = steps.iter().position(|n| n == "revoke").unwrap();
    assert!(login < revoke, "verified before revoking: {steps:?}");
    let notes = rotated.json()["notes"].to_string();
    assert!(
        notes.contains("does not end access tokens already issued"),
        "{notes}"
    );
    assert!(notes.contains("3600 s") && notes.contains("7200 s"), "{notes}");
    // The stored credentials still log in (a re-run verifies with them).
    let check = run(&vault, &provision_args(&["--json"])).await;
    assert_eq!(check.result(), "already provisioned", "{}", check.stdout);
}

on_both_generations!(rotation: rotate_secret_current, rotate_secret_legacy);

#[tokio::test]
async fn dry_run_writes_nothing() {
    for generation in [Generation::Current, Generation::Legacy] {
        let vault = vault(generation).await;
        let plan = run(&vault, &provision_args(&["--dry-run", "--json"])).await;
        assert_eq!(plan.code, 0, "{}", plan.stdout);
        assert_eq!(plan.result(), "plan");
        assert!(plan.names("steps").iter().any(|(n, _)| n == "privilege"));
        assert_nothing_made(&vault, "dry run");
        let writes: Vec<String> = vault
            .requests()
            .iter()
            .filter(|r| r.method != "GET")
            .map(|r| format!("{} {}", r.method, r.path))
            .collect();
        // The only POST is the admin's own login.
        assert_eq!(
            writes,
            ["POST /api/v1/auth/universal-auth/login"],
            "{generation:?}"
        );
    }
}

#[tokio::test]
async fn a_failure_at_each_step_is_undone() {
    let steps = [
        ("POST", "/api/v1/identities", "identity"),
        (
            "POST",
            "/api/v1/auth/universal-auth/identities/",
            "universal-auth",
        ),
        ("POST", "/client-secrets", "client-secret"),
        ("POST", "/api/v1/folders", "folder"),
        ("POST", "/api/v3/secrets/raw/MCP_PROBE_AGENT_CLIENT_ID", "store"),
        (
            "POST",
            "/api/v3/secrets/raw/MCP_PROBE_AGENT_CLIENT_SECRET",
            "store",
        ),
        ("POST", "/identity-memberships/", "membership"),
        ("POST", "privilege", "privilege"),
    ];
    for generation in [Generation::Current, Generation::Legacy] {
        for (method, path, step) in steps {
            let vault = vault(generation).await;
            vault.fail_next_request(method, path, 500);
            let failed = run(&vault, &provision_args(&["--json"])).await;
            let context = format!("{generation:?} failing {method} {path}");
            assert_eq!(failed.code, 1, "{context}: {}", failed.stdout);
            assert_eq!(failed.result(), "failed", "{context}");
            let last = failed.names("steps").pop().unwrap();
            assert_eq!(last, (step.to_owned(), "fail".to_owned()), "{context}");
            assert!(failed.names("undo").iter().all(|(_, s)| s == "pass"), "{context}");
            assert!(
                failed.json()["remains"].as_array().unwrap().is_empty(),
                "{context}"
            );
            assert_nothing_made(&vault, &context);
        }
    }
}

#[tokio::test]
async fn an_undo_that_fails_says_what_remains() {
    let vault = vault(Generation::Legacy).await;
    vault.fail_next_request("POST", "/identity-memberships/", 500);
    vault.fail_next_request("DELETE", "/api/v1/identities/", 500);
    let failed = run(&vault, &provision_args(&[])).await;
    assert_eq!(failed.code, 1, "{}", failed.stdout);
    let made = vault.managed_identities();
    assert_eq!(made.len(), 1);
    assert!(
        failed.stdout.contains("still in the vault (remove by hand):"),
        "{}",
        failed.stdout
    );
    assert!(
        failed.stdout.contains(&made[0].id),
        "names the identity left behind: {}",
        failed.stdout
    );
    // What could be undone was: the stored credentials are gone.
    assert_eq!(stored(&vault, "MCP_PROBE_AGENT_CLIENT_SECRET"), None);
}

#[tokio::test]
async fn broad_and_store_covering_globs_are_refused() {
    for generation in [Generation::Current, Generation::Legacy] {
        let vault = vault(generation).await;
        let broad = run(&vault, &provision_glob("/**", &["--json"])).await;
        assert_eq!(broad.code, 2, "{}", broad.stdout);
        assert!(broad.result().contains("--allow-broad"), "{}", broad.result());

        // Even allowed as broad, /** reaches the credential store.
        let allowed = run(&vault, &provision_glob("/**", &["--allow-broad", "--json"])).await;
        assert_eq!(allowed.code, 2, "{}", allowed.stdout);
        assert!(
            allowed.result().contains("credential store"),
            "{}",
            allowed.result()
        );

        // The runbook's own example.
        let runbook = run(&vault, &provision_glob("/MooseQuest/**", &[])).await;
        assert_eq!(runbook.code, 2, "{}", runbook.stdout);
        assert!(
            runbook
                .stdout
                .contains("can match the credential store prod:/MooseQuest/identities"),
            "{}",
            runbook.stdout
        );
        assert!(
            runbook.stdout.contains("--glob '/MooseQuest/raxx-dev-bot/**'"),
            "suggests a narrower glob: {}",
            runbook.stdout
        );
        assert!(
            !runbook.stdout.contains("--glob '/MooseQuest/identities/**'"),
            "{}",
            runbook.stdout
        );

        // A folder holding another *_CLIENT_SECRET outside the store.
        let companion = run(&vault, &provision_glob("/legacy-bots/**", &["--json"])).await;
        assert_eq!(companion.code, 2, "{}", companion.stdout);
        assert!(
            companion.result().contains("/legacy-bots"),
            "{}",
            companion.result()
        );

        assert_nothing_made(&vault, "refused globs");

        // The pitfall is warned, not refused.
        let shallow = run(&vault, &provision_glob("/MooseQuest/raxx-dev-bot/*", &["--json"])).await;
        assert_eq!(shallow.code, 0, "{}", shallow.stdout);
        assert!(
            shallow.json()["warnings"]
                .to_string()
                .contains("does not cover /MooseQuest/raxx-dev-bot itself")
        );
    }
}

#[tokio::test]
async fn a_same_named_identity_not_made_here_is_refused() {
    for generation in [Generation::Current, Generation::Legacy] {
        let vault = vault(generation).await;
        let stranger = vault.create_identity_directly(NAME);
        let refused = run(&vault, &provision_args(&["--json"])).await;
        assert_eq!(refused.code, 1, "{}", refused.stdout);
        assert_eq!(refused.result(), "refused");
        assert!(
            refused.stdout.contains(&stranger) && refused.stdout.contains("did not make"),
            "{}",
            refused.stdout
        );
        assert_eq!(vault.managed_identities().len(), 1, "no second identity");
        let kept = run(&vault, &DEPROVISION).await;
        assert_eq!(kept.code, 1, "deprovision refuses it too: {}", kept.stdout);
        assert_eq!(vault.managed_identities().len(), 1);
    }
}

#[tokio::test]
async fn only_an_identity_allowed_to_manage_identities_can_provision() {
    for generation in [Generation::Current, Generation::Legacy] {
        let vault = vault(generation).await;
        let denied = run_as(&vault, (WARDEN_ID, WARDEN_SECRET), &provision_args(&["--json"])).await;
        assert_eq!(denied.code, 1, "{}", denied.stdout);
        assert!(
            denied.stdout.contains("You are not allowed to read on identity"),
            "{}",
            denied.stdout
        );
        assert_nothing_made(&vault, "denied");
    }
}

#[tokio::test]
async fn configuration_errors_exit_2() {
    let vault = vault(Generation::Current).await;
    for (args, needle) in [
        (vec!["provision", NAME, "--glob", GLOB], "--environment"),
        (vec!["provision", NAME, "--environment", "prod"], "--glob"),
        (
            vec!["provision", "bad/name", "--environment", "prod", "--glob", GLOB],
            "NAME",
        ),
        (
            vec!["provision", NAME, "--environment", "staging", "--glob", GLOB],
            "--environment",
        ),
        (
            vec![
                "provision",
                NAME,
                "--environment",
                "prod",
                "--glob",
                GLOB,
                "--ttl",
                "9000",
            ],
            "--ttl",
        ),
        (
            vec![
                "provision",
                NAME,
                "--environment",
                "prod",
                "--glob",
                "MooseQuest/**",
            ],
            "--glob",
        ),
    ] {
        let out = run(&vault, &args).await;
        assert_eq!(out.code, 2, "{args:?}: {}", out.stdout);
        assert!(out.stdout.contains(needle), "{args:?}: {}", out.stdout);
    }
    assert_nothing_made(&vault, "configuration errors");
}

/// `doctor`, run as an agent identity, flags one that can read stored client
/// secrets (the runbook's `/MooseQuest/**`) and passes a narrow one.
#[tokio::test]
async fn doctor_flags_an_identity_that_can_read_the_credential_store() {
    for generation in [Generation::Current, Generation::Legacy] {
        let vault = vault(generation).await;
        for (id, secret, glob, expected) in [
            ("broad-agent", "broad-SECRET-4f4f", "/MooseQuest/**", "fail"),
            ("narrow-agent", "narrow-SECRET-5a5a", GLOB, "pass"),
        ] {
            vault.add_identity(Identity::new(
                id,
                secret,
                vec![PermissionRule::read("prod", glob)],
            ));
            let mut env = env_for(&vault, id, secret);
            env.insert("INFISICAL_SCOPE".into(), format!("prod:{glob}"));
            let dir = tempfile::tempdir().unwrap();
            let run = common::run_bin_in(&env, &["doctor", "--json"], dir.path()).await;
            assert!(!run.stdout.contains(OTHER_AGENT_SECRET) && !run.stdout.contains(secret));
            let step = run.step("credential-store");
            assert_eq!(step["status"], expected, "{generation:?} {glob}: {step}");
            if expected == "fail" {
                let detail = step["detail"].as_str().unwrap();
                assert!(
                    detail.contains("prod:/MooseQuest/identities/other-agent/OTHER_AGENT_CLIENT_SECRET"),
                    "{detail}"
                );
                assert_eq!(run.code, 1);
            }
        }
    }
}

/// The fake's identity routes against the 2024 build's recorded answers,
/// replayed in the recorded order: error bodies must be identical (ids
/// mapped to the fake's), successful ones must carry the same fields.
#[tokio::test]
async fn the_fake_answers_the_identity_routes_like_the_recording() {
    let recorded: Value =
        serde_json::from_str(include_str!("../src/vault/admin/recorded-2024-10.json")).unwrap();
    // Straight to the vault, without the gate: these are raw requests.
    let vault = start(fake(Generation::Legacy)).await;
    vault.allow_identity_management(ADMIN_ID);
    let admin_token = vault.issue_token(ADMIN_ID);
    let warden_token = vault.issue_token(WARDEN_ID);
    let http = reqwest::Client::new();
    let workspace: Value = http
        .get(format!("{}/api/v1/workspace/{PROJECT}", vault.base_url()))
        .bearer_auth(&admin_token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let org_id = workspace["workspace"]["orgId"].as_str().unwrap().to_owned();
    // Recorded id → the fake's, learned as the answers come in.
    let mut ids: Vec<(String, String)> = vec![("848a7218-65d8-4f61-aa6b-8f9c7a6f2dec".into(), org_id)];
    let map = |ids: &[(String, String)], text: &str| {
        ids.iter()
            .fold(text.to_owned(), |t, (from, to)| t.replace(from, to))
    };
    let keys = |v: &Value| -> Vec<String> {
        let inner = v.as_object().unwrap().values().next().unwrap();
        let mut k: Vec<String> = inner
            .as_object()
            .map(|o| o.keys().cloned().collect())
            .unwrap_or_default();
        k.sort();
        k
    };
    let cases = [
        ("prov-create-identity", &admin_token),
        ("prov-ua-attach", &admin_token),
        ("prov-client-secret", &admin_token),
        ("prov-membership", &admin_token),
        ("prov-privilege-v2", &admin_token),
        ("prov-privilege-v1-with-v2-body", &admin_token),
        ("prov-privilege-v1-action-array", &admin_token),
        ("prov-privilege-v1-permissions", &admin_token),
        ("err-identity-same-name", &admin_token),
        ("err-privilege-non-member", &admin_token),
        ("err-privilege-same-slug", &admin_token),
        ("err-membership-twice", &admin_token),
        ("err-privilege-slug-uppercase", &admin_token),
        ("err-privilege-slug-colon", &admin_token),
        ("err-privilege-unknown-project-slug", &admin_token),
        ("err-privilege-no-permissions", &admin_token),
        ("err-privilege-write-action", &admin_token),
        ("err-ua-attach-twice", &admin_token),
        ("err-ua-ttl-above-max", &admin_token),
        ("err-create-identity-warden-ro", &warden_token),
        ("err-membership-warden-ro", &warden_token),
        ("err-privilege-warden-ro", &warden_token),
        ("clean-client-secret-delete-route", &admin_token),
        ("clean-client-secret-revoke", &admin_token),
        ("clean-privilege-delete-v1", &admin_token),
        ("clean-privilege-delete-again", &admin_token),
        ("clean-membership-delete", &admin_token),
        ("clean-membership-delete-again", &admin_token),
        ("clean-identity-delete", &admin_token),
        ("clean-identity-delete-again", &admin_token),
    ];
    for (case, token) in cases {
        let rec = &recorded["records"][case];
        let url = format!("{}{}", vault.base_url(), map(&ids, rec["url"].as_str().unwrap()));
        let method = reqwest::Method::from_bytes(rec["method"].as_str().unwrap().as_bytes()).unwrap();
        let mut request = http.request(method, &url).bearer_auth(token);
        if !rec["request"].is_null() {
            request = request
                .header("content-type", "application/json")
                .body(map(&ids, &rec["request"].to_string()));
        }
        let response = request.send().await.unwrap();
        let status = response.status().as_u16();
        let body: Value = response.json().await.unwrap();
        assert_eq!(
            u64::from(status),
            rec["status"].as_u64().unwrap(),
            "{case}: {body}"
        );
        if status == 200 {
            assert_eq!(keys(&body), keys(&rec["body"]), "{case}: {body}");
        } else {
            let expected: Value = serde_json::from_str(&map(&ids, &rec["body"].to_string())).unwrap();
            assert_eq!(body, expected, "{case}");
        }
        // Learn the ids this answer introduced.
        let learn = |path: &[&str]| {
            let pick = |v: &Value| {
                path.iter()
                    .fold(v.clone(), |v, k| v[*k].clone())
                    .as_str()
                    .map(str::to_owned)
            };
            pick(&rec["body"]).zip(pick(&body))
        };
        for path in [
            &["identity", "id"][..],
            &["identityUniversalAuth", "clientId"],
            &["clientSecretData", "id"],
            &["privilege", "id"],
            &["identityMembership", "id"],
        ] {
            if let Some(pair) = learn(path) {
                ids.push(pair);
            }
        }
    }
    let left = vault.managed_identities();
    assert!(
        left.len() == 1
            && left[0].name == "infisical-identity-mcp-probe-agent"
            && left[0].client_id.is_none(),
        "only the duplicate is left: {left:?}"
    );
}

#[tokio::test]
async fn a_missing_stored_secret_is_replaced_and_the_unknown_ones_revoked() {
    let vault = vault(Generation::Current).await;
    assert_eq!(run(&vault, &provision_args(&[])).await.code, 0);
    // Someone deleted the stored client secret: its value is lost.
    let lost = vault.live_client_secrets();
    let http = reqwest::Client::new();
    let deleted = http
        .delete(format!(
            "{}/api/v3/secrets/raw/MCP_PROBE_AGENT_CLIENT_SECRET",
            vault.base_url()
        ))
        .header("cf-access-client-id", CF_ID)
        .header("cf-access-client-secret", CF_SECRET)
        .bearer_auth(vault.issue_token(ADMIN_ID))
        .json(&serde_json::json!({"workspaceId": PROJECT, "environment": "prod", "secretPath": STORE}))
        .send()
        .await
        .unwrap();
    assert_eq!(deleted.status(), 200);
    let again = run(&vault, &provision_args(&["--json"])).await;
    assert_eq!(again.code, 0, "{}", again.stdout);
    assert_eq!(again.result(), "provisioned (completed what was missing)");
    let live = vault.live_client_secrets();
    assert_eq!(live.len(), 1);
    assert_ne!(live, lost);
    assert_eq!(
        stored(&vault, "MCP_PROBE_AGENT_CLIENT_SECRET").as_ref(),
        live.first()
    );
}

#[tokio::test]
async fn a_rotation_that_cannot_store_keeps_the_old_secret() {
    for generation in [Generation::Current, Generation::Legacy] {
        let vault = vault(generation).await;
        assert_eq!(run(&vault, &provision_args(&[])).await.code, 0);
        let old = stored(&vault, "MCP_PROBE_AGENT_CLIENT_SECRET").unwrap();
        vault.fail_next_request("PATCH", "/api/v3/secrets/raw/MCP_PROBE_AGENT_CLIENT_SECRET", 500);
        let failed = run(&vault, &rotate_args(NAME)).await;
        assert_eq!(failed.code, 1, "{}", failed.stdout);
        assert_eq!(
            vault.live_client_secrets(),
            std::slice::from_ref(&old),
            "the new secret was revoked, the old one kept"
        );
        assert_eq!(stored(&vault, "MCP_PROBE_AGENT_CLIENT_SECRET"), Some(old));
        let unknown = run(&vault, &rotate_args("nobody")).await;
        assert_eq!(unknown.code, 1, "{}", unknown.stdout);
    }
}

#[tokio::test]
async fn a_pre_issued_admin_token_works_too() {
    let vault = vault(Generation::Legacy).await;
    let token = vault.issue_token(ADMIN_ID);
    let env = with_token(env_for(&vault, ADMIN_ID, ADMIN_SECRET), &token);
    let out = run_bin(&env, &provision_args(&["--json"])).await;
    assert_eq!(out.code, 0, "{}", out.stdout);
    for secret in vault.all_client_secrets().into_iter().chain([token]) {
        assert!(!out.stdout.contains(&secret) && !out.stderr.contains(&secret));
    }
    assert_eq!(vault.managed_identities().len(), 1);
}

#[tokio::test]
async fn a_failed_verification_is_undone_too() {
    let vault = vault(Generation::Current).await;
    let env = with_token(
        env_for(&vault, ADMIN_ID, ADMIN_SECRET),
        &vault.issue_token(ADMIN_ID),
    );
    // With a pre-issued admin token, the only login is the new identity's.
    vault.fail_next_request("POST", "/api/v1/auth/universal-auth/login", 500);
    let out = run_bin(&env, &provision_args(&["--json"])).await;
    let doc = out.json();
    assert_eq!(out.code, 1, "{doc}");
    assert_eq!(doc["verification"][0]["name"], "login");
    assert_eq!(doc["verification"][0]["status"], "fail");
    assert!(
        doc["undo"]
            .as_array()
            .unwrap()
            .iter()
            .all(|l| l["status"] == "pass"),
        "{doc}"
    );
    assert_nothing_made(&vault, "failed verification");
}
