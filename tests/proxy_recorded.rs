//! The scoped proxy's plan and answer check against answers recorded from a
//! real Infisical (the older self-hosted build), not against the fake: the
//! check relies on how the vault labels entries (`secretPath`,
//! `environment`, `imports[]`), and a belief shared by the fake and the
//! proxy could not show here.
//!
//! Each record's request is planned by the real policy (scope
//! `dev:/agents/warden/**`), then its recorded answer is checked.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;
use infisical_mcp_rs::agent::proxy::answer::{self, Checked};
use infisical_mcp_rs::agent::proxy::policy::Plan;
use infisical_mcp_rs::agent::proxy::{Policy, ScopeRule};
use infisical_mcp_rs::scope::Scope;
use serde_json::Value;

const SCOPE: &str = "dev:/agents/warden/**";

fn records() -> Vec<Value> {
    let text = include_str!("fixtures/recorded_scoped_answers.json");
    let v: Value = serde_json::from_str(text).unwrap();
    v["records"].as_array().unwrap().clone()
}

fn record(case: &str) -> Value {
    records()
        .into_iter()
        .find(|r| r["case"] == case)
        .unwrap_or_else(|| panic!("no record {case}"))
}

fn scope() -> Scope {
    Scope::parse_list(&[SCOPE.to_string()]).unwrap()
}

fn plan(url: &str) -> Plan {
    let policy = Policy {
        scope: Some(ScopeRule {
            scope: scope(),
            source: "--scope".into(),
            projects: None,
        }),
        ..Policy::default()
    };
    policy
        .check_request(&hyper::Method::GET, &url.parse().unwrap())
        .unwrap()
}

fn query_value(plan: &Plan, key: &str) -> Option<String> {
    url::form_urlencoded::parse(plan.query.as_deref().unwrap_or("").as_bytes())
        .find(|(k, _)| k == key)
        .map(|(_, v)| v.into_owned())
}

/// The recorded answer after the check: `None` when passed as is.
fn checked(case: &str) -> (Plan, Value, Option<Value>) {
    let rec = record(case);
    let plan = plan(rec["url"].as_str().unwrap());
    let body = serde_json::to_vec(&rec["body"]).unwrap();
    let want = plan.check.clone().expect("a scoped read is checked");
    let out = match answer::check(&scope(), &want, &body).unwrap() {
        Checked::AsIs => None,
        Checked::Filtered { body, .. } => Some(serde_json::from_slice(&body).unwrap()),
    };
    (plan, rec["body"].clone(), out)
}

fn keys(v: &Value) -> Vec<String> {
    let mut k: Vec<String> = v["secrets"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["secretKey"].as_str().unwrap().to_string())
        .collect();
    k.sort();
    k
}

#[test]
fn a_recursive_listing_by_a_wide_identity_is_cut_to_the_scope() {
    for case in ["recursive-agents-admin", "recursive-agents-include-imports-admin"] {
        let (plan, original, out) = checked(case);
        assert_eq!(query_value(&plan, "recursive").as_deref(), Some("true"));
        let out = out.expect("entries outside the scope were dropped");
        assert_eq!(
            keys(&out),
            [
                "DEEPER_SECRET",
                "DEEP_SECRET",
                "WARDEN_API_KEY",
                "WARDEN_DB_URL",
                "WARDEN_REF_LOCAL",
                "WARDEN_REF_SHARED",
                "WARDEN_TLS_KEY",
                "warden_lower"
            ],
            "{case}"
        );
        // `/agents/wardenx` shares a prefix with the scope but is outside it.
        for gone in ["WARDENX_SECRET", "OTHER_AGENT_SECRET", "AGENTS_PARENT_SECRET"] {
            assert!(
                keys(&original).contains(&gone.to_string()),
                "{case}: {gone} not recorded"
            );
            assert!(!out.to_string().contains(gone), "{case}: {gone} kept");
        }
        assert!(!out.to_string().contains("shared-token-dev-fake"), "{case}");
    }
}

#[test]
fn imports_labelled_inside_the_scope_are_dropped_too() {
    // The real vault labels the chained import `/agents/warden/importer` →
    // `/agents/warden/deep` → `/shared` with its first hop, inside the scope.
    let (plan, original, out) = checked("list-importer-include-imports-warden-ro");
    assert_eq!(original["imports"][0]["secretPath"], "/agents/warden/deep");
    assert!(original.to_string().contains("shared-token-dev-fake"));
    let out = out.expect("imports dropped");
    assert_eq!(out["imports"], serde_json::json!([]));
    assert!(!out.to_string().contains("shared-token-dev-fake"));
    // And the vault is not asked for them in the first place.
    assert_eq!(query_value(&plan, "include_imports").as_deref(), Some("false"));
    assert_eq!(query_value(&plan, "includeImports").as_deref(), Some("false"));

    let (_, _, out) = checked("list-deep-include-imports-admin");
    let out = out.unwrap();
    assert_eq!(keys(&out), ["DEEP_SECRET"]);
    assert!(!out.to_string().contains("shared-token-dev-fake"));
}

#[test]
fn what_the_answer_cannot_show_the_rewrite_prevents() {
    // One secret served through a chained import carries no `secretPath`
    // and the requested environment: indistinguishable from a secret of the
    // folder itself. Only not asking for imports keeps it out.
    let (plan, original, out) = checked("get-transitive-import-warden-ro");
    assert_eq!(original["secret"]["secretValue"], "shared-token-dev-fake");
    assert!(original["secret"].get("secretPath").is_none());
    assert_eq!(out, None, "the answer alone passes the check");
    assert_eq!(query_value(&plan, "include_imports").as_deref(), Some("false"));

    // An expanded value does not say where it came from either.
    let (plan, original, _) = checked("recursive-agents-expand-warden-ro");
    assert!(original.to_string().contains("wk-dev-0001-fake"));
    assert_eq!(
        query_value(&plan, "expandSecretReferences").as_deref(),
        Some("false")
    );
    assert!(plan.turned_off.contains(&"expandSecretReferences"));
}

#[test]
fn folder_listings_are_asked_by_path_and_filtered() {
    // The older build ignores `directory` without `path` and lists the root:
    // the CLI's spelling is sent as `path`.
    let rec = record("folders-directory-param");
    let names: Vec<&str> = common::strings_of(&rec["body"]["folders"], "name");
    assert!(
        names.contains(&"agents"),
        "the recording shows the root: {names:?}"
    );
    let p = plan(rec["url"].as_str().unwrap());
    assert_eq!(query_value(&p, "path").as_deref(), Some("/agents/warden"));
    assert_eq!(query_value(&p, "directory"), None);

    let (_, original, out) = checked("folders-parent");
    let out = out.unwrap_or(original.clone());
    let kept: Vec<&str> = common::strings_of(&out["folders"], "name");
    assert_eq!(kept, ["warden"], "recorded: {original}");
}
