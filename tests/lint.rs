//! `lint` through the real binary against the fake vault: every rule with a
//! positive and a negative case, the demo dataset exercising every finding,
//! scope filtering, `--json`'s shape, exit codes, and that no value (nor its
//! digest) ever reaches stdout or stderr, even at RUST_LOG=trace.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::collections::{BTreeSet, HashMap};

use common::{CF_SECRET, Run, login_gate, run_bin, vault_env};
use infisical_fakevault::{
    Action, FakeVault, Generation, Identity, PermissionRule, RunningVault, SecretEntry, VaultData,
};
use infisical_mcp_rs::operator::lint::RULES;
use serde_json::Value;

const PROJECT: &str = "proj-lint-1";
const CLIENT_ID: &str = "ua-lint-auditor";
const CLIENT_SECRET: &str = "ua-secret-LINT-5e5e";
/// Every planted value carries this marker; none may be printed.
const MARK: &str = "PLANTED";
const TAGS: [&str; 4] = [
    "function-dns-edit",
    "sensitivity-high",
    "consumer-ci",
    "rotation-non-rotating",
];

fn value(name: &str) -> String {
    format!("{MARK}-{name}-v4lu3")
}

fn iso(days_from_now: i64, offset_hours: i8) -> String {
    let offset = time::UtcOffset::from_hms(offset_hours, 0, 0).unwrap();
    let t = (time::OffsetDateTime::now_utc() + time::Duration::days(days_from_now)).to_offset(offset);
    t.format(&time::format_description::well_known::Rfc3339).unwrap()
}

/// An auditor that may read everything in every environment.
fn auditor() -> Identity {
    Identity::new(
        CLIENT_ID,
        CLIENT_SECRET,
        ["dev", "staging", "prod"]
            .into_iter()
            .map(|e| PermissionRule::read(e, "/**"))
            .collect(),
    )
}

async fn start(data: VaultData, identity: Identity) -> RunningVault {
    start_as(Generation::Current, data, identity).await
}

async fn start_as(generation: Generation, data: VaultData, identity: Identity) -> RunningVault {
    common::start(
        FakeVault::new(data)
            .generation(generation)
            .gate(login_gate())
            .identity(identity),
    )
    .await
}

/// The rule cases, read by the auditor through `scope`.
async fn audit(scope: &str) -> (RunningVault, HashMap<String, String>) {
    let vault = start(cases(), auditor()).await;
    let env = env_for(&vault, PROJECT, scope);
    (vault, env)
}

fn env_for(vault: &RunningVault, project: &str, scope: &str) -> HashMap<String, String> {
    let mut env = vault_env(vault, CLIENT_ID, CLIENT_SECRET, project);
    env.insert("INFISICAL_SCOPE".into(), scope.into());
    env
}

/// What a `--json` lint report found.
trait Findings {
    fn findings(&self) -> Vec<Value>;
    /// (rule, env:/path/KEY) of every finding.
    fn located(&self) -> BTreeSet<(String, String)>;
}

impl Findings for Run {
    fn findings(&self) -> Vec<Value> {
        self.json()["findings"].as_array().unwrap().clone()
    }

    fn located(&self) -> BTreeSet<(String, String)> {
        self.findings()
            .iter()
            .map(|f| {
                let key = f["key"].as_str().map(|k| format!("/{k}")).unwrap_or_default();
                let path = f["path"].as_str().unwrap().trim_end_matches('/');
                (
                    f["rule"].as_str().unwrap().to_string(),
                    format!("{}:{path}{key}", f["environment"].as_str().unwrap()),
                )
            })
            .collect()
    }
}

/// The run found exactly one thing: `rule` at `location`.
fn assert_found_only(run: &Run, rule: &str, location: &str) {
    let expected = BTreeSet::from([(rule.to_string(), location.to_string())]);
    assert_eq!(run.located(), expected, "{}", run.stdout);
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Neither a planted value nor its SHA-256 (hex) may appear anywhere.
fn assert_nothing_leaks(run: &Run, values: &[String]) {
    for out in [&run.stdout, &run.stderr] {
        assert!(!out.contains(MARK), "a planted value leaked:\n{out}");
        assert!(!out.contains(CLIENT_SECRET) && !out.contains(CF_SECRET));
        for v in values {
            assert!(!out.contains(v.as_str()), "{v} leaked:\n{out}");
            let digest = ring::digest::digest(&ring::digest::SHA256, v.as_bytes());
            assert!(!out.contains(&hex(digest.as_ref())), "a digest leaked");
        }
    }
}

async fn lint(env: &HashMap<String, String>, args: &[&str]) -> Run {
    let mut argv = vec!["lint"];
    argv.extend_from_slice(args);
    run_bin(env, &argv).await
}

fn put(data: VaultData, env: &str, path: &str, key: &str, tags: &[&str]) -> VaultData {
    data.add_secret(PROJECT, env, path, SecretEntry::new(key, &value(key)).tags(tags))
}

fn meta(data: VaultData, env: &str, path: &str, key: &str, v: &str) -> VaultData {
    data.add_secret(PROJECT, env, path, SecretEntry::new(key, v))
}

fn with(tags: &[&'static str], replace: &str, by: &'static str) -> Vec<&'static str> {
    tags.iter()
        .map(|t| if t.starts_with(replace) { by } else { *t })
        .collect()
}

/// One folder per rule with a positive case (`/<rule>/pos`) and a negative
/// one (`/<rule>/neg`), all in prod except Rule 2's staging copies.
fn cases() -> VaultData {
    let mut d = VaultData::new()
        .project(PROJECT, "lint", "lint")
        .environment(PROJECT, "prod", "Production")
        .environment(PROJECT, "staging", "Staging");
    let rotating = with(&TAGS, "rotation-", "rotation-90d");
    d = put(d, "prod", "/name-pattern/pos", "cf_dns_edit", &TAGS);
    d = put(d, "prod", "/name-pattern/neg", "CF_DNS_EDIT", &TAGS);
    d = put(d, "prod", "/unknown-vendor/pos", "HEROKU_API_KEY", &TAGS);
    d = put(d, "prod", "/unknown-vendor/neg", "HK_PLATFORM_APP", &TAGS);
    d = put(d, "prod", "/tag-missing/pos", "CF_A", &TAGS[..3]);
    d = put(d, "prod", "/tag-missing/neg", "CF_A", &TAGS);
    let mut dup = TAGS.to_vec();
    dup.push("function-waf-edit");
    d = put(d, "prod", "/tag-duplicate/pos", "CF_A", &dup);
    let mut consumers = TAGS.to_vec();
    consumers.push("consumer-terraform");
    d = put(d, "prod", "/tag-duplicate/neg", "CF_A", &consumers);
    d = put(d, "prod", "/tag-multiple-consumers/pos", "CF_A", &consumers);
    d = put(d, "prod", "/tag-multiple-consumers/neg", "CF_A", &TAGS);
    let odd = with(&TAGS, "sensitivity-", "sensitivity-extreme");
    d = put(d, "prod", "/tag-unknown-value/pos", "CF_A", &odd);
    d = put(d, "prod", "/tag-unknown-value/neg", "CF_A", &TAGS);
    let mut extra = TAGS.to_vec();
    extra.push("team-edge");
    d = put(d, "prod", "/tag-extra/pos", "CF_A", &extra);
    d = put(d, "prod", "/tag-extra/neg", "CF_A", &TAGS);
    // Rotating secrets, each with the companion below but expiry-missing/pos;
    // a non-rotating one needs none.
    for folder in [
        "/expiry-missing/pos",
        "/expiry-missing/neg",
        "/expiry-unparseable/pos",
        "/expiry-unparseable/neg",
        "/expired/pos",
        "/expired/neg",
        "/expiring/pos",
        "/expiring/neg",
    ] {
        d = put(d, "prod", folder, "CF_A", &rotating);
    }
    d = put(d, "prod", "/expiry-missing/neg", "CF_B", &TAGS);
    d = put(d, "prod", "/companion-orphan/neg", "CF_HERE", &TAGS);
    let expires = "CF_A__EXPIRES_AT";
    for (folder, key, companion) in [
        ("/expiry-missing/neg", expires, "non-expiring".to_string()),
        ("/expiry-unparseable/pos", expires, "PLANTED 31/12".into()),
        ("/expiry-unparseable/neg", expires, iso(400, 0)),
        // A day ago, written in UTC+5: still in the past.
        ("/expired/pos", expires, iso(-1, 5)),
        ("/expired/neg", expires, iso(400, -8)),
        ("/expiring/pos", expires, iso(5, -3)),
        ("/expiring/neg", expires, iso(30, 0)),
        ("/companion-orphan/pos", "CF_GONE__SCOPES", "Zone:DNS:Edit".into()),
        ("/companion-orphan/neg", "CF_HERE__SCOPES", "Zone:DNS:Edit".into()),
        ("/companion-orphan/neg", "CF_HERE__CLIENT_ID", value("client-id")),
    ] {
        d = meta(d, "prod", folder, key, &companion);
    }
    d = put(d, "prod", "/full-access/pos", "HK_PLATFORM_FULL", &TAGS);
    d = put(d, "prod", "/full-access/neg", "HK_PLATFORM_APP", &TAGS);
    // Rule 2: same key and value in prod and staging; the negative differs.
    d = put(d, "prod", "/rule2-duplicate/pos", "CF_SHARED", &TAGS);
    d = put(d, "staging", "/rule2-duplicate/pos", "CF_SHARED", &TAGS);
    d = put(d, "prod", "/rule2-duplicate/neg", "HK_APP", &TAGS);
    // A renamed copy is still a copy; a short value shared by chance is not.
    let renamed = value("renamed-token");
    for (env, folder, key, v) in [
        ("prod", "/rule2-duplicate/pos", "CF_TUNNEL", renamed.clone()),
        ("staging", "/rule2-duplicate/pos", "CF_TUNNEL_STAGING", renamed),
        ("prod", "/rule2-duplicate/neg", "SL_PORT", "8443".into()),
        (
            "staging",
            "/rule2-duplicate/neg",
            "SL_WEBHOOK_PORT",
            "8443".into(),
        ),
        (
            "staging",
            "/rule2-duplicate/neg",
            "HK_APP",
            value("HK_APP-staging"),
        ),
    ] {
        d = d.add_secret(PROJECT, env, folder, SecretEntry::new(key, &v).tags(&TAGS));
    }
    d
}

#[tokio::test]
async fn every_rule_has_a_positive_and_a_negative_case() {
    let (_vault, env) = audit("*:/**").await;
    let run = lint(
        &env,
        &["--environment", "prod", "--environment", "staging", "--json"],
    )
    .await;
    assert_nothing_leaks(&run, &[]);
    assert_eq!(run.code, 1, "errors found: {}", run.stdout);
    let found = run.located();
    let by_rule = |rule: &str, place: &str| {
        found
            .iter()
            .filter(|(r, l)| r == rule && l.contains(place))
            .count()
    };
    let exercised = [
        "name-pattern",
        "unknown-vendor",
        "tag-missing",
        "tag-duplicate",
        "tag-multiple-consumers",
        "tag-unknown-value",
        "tag-extra",
        "expiry-missing",
        "expiry-unparseable",
        "expired",
        "expiring",
        "companion-orphan",
        "full-access",
        "rule2-duplicate",
    ];
    for rule in exercised {
        assert!(
            by_rule(rule, &format!("/{rule}/pos/")) >= 1,
            "{rule}: no positive finding in {found:#?}"
        );
        assert_eq!(
            by_rule(rule, &format!("/{rule}/neg/")),
            0,
            "{rule}: negative case flagged in {found:#?}"
        );
        // No rule fires anywhere but in its own folders, except the ones a
        // positive case of another rule implies.
        let stray: Vec<_> = found
            .iter()
            .filter(|(r, l)| r == rule && !l.contains(&format!("/{rule}/")))
            .collect();
        assert!(
            stray.is_empty() || rule == "tag-multiple-consumers",
            "{rule} fired elsewhere: {stray:?}"
        );
    }
    // Exact places for the ones whose key matters.
    assert!(found.contains(&(
        "rule2-duplicate".into(),
        "staging:/rule2-duplicate/pos/CF_SHARED".into()
    )));
    assert!(found.contains(&(
        "rule2-duplicate".into(),
        "staging:/rule2-duplicate/pos/CF_TUNNEL_STAGING".into()
    )));
    assert!(found.contains(&(
        "companion-orphan".into(),
        "prod:/companion-orphan/pos/CF_GONE__SCOPES".into()
    )));
    // Companions are folded, never linted as names or tags.
    assert!(
        !found
            .iter()
            .any(|(r, l)| r != "companion-orphan" && l.contains("__")),
        "{found:#?}"
    );
}

#[tokio::test]
async fn expiry_window_is_configurable() {
    let (_vault, env) = audit("prod:/expiring/**").await;
    let run = lint(&env, &["--json"]).await;
    assert_eq!(run.code, 0, "warnings only: {}", run.stdout);
    assert_found_only(&run, "expiring", "prod:/expiring/pos/CF_A");
    let run = lint(&env, &["--json", "--expiry-warning-days", "40"]).await;
    assert_eq!(run.located().len(), 2, "{}", run.stdout);
    let run = lint(&env, &["--json", "--expiry-warning-days", "0"]).await;
    assert_eq!(run.located().len(), 0, "{}", run.stdout);
}

#[tokio::test]
async fn vendor_codes_are_configurable() {
    let (_vault, env) = audit("prod:/unknown-vendor/**").await;
    let run = lint(&env, &["--json", "--vendor-codes", "HK"]).await;
    assert_eq!(
        run.located(),
        BTreeSet::from([(
            "unknown-vendor".into(),
            "prod:/unknown-vendor/pos/HEROKU_API_KEY".into()
        )]),
        "{}",
        run.stdout
    );
    let run = lint(&env, &["--json", "--vendor-codes", "CF"]).await;
    assert_eq!(run.located().len(), 2, "{}", run.stdout);
    let run = lint(&env, &["--vendor-codes", "cf,toolong"]).await;
    assert_eq!(run.code, 2);
    assert!(run.stderr.contains("--vendor-codes"), "{}", run.stderr);
}

#[tokio::test]
async fn json_shape_and_exit_codes() {
    let vault = start(cases(), auditor()).await;
    // Errors: exit 1, ok false.
    let env = env_for(&vault, PROJECT, "prod:/expired/**");
    let run = lint(&env, &["--json"]).await;
    assert_eq!(run.code, 1);
    let doc = run.json();
    assert_eq!(doc["ok"], false);
    assert_eq!(doc["counts"]["error"], 1);
    assert_eq!(doc["counts"]["warning"], 0);
    assert_eq!(doc["counts"]["info"], 0);
    let f = &doc["findings"][0];
    for field in ["rule", "severity", "environment", "path", "key", "message", "fix"] {
        assert!(f.get(field).is_some(), "{field} missing in {f}");
    }
    assert_eq!(f["rule"], "expired");
    assert_eq!(f["severity"], "error");
    assert_eq!(f["environment"], "prod");
    assert_eq!(f["path"], "/expired/pos");
    assert_eq!(f["key"], "CF_A");
    assert!(!f["fix"].as_str().unwrap().is_empty());
    // Warnings and info only: exit 0, ok true.
    let env = env_for(&vault, PROJECT, "prod:/full-access/** prod:/tag-extra/**");
    let run = lint(&env, &["--json"]).await;
    assert_eq!(run.code, 0, "{}", run.stdout);
    let doc = run.json();
    assert_eq!(doc["ok"], true);
    assert_eq!(doc["counts"]["warning"], 1);
    assert_eq!(doc["counts"]["info"], 1);
    // Nothing at all: exit 0.
    let env = env_for(&vault, PROJECT, "prod:/full-access/neg");
    let run = lint(&env, &["--json"]).await;
    assert_eq!(
        (run.code, run.json()["findings"].as_array().unwrap().len()),
        (0, 0)
    );
    // Configuration errors: exit 2, named on stderr, nothing on stdout.
    let mut no_scope = env_for(&vault, PROJECT, "");
    no_scope.remove("INFISICAL_SCOPE");
    let run = lint(&no_scope, &["--json"]).await;
    assert_eq!(run.code, 2);
    assert!(run.stderr.contains("INFISICAL_SCOPE"), "{}", run.stderr);
    assert!(run.stdout.is_empty());
    let run = lint(&env, &["--environment", "staging"]).await;
    assert_eq!(run.code, 2);
    assert!(run.stderr.contains("outside the scope"), "{}", run.stderr);
    let mut no_project = env.clone();
    no_project.remove("INFISICAL_PROJECT_ID");
    let run = lint(&no_project, &[]).await;
    assert_eq!(run.code, 2);
    assert!(run.stderr.contains("INFISICAL_PROJECT_ID"), "{}", run.stderr);
}

#[tokio::test]
async fn human_report_is_grouped_by_severity() {
    let vault = start(cases(), auditor()).await;
    let env = env_for(
        &vault,
        PROJECT,
        "prod:/expired/** prod:/full-access/** prod:/tag-extra/**",
    );
    let run = lint(&env, &[]).await;
    assert_nothing_leaks(&run, &[]);
    assert_eq!(run.code, 1);
    let out = &run.stdout;
    let (e, w, i) = (
        out.find("errors (1)").unwrap(),
        out.find("warnings (1)").unwrap(),
        out.find("info (1)").unwrap(),
    );
    assert!(e < w && w < i, "{out}");
    assert!(out.contains("expired"), "{out}");
    assert!(out.contains("prod:/expired/pos/CF_A"), "{out}");
    assert!(out.contains("fix: "), "{out}");
    assert!(out.contains("1 errors, 1 warnings, 1 info"), "{out}");
}

#[tokio::test]
async fn only_what_the_scope_allows_is_read() {
    let (vault, env) = audit("prod:/expired/** staging:/rule2-duplicate/**").await;
    let run = lint(&env, &["--json"]).await;
    let doc = run.json();
    assert_eq!(doc["environments"], serde_json::json!(["prod", "staging"]));
    for (_, place) in run.located() {
        assert!(place.starts_with("prod:/expired/"), "{place}");
    }
    // Listings start at the scope's folders, never above them.
    for r in vault.requests() {
        if let Some(path) = r.query_param("secretPath") {
            assert!(
                path.starts_with("/expired") || path.starts_with("/rule2-duplicate"),
                "listed {path}"
            );
        }
    }
    // Rule 2 needs both sides in scope: staging alone finds no duplicate.
    assert!(!run.located().iter().any(|(r, _)| r == "rule2-duplicate"));
    // --path narrows further.
    let env = env_for(&vault, PROJECT, "prod:/**");
    let run = lint(&env, &["--json", "--path", "/expired/neg"]).await;
    assert_eq!(run.located(), BTreeSet::new(), "{}", run.stdout);
}

#[tokio::test]
async fn unreadable_and_missing_folders_are_reported() {
    let (vault, env) = audit("prod:/nowhere/** prod:/expired/neg/**").await;
    let run = lint(&env, &["--json"]).await;
    assert_eq!(run.code, 0, "{}", run.stdout);
    assert_found_only(&run, "folder-missing", "prod:/nowhere");
    vault.faults().fail_next_on("/api/v4/secrets", 100, 500);
    let run = lint(&env, &["--json"]).await;
    assert_nothing_leaks(&run, &[]);
    assert_eq!(run.code, 1, "{}", run.stdout);
    assert!(
        run.located()
            .contains(&("vault-read".into(), "prod:/expired/neg".into())),
        "{}",
        run.stdout
    );
}

/// Values of the demo dataset that must never be printed (a sample).
fn sample_values() -> Vec<String> {
    [
        "cf-FAKE-dns-edit-raxx-app-7Qm2Lx9Pz4",
        "cf-FAKE-waf-edit-raxx-app-Vb81Ck0Ws3",
        "hk-FAKE-platform-staging-0000",
        "hk-FAKE-platform-prod-1111",
        "end of Q3",
        "PKFAKE0000PAPER",
        "warden-FAKE-api-token-4Rt7",
        "Grüße aus Zürich",
        "pg-FAKE-password-Qw3",
        "postgres://",
        "f4ke0000vault.access",
        "RSA PRIVATE KEY",
        "3501352",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect()
}

#[tokio::test]
async fn the_demo_dataset_exercises_every_finding() {
    let vault = start(
        VaultData::sample(),
        Identity::new(
            CLIENT_ID,
            CLIENT_SECRET,
            ["dev", "staging", "prod"]
                .into_iter()
                .map(|e| PermissionRule::read(e, "/**"))
                .collect(),
        ),
    )
    .await;
    let env = env_for(&vault, infisical_fakevault::DEMO_PROJECT_ID, "*:/**");
    let args = [
        "--environment",
        "dev",
        "--environment",
        "staging",
        "--environment",
        "prod",
    ];
    let mut json_args = args.to_vec();
    json_args.push("--json");
    let run = lint(&env, &json_args).await;
    assert_nothing_leaks(&run, &sample_values());
    assert!(!run.stdout.contains("FAKE") && !run.stderr.contains("FAKE"));
    assert_eq!(run.code, 1);
    let found = run.located();
    let rules: BTreeSet<&str> = found.iter().map(|(r, _)| r.as_str()).collect();
    for (id, _, _) in RULES {
        if id != "vault-read" && id != "folder-missing" {
            assert!(rules.contains(id), "the sample lacks a {id} finding: {found:#?}");
        }
    }
    for expected in [
        ("expired", "prod:/MooseQuest/cloudflare/CF_WAF_EDIT_RAXX_APP"),
        ("expiring", "prod:/MooseQuest/cloudflare/CF_DNS_EDIT_RAXX_APP"),
        (
            "rule2-duplicate",
            "staging:/MooseQuest/cloudflare/CF_DNS_EDIT_RAXX_APP",
        ),
        ("full-access", "prod:/MooseQuest/heroku/HK_PLATFORM_FULL"),
        ("full-access", "staging:/MooseQuest/heroku/HK_PLATFORM_FULL"),
        ("expiry-unparseable", "prod:/MooseQuest/postmark/PM_SERVER_MAIL"),
        (
            "companion-orphan",
            "prod:/MooseQuest/cloudflare/CF_PAGES_DEPLOY__SCOPES",
        ),
        ("name-pattern", "prod:/MooseQuest/dreamhost/dh_dns_mgmt"),
    ] {
        assert!(
            found.contains(&(expected.0.into(), expected.1.into())),
            "{expected:?} not in {found:#?}"
        );
    }
    // Negatives in the same data: Rule 1 pairs differ, the AWS key pair and
    // the non-rotating account id are clean.
    for place in ["AWS_ACCOUNT_ID", "AWS_INFISICAL_BOOTSTRAP", "ALP_PAPER_TRADING__"] {
        assert!(
            !found.iter().any(|(_, l)| l.contains(place)),
            "{place} flagged: {found:#?}"
        );
    }
    assert!(
        !found
            .iter()
            .any(|(r, l)| r == "rule2-duplicate" && l.contains("HK_PLATFORM_FULL"))
    );

    // The human report of the same run leaks nothing either.
    let run = lint(&env, &args).await;
    assert_nothing_leaks(&run, &sample_values());
    assert!(!run.stdout.contains("FAKE") && !run.stderr.contains("FAKE"));
    assert!(run.stdout.contains("errors ("), "{}", run.stdout);
}

#[tokio::test]
async fn default_environments_come_from_the_scope() {
    let vault = start(VaultData::sample(), infisical_fakevault::demo_identity()).await;
    let mut env = common::good_env(&vault);
    env.insert("RUST_LOG".into(), "trace".into());
    let run = lint(&env, &["--json"]).await;
    assert_nothing_leaks(&run, &sample_values());
    let doc = run.json();
    assert_eq!(doc["environments"], serde_json::json!(["dev", "prod"]));
    assert!(
        !run.located().iter().any(|(_, l)| l.starts_with("staging:")),
        "{}",
        run.stdout
    );
    // A '*' entry means every environment of the project, whatever
    // INFISICAL_ENVIRONMENT (a serve default) says.
    env.insert("INFISICAL_SCOPE".into(), "*:/agents/warden/**".into());
    env.insert("INFISICAL_ENVIRONMENT".into(), "dev".into());
    let run = lint(&env, &["--json"]).await;
    assert_eq!(
        run.json()["environments"],
        serde_json::json!(["dev", "staging", "prod"])
    );
    assert!(
        run.located()
            .iter()
            .any(|(_, l)| l.starts_with("dev:/agents/warden/"))
    );
}

#[tokio::test]
async fn describe_only_secrets_are_linted_without_their_values() {
    // Read on /d, describe only below it: a listing with values drops the
    // lower secrets silently, so lint must list without values too.
    let rotating = with(&TAGS, "rotation-", "rotation-90d");
    let mut d = VaultData::new()
        .project(PROJECT, "lint", "lint")
        .environment(PROJECT, "prod", "Production");
    d = put(d, "prod", "/d", "CF_TOP", &TAGS);
    d = put(d, "prod", "/d/sub", "cf_hidden_name", &TAGS);
    d = put(d, "prod", "/d/sub", "CF_ROTATING", &rotating);
    d = meta(d, "prod", "/d/sub", "CF_ROTATING__EXPIRES_AT", &iso(-3, 0));
    let identity = Identity::new(
        CLIENT_ID,
        CLIENT_SECRET,
        vec![
            PermissionRule::read("prod", "/d"),
            PermissionRule::new(&[Action::DescribeSecret], "prod", "/d/sub"),
        ],
    );
    let vault = start(d, identity).await;
    let env = env_for(&vault, PROJECT, "prod:/d/**");
    let run = lint(&env, &["--json"]).await;
    assert_nothing_leaks(&run, &[]);
    let found = run.located();
    assert!(
        found.contains(&("name-pattern".into(), "prod:/d/sub/cf_hidden_name".into())),
        "{found:#?}"
    );
    // Its expiry could not be read: neither expired nor unparseable.
    assert!(
        !found.iter().any(|(_, l)| l.contains("CF_ROTATING")),
        "{found:#?}"
    );
    assert_eq!(run.code, 0, "{}", run.stdout);
    let doc = run.json();
    assert_eq!(doc["secretsChecked"], 3, "{doc}");
    let notes = doc["notes"].as_array().unwrap();
    assert!(
        notes.iter().any(|n| n
            .as_str()
            .unwrap()
            .contains("3 secret(s) listed without their values")),
        "{notes:?}"
    );
    // The human report says what was not covered.
    let run = lint(&env, &[]).await;
    assert!(run.stdout.contains("not covered"), "{}", run.stdout);
    assert!(run.stdout.contains("grant readValue"), "{}", run.stdout);
}

#[tokio::test]
async fn rule2_needs_both_environments_and_says_so() {
    let (_vault, env) = audit("*:/rule2-duplicate/**").await;
    let run = lint(&env, &["--json", "--environment", "staging"]).await;
    assert!(!run.located().iter().any(|(r, _)| r == "rule2-duplicate"));
    let notes = run.json()["notes"].clone();
    assert!(
        notes[0].as_str().unwrap().contains("Rule 2")
            && notes[0].as_str().unwrap().contains("--environment prod"),
        "{notes}"
    );
    let run = lint(
        &env,
        &["--json", "--environment", "staging", "--environment", "prod"],
    )
    .await;
    assert_eq!(run.json()["notes"], serde_json::json!([]));
    assert!(run.located().iter().any(|(r, _)| r == "rule2-duplicate"));
}

#[tokio::test]
async fn demo_lint_audits_the_sample_without_setup() {
    let env = HashMap::from([("RUST_LOG".to_string(), "trace".to_string())]);
    let run = run_bin(&env, &["demo", "--lint", "--json"]).await;
    assert_nothing_leaks(&run, &sample_values());
    assert!(!run.stdout.contains("FAKE") && !run.stderr.contains("FAKE"));
    assert_eq!(run.code, 1, "the sample holds errors by design: {}", run.stderr);
    let doc = run.json();
    assert_eq!(doc["environments"], serde_json::json!(["dev", "staging", "prod"]));
    let rules: BTreeSet<String> = run.located().into_iter().map(|(r, _)| r).collect();
    assert_eq!(
        rules.len(),
        RULES.len() - 2,
        "all but vault-read and folder-missing: {rules:?}"
    );
}

#[tokio::test]
async fn the_older_self_hosted_build_gives_the_same_findings() {
    let mut found = Vec::new();
    for generation in [Generation::Current, Generation::Legacy] {
        let vault = start_as(generation, cases(), auditor()).await;
        let env = env_for(&vault, PROJECT, "*:/**");
        let run = lint(
            &env,
            &["--environment", "prod", "--environment", "staging", "--json"],
        )
        .await;
        assert_nothing_leaks(&run, &[]);
        assert_eq!(run.code, 1, "{}", run.stdout);
        found.push(run.located());
    }
    assert!(found[0].len() > 14, "{:#?}", found[0]);
    assert_eq!(found[0], found[1]);
}

#[tokio::test]
async fn a_star_scope_audits_every_environment_of_the_project() {
    let (vault, env) = audit("*:/rule2-duplicate/**").await;
    let run = lint(&env, &["--json"]).await;
    let doc = run.json();
    assert_eq!(
        doc["environments"],
        serde_json::json!(["prod", "staging"]),
        "{doc}"
    );
    assert!(run.located().iter().any(|(r, _)| r == "rule2-duplicate"));
    assert!(
        vault
            .requests()
            .iter()
            .any(|r| r.path == format!("/api/v1/workspace/{PROJECT}")),
        "environments come from the project"
    );

    // Named environments that do not reach --path are skipped, not errors.
    let env = env_for(&vault, PROJECT, "prod:/expired/** staging:/rule2-duplicate/**");
    let run = lint(&env, &["--json", "--path", "/expired"]).await;
    assert_eq!(
        run.json()["environments"],
        serde_json::json!(["prod"]),
        "{}",
        run.stderr
    );
    let run = lint(&env, &["--json", "--path", "/elsewhere"]).await;
    assert_eq!(run.code, 2);
    assert!(run.stderr.contains("--path"), "{}", run.stderr);

    // If the project cannot be read, the named environments are still
    // audited and the gap is an error.
    vault.faults().fail_next_on("/api/v1/workspace", 100, 500);
    let env = env_for(&vault, PROJECT, "*:/** prod:/expired/neg/**");
    let run = lint(&env, &["--json"]).await;
    assert_nothing_leaks(&run, &[]);
    assert_eq!(run.code, 1, "{}", run.stdout);
    let doc = run.json();
    assert_eq!(doc["environments"], serde_json::json!(["prod"]));
    let failure = doc["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["rule"] == "vault-read")
        .unwrap_or_else(|| panic!("{doc}"));
    assert_eq!(failure["environment"], "*");
    assert!(
        failure["message"]
            .as_str()
            .unwrap()
            .contains("project's environments")
    );
}

/// A real vault stores the taxonomy's tags as `function-dns-edit`
/// (no colon is allowed in a slug), on both builds; a newer build may name a
/// tag `function:dns-edit` (the 2024 build's name is always its slug). Both
/// read as the four dimensions.
#[tokio::test]
async fn real_tag_slugs_and_colon_names_satisfy_the_taxonomy() {
    let real = [
        "function-dns-edit",
        "sensitivity-high",
        "consumer-terraform",
        "rotation-90d",
    ];
    for generation in [Generation::Current, Generation::Legacy] {
        let data =
            VaultData::new()
                .project(PROJECT, "lint", "lint")
                .environment(PROJECT, "prod", "Production");
        let data = put(data, "prod", "/tags/real", "CF_REAL", &real);
        let data = meta(data, "prod", "/tags/real", "CF_REAL__EXPIRES_AT", "2099-01-01");
        // Without its expiry, rotation-90d must still count as a cadence.
        let mut data = put(data, "prod", "/tags/rotating", "CF_ROTATING", &real);
        if generation == Generation::Current {
            let named = SecretEntry::new("CF_NAMED", &value("CF_NAMED"))
                .named_tag("dns-edit-fn", "function:dns-edit")
                .named_tag("high", "sensitivity:high")
                .named_tag("tf", "consumer:terraform")
                .named_tag("every-90d", "rotation:90d");
            data = data.add_secret(PROJECT, "prod", "/tags/named", named);
            data = meta(data, "prod", "/tags/named", "CF_NAMED__EXPIRES_AT", "2099-01-01");
        }
        let vault = start_as(generation, data, auditor()).await;
        let env = env_for(&vault, PROJECT, "prod:/tags/**");
        let run = lint(&env, &["--json"]).await;
        assert_eq!(
            run.json()["secretsChecked"],
            2 + u64::from(generation == Generation::Current)
        );
        assert_eq!(
            run.located(),
            BTreeSet::from([("expiry-missing".into(), "prod:/tags/rotating/CF_ROTATING".into())]),
            "{generation:?}: {}",
            run.stdout
        );
    }
}

/// A scope entry that leaves out the folder it names leaves that
/// folder out of the audit; the report says so among what it did not cover.
#[tokio::test]
async fn a_glob_that_leaves_out_its_folder_is_a_note() {
    let (_vault, env) = audit("prod:/tag-missing/pos/* prod:/tag-extra/**").await;
    let run = lint(&env, &["--json"]).await;
    let notes = run.json()["notes"].clone();
    let gap: Vec<&str> = notes
        .as_array()
        .unwrap()
        .iter()
        .filter_map(Value::as_str)
        .filter(|n| n.contains("does not cover the folder"))
        .collect();
    assert_eq!(gap.len(), 1, "{notes}");
    assert!(
        gap[0].starts_with(
            "scope entry prod:/tag-missing/pos/* does not cover the folder /tag-missing/pos itself"
        ) && gap[0].contains("write prod:/tag-missing/pos/**"),
        "{notes}"
    );
    // And indeed the secret stored in /tag-missing/pos was not audited.
    assert!(
        !run.located()
            .iter()
            .any(|(_, at)| at.starts_with("prod:/tag-missing/")),
        "{}",
        run.stdout
    );
    let human = lint(&env, &[]).await;
    let covered = human.stdout.split("not covered\n").nth(1).unwrap_or_default();
    assert!(
        covered.contains("  - scope entry prod:/tag-missing/pos/* does not cover"),
        "{}",
        human.stdout
    );
}
