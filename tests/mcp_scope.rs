//! The scope holds where the vault's own permissions are wider or wrong:
//! imports (one hop and chained), `${…}` references (direct and nested) and
//! listings never hand the agent a value from outside `dev:/agents/warden/**`,
//! on both API generations, with an identity that may read all of `dev`, and
//! with the older build's real hole (a chain of imports past the identity's
//! own privilege). The request log shows what crossed the wire.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::collections::HashMap;

use common::*;
use infisical_fakevault::{
    FakeVault, Generation, Identity, PermissionRule, RecordedRequest, RunningVault, VaultData,
};
use serde_json::{Value, json};

const PROJECT: &str = "proj-scope-1";
const WIDE_ID: &str = "ua-wide-0001";
const WIDE_SECRET: &str = "ua-wide-SECRET-5e1";
const NARROW_ID: &str = "ua-narrow-0002";
const NARROW_SECRET: &str = "ua-narrow-SECRET-9b2";

const SHARED_TOKEN: &str = "shared-token-OUTSIDE-8d41";
const WARDEN_KEY: &str = "warden-key-INSIDE-1a2b";
const DEEP_SECRET: &str = "deep-INSIDE-3c4d";
const LIB_TOKEN: &str = "lib-token-INSIDE-5e6f";
const OTHER_VALUE: &str = "other-agent-OUTSIDE-7a8b";
const SCOPE: &str = "dev:/agents/warden/**";

/// Values that must never reach the agent.
const OUTSIDE: [&str; 2] = [SHARED_TOKEN, OTHER_VALUE];

fn data() -> VaultData {
    let w = "/agents/warden";
    VaultData::new()
        .project(PROJECT, "scope-project", "scope-project")
        .environment(PROJECT, "dev", "Development")
        .secret(PROJECT, "dev", "/shared", "SHARED_TOKEN", SHARED_TOKEN)
        .secret(PROJECT, "dev", "/agents/other", "OTHER_SECRET", OTHER_VALUE)
        .secret(PROJECT, "dev", w, "WARDEN_API_KEY", WARDEN_KEY)
        .secret(
            PROJECT,
            "dev",
            w,
            "WARDEN_API_KEY__EXPIRES_AT",
            "2099-01-01T00:00:00Z",
        )
        .secret(PROJECT, "dev", w, "WARDEN_REF_LOCAL", "${WARDEN_API_KEY}")
        .secret(
            PROJECT,
            "dev",
            w,
            "WARDEN_REF_CHAIN",
            "k=${WARDEN_REF_LOCAL};d=${dev.agents.warden.deep.DEEP_SECRET}",
        )
        .secret(
            PROJECT,
            "dev",
            w,
            "WARDEN_REF_SHARED",
            "${dev.shared.SHARED_TOKEN}",
        )
        .secret(
            PROJECT,
            "dev",
            w,
            "WARDEN_REF_NESTED",
            "x-${dev.agents.warden.deep.DEEP_REF}",
        )
        .secret(PROJECT, "dev", w, "WARDEN_REF_MISSING", "${NOT_THERE}")
        .secret(PROJECT, "dev", &format!("{w}/deep"), "DEEP_SECRET", DEEP_SECRET)
        .secret(
            PROJECT,
            "dev",
            &format!("{w}/deep"),
            "DEEP_REF",
            "${dev.shared.SHARED_TOKEN}",
        )
        .import(PROJECT, "dev", &format!("{w}/deep"), "dev", "/shared")
        .folder(PROJECT, "dev", &format!("{w}/importer"))
        .import(
            PROJECT,
            "dev",
            &format!("{w}/importer"),
            "dev",
            &format!("{w}/deep"),
        )
        .secret(PROJECT, "dev", &format!("{w}/lib"), "LIB_TOKEN", LIB_TOKEN)
        .folder(PROJECT, "dev", &format!("{w}/uses-lib"))
        .import(
            PROJECT,
            "dev",
            &format!("{w}/uses-lib"),
            "dev",
            &format!("{w}/lib"),
        )
}

/// May read all of `dev`: wider than the client scope.
fn wide() -> Identity {
    Identity::new(WIDE_ID, WIDE_SECRET, vec![PermissionRule::read("dev", "/**")])
}

/// The recorded `warden-ro`: exactly the client scope.
fn narrow() -> Identity {
    Identity::new(
        NARROW_ID,
        NARROW_SECRET,
        vec![PermissionRule::read("dev", "/agents/warden/**")],
    )
}

async fn vault(generation: Generation) -> RunningVault {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    FakeVault::new(data())
        .generation(generation)
        .gate(login_gate())
        .identity(wide())
        .identity(narrow())
        .start(listener)
        .await
        .unwrap()
}

fn env_for(vault: &RunningVault, client: (&str, &str)) -> HashMap<String, String> {
    common::with(
        common::vault_env(vault, client.0, client.1, PROJECT),
        &[("INFISICAL_ENVIRONMENT", "dev"), ("INFISICAL_SCOPE", SCOPE)],
    )
}

fn query<'a>(r: &'a RecordedRequest, key: &str) -> Option<&'a str> {
    r.query.iter().find(|(k, _)| k == key).map(|(_, v)| v.as_str())
}

fn is_secret_read(r: &RecordedRequest) -> bool {
    r.gate_passed && (r.path.starts_with("/api/v3/secrets/raw") || r.path.starts_with("/api/v4/secrets"))
}

/// No request the server sent may ask the vault to follow imports, expand
/// references or list recursively, nor name a folder outside the scope.
fn assert_wire_stays_in_scope(vault: &RunningVault) {
    for r in vault
        .requests()
        .iter()
        .filter(|r| is_secret_read(r) || r.path == "/api/v1/secret-imports")
    {
        for key in [
            "include_imports",
            "includeImports",
            "expandSecretReferences",
            "recursive",
        ] {
            assert_ne!(
                query(r, key),
                Some("true"),
                "{key}=true sent: {} {:?}",
                r.path,
                r.query
            );
        }
        let path = query(r, "secretPath").or(query(r, "path")).unwrap_or("/");
        assert!(
            path.starts_with("/agents/warden"),
            "a read outside the scope left the machine: {} {:?}",
            r.path,
            r.query
        );
    }
}

fn assert_no_outside_value(served: &Served, results: &[&rmcp::model::CallToolResult]) {
    for result in results {
        let body = format!("{} {}", text(result), structured(result));
        for value in OUTSIDE {
            assert!(
                !body.contains(value),
                "an out-of-scope value reached the agent: {body}"
            );
        }
    }
    let stderr = served.stderr_text();
    for value in OUTSIDE {
        assert!(!stderr.contains(value), "an out-of-scope value reached stderr");
    }
}

/// The keys of a list-secrets result, in order.
fn listed_keys(out: &Value) -> Vec<String> {
    out["secrets"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["secretKey"].as_str().unwrap().to_string())
        .collect()
}

/// One entry of a list-secrets result, by key.
fn listed(out: &Value, key: &str) -> Value {
    out["secrets"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["secretKey"] == key)
        .cloned()
        .unwrap_or_else(|| panic!("{key} not listed: {out}"))
}

fn error_text(result: &rmcp::model::CallToolResult) -> String {
    assert!(is_error(result), "expected an error, got {}", text(result));
    text(result)
}

async fn get(served: &Served, name: &str, path: &str, extra: Value) -> rmcp::model::CallToolResult {
    let mut args = json!({"secretName": name, "secretPath": path});
    if let (Some(a), Some(e)) = (args.as_object_mut(), extra.as_object()) {
        a.extend(e.clone());
    }
    served.call("get-secret", args).await
}

#[tokio::test]
async fn imports_outside_the_scope_are_never_followed() {
    for generation in [Generation::Current, Generation::Legacy] {
        let vault = vault(generation).await;
        let served = serve(&env_for(&vault, (WIDE_ID, WIDE_SECRET)), &["serve"]).await;

        // One hop: deep imports /shared, which the identity may read.
        let one_hop = get(&served, "SHARED_TOKEN", "/agents/warden/deep", json!({})).await;
        let message = error_text(&one_hop);
        assert!(message.contains("dev:/shared"), "{generation:?}: {message}");
        assert!(message.contains("not consulted"), "{message}");
        let error = structured(&one_hop);
        assert_eq!(error["error"]["kind"], json!("not_found"), "{error}");
        assert!(
            error.get("secretValue").is_none(),
            "errors carry no value: {error}"
        );

        // Two hops: importer → deep → /shared.
        let chained = get(&served, "SHARED_TOKEN", "/agents/warden/importer", json!({})).await;
        let message = error_text(&chained);
        assert!(
            message.contains("dev:/agents/warden/importer → dev:/agents/warden/deep → dev:/shared"),
            "{message}"
        );

        // An in-scope import is served, saying where the value lives.
        let lib = get(&served, "LIB_TOKEN", "/agents/warden/uses-lib", json!({})).await;
        assert!(!is_error(&lib), "{}", text(&lib));
        let out = structured(&lib);
        assert_eq!(out["secretValue"], json!(LIB_TOKEN));
        assert_eq!(out["secretPath"], json!("/agents/warden/lib"));
        assert_eq!(out["importedFrom"], json!("dev:/agents/warden/lib"));
        assert_eq!(
            out["importChain"],
            json!(["dev:/agents/warden/uses-lib", "dev:/agents/warden/lib"])
        );
        // A secret of the chain's in-scope middle folder is served from there.
        let deep = get(&served, "DEEP_SECRET", "/agents/warden/importer", json!({})).await;
        assert_eq!(
            structured(&deep)["secretValue"],
            json!(DEEP_SECRET),
            "{}",
            text(&deep)
        );
        assert_eq!(structured(&deep)["secretPath"], json!("/agents/warden/deep"));

        // Without imports, nothing is looked up beyond the folder.
        let no_imports = get(
            &served,
            "LIB_TOKEN",
            "/agents/warden/uses-lib",
            json!({"includeImports": false}),
        )
        .await;
        assert!(error_text(&no_imports).contains("not found"));

        // Listings with imports follow the same rule.
        let listing = served
            .call("list-secrets", json!({"secretPath": "/agents/warden/importer"}))
            .await;
        assert!(!is_error(&listing), "{}", text(&listing));
        let out = structured(&listing);
        let keys = listed_keys(&out);
        let keys: Vec<&str> = keys.iter().map(String::as_str).collect();
        assert!(keys.contains(&"DEEP_SECRET"), "{keys:?}");
        assert!(!keys.contains(&"SHARED_TOKEN"), "{keys:?}");
        let notes = out["notes"].to_string();
        assert!(
            notes.contains("dev:/shared is outside this server's scope"),
            "{notes}"
        );

        assert_no_outside_value(&served, &[&one_hop, &chained, &lib, &deep, &listing]);
        assert_wire_stays_in_scope(&vault);
        // The shared folder was never read, directly or as an import.
        assert!(
            vault
                .requests()
                .iter()
                .all(|r| query(r, "secretPath") != Some("/shared"))
        );
    }
}

/// The older build itself lets an identity that may read only
/// `/agents/warden/**` read `/shared` through two chained imports; the client
/// does not, because it never asks the vault to follow imports.
#[tokio::test]
async fn the_older_builds_chained_import_hole_stays_closed() {
    let vault = vault(Generation::Legacy).await;
    let token = vault.issue_token(NARROW_ID);
    let http = reqwest::Client::new();
    let answer: Value = http
        .get(format!("{}/api/v3/secrets/raw/SHARED_TOKEN", vault.base_url()))
        .query(&[
            ("workspaceId", PROJECT),
            ("environment", "dev"),
            ("secretPath", "/agents/warden/importer"),
            ("include_imports", "true"),
        ])
        .header("CF-Access-Client-Id", CF_ID)
        .header("CF-Access-Client-Secret", CF_SECRET)
        .bearer_auth(&token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        answer["secret"]["secretValue"],
        json!(SHARED_TOKEN),
        "the fake reproduces the hole"
    );
    vault.clear_requests();

    let served = serve(&env_for(&vault, (NARROW_ID, NARROW_SECRET)), &["serve"]).await;
    let chained = get(&served, "SHARED_TOKEN", "/agents/warden/importer", json!({})).await;
    assert!(error_text(&chained).contains("dev:/shared"));
    assert_no_outside_value(&served, &[&chained]);
    assert_wire_stays_in_scope(&vault);
}

#[tokio::test]
async fn references_expand_only_inside_the_scope() {
    for generation in [Generation::Current, Generation::Legacy] {
        let vault = vault(generation).await;
        let served = serve(&env_for(&vault, (WIDE_ID, WIDE_SECRET)), &["serve"]).await;
        let w = "/agents/warden";

        let local = get(&served, "WARDEN_REF_LOCAL", w, json!({})).await;
        assert_eq!(
            structured(&local)["secretValue"],
            json!(WARDEN_KEY),
            "{}",
            text(&local)
        );
        // Nested in-scope references, local and cross-folder.
        let chain = get(&served, "WARDEN_REF_CHAIN", w, json!({})).await;
        assert_eq!(
            structured(&chain)["secretValue"],
            json!(format!("k={WARDEN_KEY};d={DEEP_SECRET}")),
            "{}",
            text(&chain)
        );
        // A missing secret keeps its reference text, as the vault does.
        let missing = get(&served, "WARDEN_REF_MISSING", w, json!({})).await;
        assert_eq!(structured(&missing)["secretValue"], json!("${NOT_THERE}"));

        // Direct and nested references outside the scope: refused, named.
        let direct = get(&served, "WARDEN_REF_SHARED", w, json!({})).await;
        let message = error_text(&direct);
        assert!(message.contains("${dev.shared.SHARED_TOKEN}"), "{message}");
        assert!(message.contains(SCOPE), "{message}");
        assert!(message.contains("expandSecretReferences=false"), "{message}");
        let nested = get(&served, "WARDEN_REF_NESTED", w, json!({})).await;
        let message = error_text(&nested);
        assert!(message.contains("${dev.shared.SHARED_TOKEN}"), "{message}");
        assert!(!message.contains("x-"), "no partly expanded value: {message}");

        // Unexpanded, the stored text is what the agent asked for.
        let raw = get(
            &served,
            "WARDEN_REF_SHARED",
            w,
            json!({"expandSecretReferences": false}),
        )
        .await;
        assert_eq!(
            structured(&raw)["secretValue"],
            json!("${dev.shared.SHARED_TOKEN}")
        );

        assert_no_outside_value(&served, &[&local, &chain, &missing, &direct, &nested, &raw]);
        assert_wire_stays_in_scope(&vault);
    }
}

#[tokio::test]
async fn listings_ask_only_for_what_they_return() {
    for generation in [Generation::Current, Generation::Legacy] {
        let vault = vault(generation).await;
        let served = serve(&env_for(&vault, (WIDE_ID, WIDE_SECRET)), &["serve"]).await;
        let listing = served
            .call("list-secrets", json!({"secretPath": "/", "recursive": true}))
            .await;
        assert!(!is_error(&listing), "{}", text(&listing));
        let out = structured(&listing);
        let keys = listed_keys(&out);
        let keys: Vec<&str> = keys.iter().map(String::as_str).collect();
        assert!(
            keys.contains(&"WARDEN_API_KEY") && keys.contains(&"DEEP_SECRET") && keys.contains(&"LIB_TOKEN"),
            "{keys:?}"
        );
        assert!(
            !keys.contains(&"SHARED_TOKEN") && !keys.contains(&"OTHER_SECRET"),
            "{keys:?}"
        );
        // Expiry comes from the companion, without a value on the wire.
        let warden = listed(&out, "WARDEN_API_KEY");
        assert_eq!(warden["expiresAt"], json!("2099-01-01T00:00:00Z"));
        assert!(warden.get("secretValue").is_none());
        for r in vault.requests().iter().filter(|r| is_secret_read(r)) {
            let listing = r.path.ends_with("/raw") || r.path.ends_with("/secrets");
            if listing && generation == Generation::Current {
                assert_eq!(
                    query(r, "viewSecretValue"),
                    Some("false"),
                    "values requested: {:?}",
                    r.query
                );
            }
            if !listing {
                // Single reads are companions only: metadata, not values.
                assert!(r.path.ends_with("__EXPIRES_AT"), "a value was read: {}", r.path);
            }
        }
        assert_no_outside_value(&served, &[&listing]);
        assert_wire_stays_in_scope(&vault);
    }
}

#[tokio::test]
async fn listed_values_with_outside_references_are_withheld() {
    let vault = vault(Generation::Current).await;
    let served = serve(
        &env_for(&vault, (WIDE_ID, WIDE_SECRET)),
        &["serve", "--list-values"],
    )
    .await;
    let listing = served
        .call("list-secrets", json!({"secretPath": "/agents/warden"}))
        .await;
    assert!(!is_error(&listing), "{}", text(&listing));
    let out = structured(&listing);
    let value_of = |key: &str| listed(&out, key)["secretValue"].clone();
    assert_eq!(value_of("WARDEN_REF_LOCAL"), json!(WARDEN_KEY));
    assert_eq!(value_of("WARDEN_REF_SHARED"), json!(null));
    assert_eq!(value_of("WARDEN_REF_NESTED"), json!(null));
    let notes = out["notes"].to_string();
    assert!(
        notes.contains("WARDEN_REF_SHARED") && notes.contains("withheld"),
        "{notes}"
    );
    assert_no_outside_value(&served, &[&listing]);
    assert_wire_stays_in_scope(&vault);
}

/// get-secret makes one vault request on its hot path: over twenty calls in
/// one folder, at most 1.25 requests per call, folder metadata included.
#[tokio::test]
async fn get_secret_costs_one_request_per_call() {
    for generation in [Generation::Current, Generation::Legacy] {
        let vault = vault(generation).await;
        let served = serve(&env_for(&vault, (WIDE_ID, WIDE_SECRET)), &["serve"]).await;
        // Counted from a fresh server: the first call also learns the route
        // generation and reads the folder's metadata.
        vault.clear_requests();
        let keys = [
            "WARDEN_API_KEY",
            "WARDEN_REF_MISSING",
            "WARDEN_REF_LOCAL",
            "WARDEN_API_KEY__EXPIRES_AT",
        ];
        for i in 0..20 {
            let result = get(
                &served,
                keys[i % keys.len()],
                "/agents/warden",
                json!({"expandSecretReferences": false}),
            )
            .await;
            assert!(!is_error(&result), "{}", text(&result));
        }
        let reads = vault
            .requests()
            .iter()
            .filter(|r| r.gate_passed && !r.path.contains("/auth/"))
            .count();
        eprintln!("{generation:?}: {reads} vault requests for 20 get-secret calls");
        assert!(
            reads <= 25,
            "{generation:?}: {reads} vault requests for 20 get-secret calls"
        );
        assert!(reads >= 20, "{generation:?}: {reads}");
    }
}

#[tokio::test]
async fn above_the_scope_nothing_is_listed_and_nothing_is_asked() {
    let vault = vault(Generation::Current).await;
    let served = serve(&env_for(&vault, (WIDE_ID, WIDE_SECRET)), &["serve"]).await;
    let listing = served
        .call("list-secrets", json!({"secretPath": "/agents"}))
        .await;
    assert!(!is_error(&listing), "{}", text(&listing));
    assert_eq!(structured(&listing)["total"], json!(0));
    assert!(
        structured(&listing)["scopeNote"]
            .as_str()
            .unwrap()
            .contains(SCOPE)
    );
    assert!(
        vault.requests().iter().all(|r| !is_secret_read(r)),
        "a parent listing left the machine"
    );
}

/// A listing is read again on every call (a new secret shows at once),
/// reusing only companions whose version has not changed.
#[tokio::test]
async fn listings_are_fresh_and_reuse_unchanged_companions() {
    for generation in [Generation::Current, Generation::Legacy] {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let writer = Identity::new(
            "ua-writer-0003",
            "ua-writer-SECRET-4d5",
            vec![PermissionRule::new(
                &[
                    infisical_fakevault::Action::Read,
                    infisical_fakevault::Action::Create,
                ],
                "dev",
                "/**",
            )],
        );
        let vault = FakeVault::new(data())
            .generation(generation)
            .identity(wide())
            .identity(writer)
            .start(listener)
            .await
            .unwrap();
        let served = serve(&env_for(&vault, (WIDE_ID, WIDE_SECRET)), &["serve"]).await;
        let keys = |result: &rmcp::model::CallToolResult| listed_keys(&structured(result));
        let args = json!({"secretPath": "/agents/warden"});
        let first = served.call("list-secrets", args.clone()).await;
        assert!(!keys(&first).contains(&"WARDEN_NEW".to_string()));

        let token = vault.issue_token("ua-writer-0003");
        let created = reqwest::Client::new()
            .post(format!("{}/api/v3/secrets/raw/WARDEN_NEW", vault.base_url()))
            .bearer_auth(&token)
            .json(&json!({"workspaceId": PROJECT, "environment": "dev", "secretPath": "/agents/warden", "secretValue": "new-INSIDE-9f"}))
            .send()
            .await
            .unwrap();
        assert_eq!(created.status(), 200, "{}", created.text().await.unwrap());
        vault.clear_requests();

        let second = served.call("list-secrets", args).await;
        assert!(
            keys(&second).contains(&"WARDEN_NEW".to_string()),
            "{generation:?}: {:?}",
            keys(&second)
        );
        let warden = listed(&structured(&second), "WARDEN_API_KEY");
        assert_eq!(warden["expiresAt"], json!("2099-01-01T00:00:00Z"));
        // One listing: companions and the folder's import list are reused.
        let reads: Vec<String> = vault
            .requests()
            .iter()
            .filter(|r| r.gate_passed && !r.path.contains("/auth/"))
            .map(|r| r.path.clone())
            .collect();
        assert_eq!(
            reads.len(),
            1,
            "{generation:?}: one listing, companions reused: {reads:?}"
        );
    }
}

/// References that double at every level cannot grow a value without bound.
#[tokio::test]
async fn an_exploding_expansion_is_refused() {
    let w = "/agents/warden";
    let mut data = VaultData::new()
        .project(PROJECT, "scope-project", "scope-project")
        .environment(PROJECT, "dev", "Development")
        .secret(PROJECT, "dev", w, "L0", &"x".repeat(64 * 1024));
    for level in 1..=8 {
        let below = format!("L{}", level - 1);
        data = data.secret(
            PROJECT,
            "dev",
            w,
            &format!("L{level}"),
            &format!("${{{below}}}${{{below}}}"),
        );
    }
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let vault = FakeVault::new(data)
        .identity(wide())
        .start(listener)
        .await
        .unwrap();
    let served = serve(&env_for(&vault, (WIDE_ID, WIDE_SECRET)), &["serve"]).await;
    // 64 KiB × 2⁴ = 1 MiB is fine; × 2⁸ = 16 MiB is not.
    let small = get(&served, "L4", w, json!({})).await;
    assert_eq!(
        structured(&small)["secretValue"].as_str().map(str::len),
        Some(1024 * 1024)
    );
    let huge = get(&served, "L8", w, json!({})).await;
    assert!(error_text(&huge).contains("expandSecretReferences=false"));
}

const OTHER_PROJECT: &str = "proj-scope-2";
const OTHER_PROJECT_VALUE: &str = "other-project-OUTSIDE-9c0d";

/// The identity may read `dev` in two projects; the scope names folders,
/// not projects. Every tool naming the other project is refused with zero
/// requests unless the operator named that project too.
#[tokio::test]
async fn another_project_is_refused_unless_the_operator_names_it() {
    for generation in [Generation::Current, Generation::Legacy] {
        let two_projects = and_project(data(), OTHER_PROJECT, "WARDEN_API_KEY", OTHER_PROJECT_VALUE);
        let vault = start(
            FakeVault::new(two_projects)
                .generation(generation)
                .gate(login_gate())
                .identity(wide()),
        )
        .await;
        let served = serve(&env_for(&vault, (WIDE_ID, WIDE_SECRET)), &["serve"]).await;
        for (tool, args) in [
            (
                "get-secret",
                json!({"secretName": "WARDEN_API_KEY", "secretPath": "/agents/warden", "projectId": OTHER_PROJECT}),
            ),
            (
                "list-secrets",
                json!({"secretPath": "/agents/warden", "projectId": OTHER_PROJECT}),
            ),
            ("list-folders", json!({"path": "/", "projectId": OTHER_PROJECT})),
        ] {
            let result = served.call(tool, args).await;
            let message = error_text(&result);
            let out = structured(&result);
            assert_eq!(
                out["error"]["kind"], "project_out_of_scope",
                "{generation:?} {tool}: {out}"
            );
            assert!(
                message.contains(OTHER_PROJECT) && message.contains(PROJECT),
                "{message}"
            );
            assert!(message.contains("INFISICAL_ALLOWED_PROJECTS"), "{message}");
            assert!(!message.contains(OTHER_PROJECT_VALUE));
        }
        assert!(
            vault.requests().is_empty(),
            "{generation:?}: a refused project reached the vault: {:?}",
            vault_reads(&vault)
        );

        // Named by the operator, the other project is read; the default one still is.
        let mut env = env_for(&vault, (WIDE_ID, WIDE_SECRET));
        env.insert("INFISICAL_ALLOWED_PROJECTS".into(), OTHER_PROJECT.into());
        let served = serve(&env, &["serve"]).await;
        let other = get(
            &served,
            "WARDEN_API_KEY",
            "/agents/warden",
            json!({"projectId": OTHER_PROJECT}),
        )
        .await;
        assert!(!is_error(&other), "{generation:?}: {}", text(&other));
        assert_eq!(structured(&other)["secretValue"], OTHER_PROJECT_VALUE);
        let mine = get(&served, "WARDEN_API_KEY", "/agents/warden", json!({})).await;
        assert_eq!(structured(&mine)["secretValue"], WARDEN_KEY);
        let third = get(
            &served,
            "WARDEN_API_KEY",
            "/agents/warden",
            json!({"projectId": "proj-scope-3"}),
        )
        .await;
        assert_eq!(structured(&third)["error"]["kind"], "project_out_of_scope");
    }
}
