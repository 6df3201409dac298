//! The real binary, spoken to over stdio by rmcp's client, against the fake
//! vault (current and older generation) behind the fake Cloudflare gate.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::collections::HashMap;
use std::time::Duration;

use common::*;
use infisical_fakevault::{
    CfGate, FakeVault, Generation, Identity, PermissionRule, RunningVault, SecretEntry, VaultData,
};
use serde_json::{Value, json};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};

/// The project, and the identity every test logs in as.
const PROJECT: &str = "proj-4f2a9c";
const CLIENT_ID: &str = "ua-client-test-0001";
const CLIENT_SECRET: &str = "ua-secret-TEST-7c1d0e";

/// Planted values: returned verbatim by get-secret, never in a log or a listing.
const DB_PASSWORD: &str = "pg-pass-ALPHA-7f3e";
const PEM: &str = "-----BEGIN RSA PRIVATE KEY-----\nMIIEpAIBAAKCAQEAfakeKEYmaterialLINE1\nfakeKEYmaterialLINE2xyz\n-----END RSA PRIVATE KEY-----";
const UNICODE: &str = "pässwörd-✓-密码-🔑";
const NESTED: &str = "nested-BETA-91aa";
const OTHER: &str = "other-GAMMA-55bb";
/// Sixty days from now, so the test means the same whenever it runs; fixed
/// once per run so that every use agrees to the second.
fn expires() -> String {
    static AT: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    AT.get_or_init(|| {
        let at = time::OffsetDateTime::now_utc() + time::Duration::days(60);
        at.replace_nanosecond(0)
            .unwrap()
            .format(&time::format_description::well_known::Rfc3339)
            .unwrap()
    })
    .clone()
}

fn big_value() -> String {
    "BIGVALUE-".repeat(65536 / 9 + 1)[..65536].to_string()
}

/// The four taxonomy tags as a real Infisical stores them (its slugs allow
/// no colon).
const REAL_TAGS: [&str; 4] = [
    "function-dns-edit",
    "sensitivity-high",
    "consumer-terraform",
    "rotation-90d",
];

/// What those four group into: one value per dimension, nothing `other`.
fn real_tag_groups() -> Value {
    json!({
        "function": ["dns-edit"],
        "sensitivity": ["high"],
        "consumer": ["terraform"],
        "rotation": ["90d"],
    })
}

fn data() -> VaultData {
    VaultData::new()
        .project(PROJECT, "test-project", "test-project")
        .environment(PROJECT, "dev", "Development")
        .environment(PROJECT, "prod", "Production")
        .folder(PROJECT, "dev", "/agents/warden/db")
        .folder(PROJECT, "dev", "/agents/other")
        .folder(PROJECT, "dev", "/MooseQuest/cloudflare")
        .add_secret(
            PROJECT,
            "dev",
            "/agents/warden",
            SecretEntry::new("DB_PASSWORD", DB_PASSWORD)
                .comment("warden's database")
                .tags(&REAL_TAGS),
        )
        .secret(
            PROJECT,
            "dev",
            "/agents/warden",
            "DB_PASSWORD__EXPIRES_AT",
            &expires(),
        )
        .secret(
            PROJECT,
            "dev",
            "/agents/warden",
            "DB_PASSWORD__SCOPES",
            "db:read db:write",
        )
        .secret(
            PROJECT,
            "dev",
            "/agents/warden",
            "DB_PASSWORD__CLIENT_ID",
            "client-id-EPSILON-3",
        )
        .secret(PROJECT, "dev", "/agents/warden", "TLS_KEY_PEM", PEM)
        .secret(PROJECT, "dev", "/agents/warden", "UNICODE_VALUE", UNICODE)
        .secret(PROJECT, "dev", "/agents/warden", "EMPTY_VALUE", "")
        .secret(PROJECT, "dev", "/agents/warden", "BIG_VALUE", &big_value())
        .secret(PROJECT, "dev", "/agents/warden/db", "NESTED_KEY", NESTED)
        .secret(PROJECT, "dev", "/agents/other", "OTHER_SECRET", OTHER)
        .secret(
            PROJECT,
            "dev",
            "/MooseQuest/cloudflare",
            "CF_DNS_EDIT_RAXX_APP",
            "cf-dns-DELTA-22",
        )
}

fn identity() -> Identity {
    Identity::new(
        CLIENT_ID,
        CLIENT_SECRET,
        vec![PermissionRule::read("dev", "/agents/warden/**")],
    )
}

async fn vault(generation: Generation, gate: CfGate) -> RunningVault {
    vault_with(data(), generation, gate, identity()).await
}

async fn vault_with(data: VaultData, generation: Generation, gate: CfGate, id: Identity) -> RunningVault {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    FakeVault::new(data)
        .generation(generation)
        .gate(gate)
        .identity(id)
        .start(listener)
        .await
        .unwrap()
}

fn env_for(vault: &RunningVault) -> HashMap<String, String> {
    with(
        vault_env(vault, CLIENT_ID, CLIENT_SECRET, PROJECT),
        &[
            ("INFISICAL_ENVIRONMENT", "dev"),
            ("INFISICAL_SCOPE", "dev:/agents/warden/**"),
        ],
    )
}

fn set(env: HashMap<String, String>, key: &str, value: &str) -> HashMap<String, String> {
    with(env, &[(key, value)])
}

#[tokio::test]
async fn lists_exactly_three_annotated_read_only_tools() {
    let vault = vault(Generation::Current, login_gate()).await;
    let served = serve(&env_for(&vault), &[]).await;
    let tools = served.client.list_all_tools().await.unwrap();
    let names: Vec<&str> = tools.iter().map(|t| t.name.as_ref()).collect();
    assert_eq!(names, ["get-secret", "list-secrets", "list-folders"]);
    for tool in &tools {
        let a = tool.annotations.as_ref().expect("annotations");
        assert_eq!(
            (
                a.read_only_hint,
                a.destructive_hint,
                a.idempotent_hint,
                a.open_world_hint
            ),
            (Some(true), Some(false), Some(true), Some(false)),
            "{}",
            tool.name
        );
        assert!(tool.output_schema.is_some(), "{} has no output schema", tool.name);
        assert!(
            tool.description
                .as_deref()
                .unwrap_or_default()
                .contains("dev:/agents/warden/**"),
            "description should state the scope"
        );
    }
    let get = &tools[0];
    assert_eq!(get.input_schema["required"], json!(["secretName"]));
    for arg in [
        "projectId",
        "environmentSlug",
        "secretPath",
        "expandSecretReferences",
        "includeImports",
    ] {
        assert!(
            get.input_schema["properties"].get(arg).is_some(),
            "get-secret lacks {arg}"
        );
    }
    assert!(tools[2].input_schema["properties"].get("path").is_some());
    insta::assert_json_snapshot!("tool_list", tools);
    // Listing tools does not log in: authentication is lazy.
    assert_eq!(vault.login_count(), 0);
}

/// Every place in a schema that a client reads differently from another, or
/// not at all: type arrays (Inspector 0.15 then sends `"true"` for a
/// boolean), `null` types, `anyOf`/`oneOf` with `null`, `$ref` (some clients
/// do not resolve it), `default: null` on a typed field, and `format`s a
/// JavaScript validator (ajv) does not know.
fn portability_problems(at: &str, schema: &Value, problems: &mut Vec<String>) {
    const AJV_FORMATS: [&str; 7] = ["date-time", "date", "time", "duration", "email", "uri", "uuid"];
    match schema {
        Value::Object(map) => {
            for (key, value) in map {
                let here = format!("{at}/{key}");
                match (key.as_str(), value) {
                    ("type", Value::Array(_)) => problems.push(format!("{here}: type array {value}")),
                    ("type", t) if t == "null" => problems.push(format!("{here}: null type")),
                    ("type", Value::String(t))
                        if !["object", "array", "string", "integer", "number", "boolean"]
                            .contains(&t.as_str()) =>
                    {
                        problems.push(format!("{here}: unknown type {t}"))
                    }
                    ("anyOf" | "oneOf", Value::Array(branches))
                        if branches.iter().any(|b| b.get("type") == Some(&json!("null"))) =>
                    {
                        problems.push(format!("{here}: a null branch"))
                    }
                    ("$ref" | "$defs" | "definitions", _) => problems.push(format!("{here}: {key}")),
                    ("default", Value::Null) => problems.push(format!("{here}: default null")),
                    ("format", Value::String(f)) if !AJV_FORMATS.contains(&f.as_str()) => {
                        problems.push(format!("{here}: format {f}"))
                    }
                    _ => {}
                }
                // Property names are data, not keywords.
                if key == "properties" {
                    if let Value::Object(props) = value {
                        for (name, prop) in props {
                            portability_problems(&format!("{here}/{name}"), prop, problems);
                        }
                    }
                } else {
                    portability_problems(&here, value, problems);
                }
            }
        }
        Value::Array(items) => {
            for (i, item) in items.iter().enumerate() {
                portability_problems(&format!("{at}/{i}"), item, problems);
            }
        }
        _ => {}
    }
}

#[tokio::test]
async fn schemas_use_plain_json_types_every_client_reads_alike() {
    let vault = vault(Generation::Current, CfGate::Off).await;
    let served = serve(&env_for(&vault), &[]).await;
    let tools = served.client.list_all_tools().await.unwrap();
    let mut problems = Vec::new();
    for tool in &tools {
        let input = Value::Object(tool.input_schema.as_ref().clone());
        portability_problems(&format!("{}/inputSchema", tool.name), &input, &mut problems);
        let output = Value::Object(tool.output_schema.as_ref().unwrap().as_ref().clone());
        portability_problems(&format!("{}/outputSchema", tool.name), &output, &mut problems);
        // Optional arguments are plain types, simply not required.
        let required = input["required"].as_array().cloned().unwrap_or_default();
        for (name, prop) in input["properties"].as_object().unwrap() {
            assert!(prop["type"].is_string(), "{}.{name}: {prop}", tool.name);
            if name != "secretName" {
                assert!(
                    !required.contains(&json!(name)),
                    "{}.{name} is required",
                    tool.name
                );
            }
        }
    }
    assert!(problems.is_empty(), "{problems:#?}");
    // The walk itself finds what it must, or passing above means nothing.
    let mut found = Vec::new();
    portability_problems(
        "probe",
        &json!({"properties": {"a": {"type": ["boolean", "null"], "default": null, "format": "uint64"},
                               "b": {"anyOf": [{"$ref": "#/$defs/X"}, {"type": "null"}]}}}),
        &mut found,
    );
    assert_eq!(found.len(), 6, "{found:#?}");
    let list = &tools[1].input_schema["properties"];
    assert_eq!(list["recursive"]["type"], json!("boolean"));
    assert_eq!(list["limit"]["type"], json!("integer"));
    assert_eq!(list["includeImports"]["type"], json!("boolean"));
    let folders = &tools[2].output_schema.as_ref().unwrap()["properties"]["folders"]["items"];
    assert_eq!(
        folders["properties"]["access"]["enum"],
        json!(["readable", "leads-into-scope"])
    );
}

#[tokio::test]
async fn serve_writes_nothing_to_stderr_at_the_default_level() {
    let vault = vault(Generation::Current, login_gate()).await;
    let mut env = env_for(&vault);
    env.remove("RUST_LOG");
    let mut child = command(&env, &[])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let mut stdout = BufReader::new(child.stdout.take().unwrap()).lines();
    let call = |id: u64, name: &str, arguments: Value| {
        json!({"jsonrpc": "2.0", "id": id, "method": "tools/call",
               "params": {"name": name, "arguments": arguments}})
    };
    let requests = [
        json!({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {"protocolVersion": "2025-06-18",
               "capabilities": {}, "clientInfo": {"name": "claude-code", "version": "2.1.0"}}}),
        json!({"jsonrpc": "2.0", "method": "notifications/initialized"}),
        json!({"jsonrpc": "2.0", "id": 2, "method": "tools/list"}),
        call(3, "list-folders", json!({"recursive": true})),
        call(
            4,
            "list-secrets",
            json!({"secretPath": "/agents/warden", "recursive": true}),
        ),
        call(
            5,
            "get-secret",
            json!({"secretName": "DB_PASSWORD", "secretPath": "/agents/warden"}),
        ),
        // Refusals and misses are answers to the agent, not server trouble.
        call(
            6,
            "get-secret",
            json!({"secretName": "X", "secretPath": "/agents/other"}),
        ),
        call(
            7,
            "get-secret",
            json!({"secretName": "NOPE", "secretPath": "/agents/warden"}),
        ),
    ];
    let mut input = String::new();
    for request in requests {
        input.push_str(&format!("{request}\n"));
    }
    stdin.write_all(input.as_bytes()).await.unwrap();
    stdin.flush().await.unwrap();
    let mut answered = 0;
    while answered < 7 {
        let line = tokio::time::timeout(Duration::from_secs(10), stdout.next_line())
            .await
            .expect("server stopped answering")
            .unwrap()
            .expect("server closed stdout");
        let reply: Value = serde_json::from_str(&line).expect("stdout carries only JSON-RPC");
        assert!(reply.get("error").is_none(), "{reply}");
        answered += 1;
    }
    drop(stdin);
    let output = tokio::time::timeout(Duration::from_secs(10), child.wait_with_output())
        .await
        .expect("no exit after EOF")
        .unwrap();
    assert!(output.status.success());
    assert_eq!(
        String::from_utf8_lossy(&output.stderr),
        "",
        "Claude Code shows every stderr line as an error"
    );
    // RUST_LOG still raises it: the same server says what it did.
    env.insert("RUST_LOG".into(), "info".into());
    let (child, stdin, _stdout) = raw_session_with_stderr(&env).await;
    drop(stdin);
    let output = child.wait_with_output().await.unwrap();
    assert!(
        String::from_utf8_lossy(&output.stderr).contains("serving MCP on stdio"),
        "RUST_LOG=info did not raise the level"
    );
}

#[tokio::test]
async fn get_secret_returns_values_verbatim_through_the_cf_gate() {
    let vault = vault(Generation::Current, login_gate()).await;
    let served = serve(&env_for(&vault), &[]).await;
    let big = big_value();
    for (key, value) in [
        ("DB_PASSWORD", DB_PASSWORD),
        ("TLS_KEY_PEM", PEM),
        ("UNICODE_VALUE", UNICODE),
        ("EMPTY_VALUE", ""),
        ("BIG_VALUE", big.as_str()),
    ] {
        let result = served
            .call(
                "get-secret",
                json!({"secretName": key, "secretPath": "/agents/warden"}),
            )
            .await;
        assert!(!is_error(&result), "{key}: {}", text(&result));
        let out = structured(&result);
        assert_eq!(out["secretValue"], json!(value), "{key}");
        assert_eq!(out["secretKey"], json!(key));
        assert_eq!(out["secretPath"], json!("/agents/warden"));
        assert_eq!(out["environment"], json!("dev"));
        assert!(text(&result).ends_with(&format!("value:\n{value}")), "{key}");
    }
    let first = served
        .call(
            "get-secret",
            json!({"secretName": "DB_PASSWORD", "secretPath": "/agents/warden"}),
        )
        .await;
    assert_eq!(structured(&first)["tags"], json!(REAL_TAGS));
    assert_eq!(structured(&first)["tagGroups"], real_tag_groups());
    assert_eq!(structured(&first)["comment"], json!("warden's database"));
    assert_eq!(structured(&first)["expiresAt"], json!(expires()));
    assert_eq!(structured(&first)["expiryStatus"], json!("ok"));
    // The client id is a credential of its own, not metadata: get-secret
    // names the companion but reads no value it was not asked for.
    assert_eq!(structured(&first).get("clientId"), None);
    assert!(
        structured(&first)["companions"]
            .as_array()
            .is_some_and(|c| c.contains(&json!("CLIENT_ID"))),
        "{}",
        structured(&first)
    );
    assert!(
        text(&first).contains("scopes: db:read db:write"),
        "{}",
        text(&first)
    );
    // Every request carried the service token and our User-Agent.
    for request in vault.requests() {
        let header = |n: &str| {
            request
                .headers
                .iter()
                .find(|(k, _)| k == n)
                .map(|(_, v)| v.clone())
        };
        assert_eq!(header("cf-access-client-id").as_deref(), Some(CF_ID));
        assert_eq!(header("cf-access-client-secret").as_deref(), Some(CF_SECRET));
        assert!(
            header("user-agent")
                .unwrap_or_default()
                .starts_with("infisical-mcp-rs/")
        );
    }
}

#[tokio::test]
async fn list_secrets_gives_names_and_expiry_but_never_values() {
    let vault = vault(Generation::Current, login_gate()).await;
    let served = serve(&env_for(&vault), &[]).await;
    let result = served
        .call(
            "list-secrets",
            json!({"secretPath": "/agents/warden", "recursive": true}),
        )
        .await;
    assert!(!is_error(&result), "{}", text(&result));
    let out = structured(&result);
    let keys: Vec<&str> = common::strings_of(&out["secrets"], "secretKey");
    for key in ["DB_PASSWORD", "TLS_KEY_PEM", "UNICODE_VALUE", "NESTED_KEY"] {
        assert!(keys.contains(&key), "{key} missing from {keys:?}");
    }
    assert!(!keys.contains(&"OTHER_SECRET"));
    assert_eq!(out["valuesIncluded"], json!(false));
    let db = out["secrets"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["secretKey"] == "DB_PASSWORD")
        .unwrap();
    assert_eq!(db["expiresAt"], json!(expires()));
    assert_eq!(db["expiryStatus"], json!("ok"));
    assert_eq!(db["scopes"], json!("db:read db:write"));
    assert_eq!(db["companions"], json!(["EXPIRES_AT", "SCOPES", "CLIENT_ID"]));
    assert!(
        db.get("clientId").is_none(),
        "a companion value shown without --list-values"
    );
    assert_eq!(db["tagGroups"], real_tag_groups());
    assert!(
        !keys.iter().any(|k| k.contains("__")),
        "companions listed as secrets: {keys:?}"
    );
    let unknown = out["secrets"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["secretKey"] == "TLS_KEY_PEM")
        .unwrap();
    assert_eq!(unknown["expiryStatus"], json!("unknown"));
    let everything = format!("{}{}", text(&result), out);
    for value in [
        DB_PASSWORD,
        "fakeKEYmaterialLINE1",
        UNICODE,
        NESTED,
        "BIGVALUE-",
        "client-id-EPSILON-3",
    ] {
        assert!(!everything.contains(value), "a value leaked into list-secrets");
    }
}

#[tokio::test]
async fn key_pairs_share_their_companions_and_orphans_stay_visible() {
    let vault = vault_with(
        VaultData::sample(),
        Generation::Current,
        login_gate(),
        infisical_fakevault::demo_identity(),
    )
    .await;
    let served = serve(&good_env(&vault), &[]).await;
    let result = served
        .call(
            "list-secrets",
            json!({"environmentSlug": "prod", "secretPath": "/MooseQuest/aws"}),
        )
        .await;
    assert!(!is_error(&result), "{}", text(&result));
    let out = structured(&result);
    let secrets = out["secrets"].as_array().unwrap();
    let keys: Vec<&str> = secrets.iter().map(|s| s["secretKey"].as_str().unwrap()).collect();
    assert_eq!(
        keys,
        [
            "AWS_ACCOUNT_ID",
            "AWS_INFISICAL_BOOTSTRAP__ACCESS_KEY_ID",
            "AWS_INFISICAL_BOOTSTRAP__SECRET_ACCESS_KEY"
        ],
        "the pair's halves are secrets; their __EXPIRES_AT is not"
    );
    for half in &secrets[1..] {
        assert_eq!(half["expiryStatus"], json!("ok"), "{half}");
        assert!(half["expiresAt"].is_string(), "{half}");
    }
    assert_eq!(secrets[0]["expiryStatus"], json!("unknown"));

    // get-secret on one half finds the same expiry.
    let result = served
        .call(
            "get-secret",
            json!({"environmentSlug": "prod", "secretPath": "/MooseQuest/aws",
                   "secretName": "AWS_INFISICAL_BOOTSTRAP__ACCESS_KEY_ID"}),
        )
        .await;
    assert!(!is_error(&result), "{}", text(&result));
    assert_eq!(structured(&result)["expiresAt"], secrets[1]["expiresAt"]);

    // A companion without its parent is shown, not silently dropped.
    let result = served
        .call(
            "list-secrets",
            json!({"environmentSlug": "prod", "secretPath": "/MooseQuest/cloudflare"}),
        )
        .await;
    let listed = format!("{}", structured(&result));
    assert!(listed.contains("\"CF_PAGES_DEPLOY__SCOPES\""), "{listed}");
}

#[tokio::test]
async fn list_values_flag_includes_values() {
    let vault = vault(Generation::Current, login_gate()).await;
    let served = serve(&env_for(&vault), &["--list-values"]).await;
    let result = served
        .call("list-secrets", json!({"secretPath": "/agents/warden"}))
        .await;
    let out = structured(&result);
    assert_eq!(out["valuesIncluded"], json!(true));
    let db = out["secrets"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["secretKey"] == "DB_PASSWORD")
        .unwrap();
    assert_eq!(db["secretValue"], json!(DB_PASSWORD));
}

#[tokio::test]
async fn long_listings_are_paged_with_a_note() {
    let mut data = data();
    for i in 0..250 {
        data = data.secret(PROJECT, "dev", "/agents/warden/db", &format!("K{i:03}"), "v");
    }
    let vault = vault_with(data, Generation::Current, CfGate::Off, identity()).await;
    let served = serve(&env_for(&vault), &[]).await;
    let result = served
        .call("list-secrets", json!({"secretPath": "/agents/warden/db"}))
        .await;
    let out = structured(&result);
    assert_eq!(out["total"], json!(251));
    assert_eq!(out["secrets"].as_array().unwrap().len(), 100);
    assert_eq!(out["nextOffset"], json!(100));
    // The model may see only structuredContent (Claude Code): the way to the
    // next page is a sentence there too, the same one the text block says.
    let note = out["note"].as_str().unwrap();
    assert!(
        note.contains("151 more: call list-secrets again with offset=100"),
        "{note}"
    );
    assert_eq!(
        out["scopeNote"],
        json!(
            "dev:/agents/warden/db is inside this server's scope (dev:/agents/warden/**); anything outside it is left out."
        )
    );
    assert_says_the_same(&result);
    let last = served
        .call(
            "list-secrets",
            json!({"secretPath": "/agents/warden/db", "offset": 200, "limit": 100}),
        )
        .await;
    assert_eq!(structured(&last)["secrets"].as_array().unwrap().len(), 51);
    assert!(structured(&last).get("nextOffset").is_none());
    assert_eq!(
        structured(&last)["note"],
        json!("Showing 201–251 of 251: the last page.")
    );
    assert_says_the_same(&last);
}

/// The guidance sentences of the structured result (notes, error message
/// and hint) appear verbatim in the text block, and vice versa the text
/// says nothing the structured result lacks beyond its rendering.
fn assert_says_the_same(result: &rmcp::model::CallToolResult) {
    let out = structured(result);
    let t = text(result);
    let mut sentences: Vec<String> = ["note", "scopeNote"]
        .iter()
        .filter_map(|k| out[*k].as_str().map(str::to_string))
        .collect();
    if is_error(result) {
        let error = &out["error"];
        for k in ["kind", "message", "hint"] {
            assert!(error[k].is_string(), "error.{k} missing: {out}");
        }
        assert_eq!(
            t,
            format!(
                "{}\nhint: {}",
                error["message"].as_str().unwrap(),
                error["hint"].as_str().unwrap()
            )
        );
        sentences.push(error["hint"].as_str().unwrap().to_string());
    } else {
        assert!(!sentences.is_empty(), "no guidance in {out}");
    }
    for sentence in sentences {
        assert!(t.contains(&sentence), "text lacks {sentence:?}:\n{t}");
    }
}

#[tokio::test]
async fn list_folders_shows_only_the_way_into_the_scope() {
    let vault = vault(Generation::Current, login_gate()).await;
    let served = serve(&env_for(&vault), &[]).await;
    let paths = |r: &rmcp::model::CallToolResult| -> Vec<String> {
        structured(r)["folders"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| f["path"].as_str().unwrap().to_string())
            .collect()
    };
    let root = served.call("list-folders", json!({"path": "/"})).await;
    assert_eq!(paths(&root), ["/agents"], "{}", text(&root));
    let agents = served.call("list-folders", json!({"path": "/agents"})).await;
    assert_eq!(paths(&agents), ["/agents/warden"]);
    let deep = served
        .call("list-folders", json!({"path": "/", "recursive": true}))
        .await;
    assert_eq!(paths(&deep), ["/agents", "/agents/warden", "/agents/warden/db"]);
    // Each folder says what it is for, and a sentence says where the scope
    // lies, in the structured result a model may see alone.
    let access: Vec<String> = structured(&deep)["folders"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["access"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(access, ["leads-into-scope", "readable", "readable"]);
    let note = structured(&deep)["note"].as_str().unwrap().to_string();
    assert!(note.contains("only inside dev:/agents/warden/**"), "{note}");
    assert!(note.contains("leads-into-scope"), "{note}");
    assert!(
        text(&deep).contains("- /agents  (leads into scope)"),
        "{}",
        text(&deep)
    );
    for result in [&root, &agents, &deep] {
        assert_says_the_same(result);
    }
    let readable_only = structured(&agents)["note"].as_str().unwrap().to_string();
    assert!(!readable_only.contains("leads-into-scope"), "{readable_only}");
    let refused = served.call("list-folders", json!({"path": "/MooseQuest"})).await;
    assert!(is_error(&refused));
    assert_eq!(structured(&refused)["error"]["kind"], json!("out_of_scope"));
    assert!(
        structured(&refused)["error"]["hint"]
            .as_str()
            .unwrap()
            .contains("call list-folders with path=/agents/warden"),
        "{}",
        structured(&refused)
    );
    assert_says_the_same(&refused);
}

#[tokio::test]
async fn out_of_scope_calls_never_reach_the_vault() {
    let vault = vault(Generation::Current, login_gate()).await;
    let served = serve(&env_for(&vault), &[]).await;
    for (tool, args) in [
        (
            "get-secret",
            json!({"secretName": "OTHER_SECRET", "secretPath": "/agents/other"}),
        ),
        (
            "get-secret",
            json!({"secretName": "DB_PASSWORD", "secretPath": "/agents/warden", "environmentSlug": "prod"}),
        ),
        (
            "get-secret",
            json!({"secretName": "X", "secretPath": "/agents/wardenx"}),
        ),
        (
            "get-secret",
            json!({"secretName": "X", "secretPath": "/agents/warden/../other"}),
        ),
        ("list-secrets", json!({"secretPath": "/MooseQuest"})),
    ] {
        let result = served.call(tool, args.clone()).await;
        assert!(is_error(&result), "{args}");
        let t = text(&result);
        assert!(t.contains("out of scope") || t.contains("rejected"), "{t}");
        assert!(t.contains("hint:"), "{t}");
    }
    assert!(
        vault.requests().is_empty(),
        "out-of-scope calls reached the vault: {:?}",
        vault_reads(&vault)
    );
}

#[tokio::test]
async fn vault_errors_become_clear_tool_errors() {
    let vault = vault(Generation::Current, login_gate()).await;
    // A scope wider than the identity's RBAC: the vault itself says no.
    let served = serve(&set(env_for(&vault), "INFISICAL_SCOPE", "dev:/agents/**"), &[]).await;
    let missing = served
        .call(
            "get-secret",
            json!({"secretName": "NOPE", "secretPath": "/agents/warden"}),
        )
        .await;
    assert!(is_error(&missing));
    assert!(text(&missing).contains("not found"), "{}", text(&missing));
    let denied = served
        .call(
            "get-secret",
            json!({"secretName": "OTHER_SECRET", "secretPath": "/agents/other"}),
        )
        .await;
    assert!(is_error(&denied));
    assert!(text(&denied).contains("permission denied"), "{}", text(&denied));
    assert!(!text(&denied).contains(OTHER));
    let bad_args = served.call("get-secret", json!({"secretName": 42})).await;
    assert!(is_error(&bad_args));
    assert!(
        text(&bad_args).contains("invalid arguments"),
        "{}",
        text(&bad_args)
    );
    // The cause and the fix are structured too, for clients that pass the
    // model structuredContent only.
    for (result, kind) in [
        (&missing, "not_found"),
        (&denied, "permission_denied"),
        (&bad_args, "invalid_arguments"),
    ] {
        assert_eq!(
            structured(result)["error"]["kind"],
            json!(kind),
            "{}",
            structured(result)
        );
        assert_says_the_same(result);
    }
}

#[tokio::test]
async fn cloudflare_rejections_are_named_as_such() {
    for gate in [
        login_gate(),
        CfGate::ServiceAuthOnly {
            client_id: CF_ID.into(),
            client_secret: CF_SECRET.into(),
        },
    ] {
        let vault = vault(Generation::Current, gate).await;
        let mut no_token = env_for(&vault);
        no_token.remove("CF_ACCESS_CLIENT_ID");
        no_token.remove("CF_ACCESS_CLIENT_SECRET");
        let wrong_token = set(env_for(&vault), "CF_ACCESS_CLIENT_SECRET", "wrong-cf-secret");
        for env in [no_token, wrong_token] {
            let served = serve(&env, &[]).await;
            let result = served
                .call(
                    "get-secret",
                    json!({"secretName": "DB_PASSWORD", "secretPath": "/agents/warden"}),
                )
                .await;
            assert!(is_error(&result));
            let t = text(&result);
            assert!(t.contains("Cloudflare Access rejected the service token"), "{t}");
            assert!(t.contains("CF_ACCESS_CLIENT_ID"), "{t}");
        }
        assert!(vault.requests().iter().all(|r| !r.gate_passed));
    }
}

#[tokio::test]
async fn a_wrong_client_secret_is_a_credentials_error() {
    let vault = vault(Generation::Current, login_gate()).await;
    let served = serve(
        &set(env_for(&vault), "INFISICAL_UNIVERSAL_AUTH_CLIENT_SECRET", "nope"),
        &[],
    )
    .await;
    let result = served
        .call(
            "get-secret",
            json!({"secretName": "DB_PASSWORD", "secretPath": "/agents/warden"}),
        )
        .await;
    assert!(is_error(&result));
    assert!(
        text(&result).contains("universal-auth login failed"),
        "{}",
        text(&result)
    );
}

#[tokio::test]
async fn an_expired_or_revoked_token_means_one_transparent_login() {
    let vault = vault(Generation::Current, login_gate()).await;
    let served = serve(&env_for(&vault), &[]).await;
    let call = || {
        served.call(
            "get-secret",
            json!({"secretName": "DB_PASSWORD", "secretPath": "/agents/warden"}),
        )
    };
    assert!(!is_error(&call().await));
    assert_eq!(vault.login_count(), 1);
    vault.expire_tokens();
    let after_expiry = call().await;
    assert!(!is_error(&after_expiry), "{}", text(&after_expiry));
    assert_eq!(vault.login_count(), 2);
    vault.revoke_tokens();
    assert!(!is_error(&call().await));
    assert_eq!(vault.login_count(), 3);
}

#[tokio::test]
async fn twenty_concurrent_calls_share_one_login() {
    let vault = vault(Generation::Current, login_gate()).await;
    let served = serve(&env_for(&vault), &[]).await;
    let calls = (0..20).map(|_| {
        served.call(
            "get-secret",
            json!({"secretName": "DB_PASSWORD", "secretPath": "/agents/warden"}),
        )
    });
    let results = futures::future::join_all(calls).await;
    assert!(
        results
            .iter()
            .all(|r| !is_error(r) && structured(r)["secretValue"] == json!(DB_PASSWORD))
    );
    assert_eq!(vault.login_count(), 1);
}

#[tokio::test]
async fn an_older_vault_is_read_through_the_previous_routes() {
    let vault = vault(Generation::Legacy, login_gate()).await;
    let served = serve(&env_for(&vault), &[]).await;
    let got = served
        .call(
            "get-secret",
            json!({"secretName": "DB_PASSWORD", "secretPath": "/agents/warden"}),
        )
        .await;
    assert!(!is_error(&got), "{}", text(&got));
    assert_eq!(structured(&got)["secretValue"], json!(DB_PASSWORD));
    let after_first_call = vault_reads(&vault).len();
    let listed = served
        .call("list-secrets", json!({"secretPath": "/agents/warden"}))
        .await;
    assert!(!is_error(&listed), "{}", text(&listed));
    let folders = served.call("list-folders", json!({"path": "/agents"})).await;
    assert!(!is_error(&folders), "{}", text(&folders));
    // Listing above the scope: the old vault says 403, we say where the scope is.
    let above = served.call("list-secrets", json!({"secretPath": "/"})).await;
    assert!(!is_error(&above), "{}", text(&above));
    assert!(
        structured(&above)["scopeNote"]
            .as_str()
            .unwrap()
            .contains("dev:/agents/warden/**")
    );
    let reads = vault_reads(&vault);
    assert!(
        reads.iter().any(|r| r.contains("/api/v3/secrets/raw")),
        "{reads:?}"
    );
    assert!(reads.iter().any(|r| r.contains("/api/v1/folders")), "{reads:?}");
    // The fall-back is learned during the first call (whose secret read and
    // companion listing go out together), not retried on every call.
    assert!(reads[0].contains("/api/v4/secrets"), "{reads:?}");
    assert!(
        !reads[after_first_call..]
            .iter()
            .any(|r| r.contains("/api/v4/secrets")),
        "{reads:?}"
    );
}

#[tokio::test]
async fn a_pre_issued_token_is_used_as_is() {
    let vault = vault(Generation::Current, login_gate()).await;
    let token = vault.issue_token(CLIENT_ID);
    let mut env = env_for(&vault);
    env.remove("INFISICAL_UNIVERSAL_AUTH_CLIENT_ID");
    env.remove("INFISICAL_UNIVERSAL_AUTH_CLIENT_SECRET");
    env.insert("INFISICAL_TOKEN".into(), token.clone());
    let served = serve(&env, &[]).await;
    let call = || {
        served.call(
            "get-secret",
            json!({"secretName": "DB_PASSWORD", "secretPath": "/agents/warden"}),
        )
    };
    assert!(!is_error(&call().await));
    vault.expire_tokens();
    let refused = call().await;
    assert!(is_error(&refused));
    assert!(text(&refused).contains("INFISICAL_TOKEN"), "{}", text(&refused));
    assert_eq!(vault.login_count(), 0);
    assert!(!served.stderr_text().contains(&token));
}

#[tokio::test]
async fn nothing_secret_reaches_stderr_even_at_trace_level() {
    let vault = vault(Generation::Current, login_gate()).await;
    // With the cache on, values also sit in memory: still nothing may leak.
    let served = serve(&env_for(&vault), &["--cache-ttl", "30"]).await;
    for key in ["DB_PASSWORD", "TLS_KEY_PEM", "UNICODE_VALUE"] {
        served
            .call(
                "get-secret",
                json!({"secretName": key, "secretPath": "/agents/warden"}),
            )
            .await;
    }
    served
        .call(
            "list-secrets",
            json!({"secretPath": "/agents/warden", "recursive": true}),
        )
        .await;
    vault.expire_tokens();
    served.call("list-folders", json!({"recursive": true})).await;
    let captured = served.stderr.clone();
    served.client.cancel().await.unwrap();
    let stderr = String::from_utf8_lossy(&captured.lock().unwrap()).into_owned();
    assert!(
        stderr.contains("TRACE") || stderr.contains("DEBUG"),
        "trace logging was not on"
    );
    let tokens: Vec<String> = vault
        .requests()
        .iter()
        .flat_map(|r| {
            r.headers
                .iter()
                .filter(|(k, _)| k == "authorization")
                .map(|(_, v)| v[7..].to_string())
        })
        .collect();
    assert!(!tokens.is_empty());
    let mut forbidden: Vec<String> = vec![
        DB_PASSWORD.into(),
        "fakeKEYmaterialLINE1".into(),
        UNICODE.into(),
        NESTED.into(),
        CLIENT_SECRET.into(),
        CF_SECRET.into(),
    ];
    forbidden.extend(tokens);
    assert_absent("stderr", &stderr, &forbidden);
}

/// Raw stdio, no client library: initialize, then close stdin or signal.
/// The child's stdout stays open (in the returned reader) for the session.
async fn raw_session(
    env: &HashMap<String, String>,
) -> (
    tokio::process::Child,
    tokio::process::ChildStdin,
    BufReader<tokio::process::ChildStdout>,
) {
    raw_session_to(env, std::process::Stdio::null()).await
}

/// [`raw_session`] with stderr piped, for `wait_with_output`.
async fn raw_session_with_stderr(
    env: &HashMap<String, String>,
) -> (
    tokio::process::Child,
    tokio::process::ChildStdin,
    BufReader<tokio::process::ChildStdout>,
) {
    raw_session_to(env, std::process::Stdio::piped()).await
}

async fn raw_session_to(
    env: &HashMap<String, String>,
    stderr: std::process::Stdio,
) -> (
    tokio::process::Child,
    tokio::process::ChildStdin,
    BufReader<tokio::process::ChildStdout>,
) {
    let mut child = command(env, &[])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(stderr)
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let stdout = child.stdout.take().unwrap();
    stdin
        .write_all(
            br#"{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"raw","version":"0"}}}
"#,
        )
        .await
        .unwrap();
    let mut line = String::new();
    let mut stdout = BufReader::new(stdout);
    stdout.read_line(&mut line).await.unwrap();
    let reply: Value = serde_json::from_str(&line).expect("stdout carries only JSON-RPC");
    assert_eq!(reply["result"]["serverInfo"]["name"], json!("infisical-mcp-rs"));
    (child, stdin, stdout)
}

#[tokio::test]
async fn exits_promptly_on_stdin_eof_and_on_sigterm() {
    let vault = vault(Generation::Current, CfGate::Off).await;
    let env = env_for(&vault);

    let (mut child, stdin, _stdout) = raw_session(&env).await;
    drop(stdin);
    let status = tokio::time::timeout(Duration::from_secs(5), child.wait())
        .await
        .expect("no exit after EOF")
        .unwrap();
    assert!(status.success());

    let (mut child, _stdin, _stdout) = raw_session(&env).await;
    let pid = child.id().unwrap().to_string();
    let killed = tokio::process::Command::new("kill")
        .args(["-TERM", &pid])
        .status()
        .await
        .unwrap();
    assert!(killed.success());
    let status = tokio::time::timeout(Duration::from_secs(5), child.wait())
        .await
        .expect("no exit after SIGTERM")
        .unwrap();
    assert!(status.success(), "{status}");
}

#[tokio::test]
async fn audit_log_and_log_files_record_calls_but_never_secrets() {
    let vault = vault(Generation::Current, login_gate()).await;
    let dir = tempfile::tempdir().unwrap();
    let audit = dir.path().join("audit.jsonl");
    let logs = dir.path().join("logs");
    std::fs::create_dir(&logs).unwrap();
    let served = serve(
        &env_for(&vault),
        &[
            "--audit-log",
            audit.to_str().unwrap(),
            "--log-dir",
            logs.to_str().unwrap(),
        ],
    )
    .await;
    served
        .call(
            "get-secret",
            json!({"secretName": "DB_PASSWORD", "secretPath": "/agents/warden"}),
        )
        .await;
    served
        .call(
            "get-secret",
            json!({"secretName": "OTHER_SECRET", "secretPath": "/agents/other"}),
        )
        .await;
    served
        .call(
            "get-secret",
            json!({"secretName": "NOPE", "secretPath": "/agents/warden"}),
        )
        .await;
    served
        .call("list-secrets", json!({"secretPath": "/agents/warden"}))
        .await;
    served.client.cancel().await.unwrap();

    let text = std::fs::read_to_string(&audit).unwrap();
    let lines: Vec<Value> = text.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert_eq!(lines.len(), 4, "{text}");
    assert_eq!(lines[0]["tool"], json!("get-secret"));
    assert_eq!(lines[0]["project"], json!(PROJECT));
    assert_eq!(lines[0]["environment"], json!("dev"));
    assert_eq!(lines[0]["path"], json!("/agents/warden"));
    assert_eq!(lines[0]["key"], json!("DB_PASSWORD"));
    assert_eq!(lines[0]["outcome"], json!("ok"));
    assert!(
        lines[0]["latencyMs"].is_u64() && lines[0]["requestId"].is_string() && lines[0]["time"].is_string()
    );
    assert_eq!(lines[1]["outcome"], json!("out_of_scope"));
    assert_eq!(lines[2]["outcome"], json!("not_found"));
    assert_eq!(lines[3]["tool"], json!("list-secrets"));
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&audit).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600, "audit log mode {mode:o}");
    }

    let mut written = text;
    for entry in std::fs::read_dir(&logs).unwrap() {
        written.push_str(&std::fs::read_to_string(entry.unwrap().path()).unwrap());
    }
    assert!(written.contains("tool call"), "the log files hold no log lines");
    for secret in [DB_PASSWORD, CLIENT_SECRET, CF_SECRET, OTHER] {
        assert!(!written.contains(secret), "secret material on disk");
    }
}

#[tokio::test]
async fn bad_input_gets_clear_errors_and_the_server_keeps_serving() {
    let vault = vault(Generation::Current, CfGate::Off).await;
    let mut child = command(&env_for(&vault), &[])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let mut stdout = BufReader::new(child.stdout.take().unwrap()).lines();
    let huge = "A".repeat(1024 * 1024);
    let mut input = Vec::new();
    input.extend_from_slice(
        br#"{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"raw","version":"0"}}}
{"jsonrpc":"2.0","method":"notifications/initialized"}
{this is not json
"#,
    );
    input.extend_from_slice(b"\xff\xfe\x00 invalid utf-8\n");
    for line in [
        json!({"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"delete-secret","arguments":{}}}),
        json!({"jsonrpc":"2.0","id":3,"method":"tools/call","params":{"name":"get-secret","arguments":{"secretName":["x"]}}}),
        json!({"jsonrpc":"2.0","id":4,"method":"tools/call","params":{"name":"get-secret","arguments":{"secretName":huge}}}),
        json!({"jsonrpc":"2.0","id":5,"method":"tools/call","params":{"name":"list-secrets","arguments":{"secretPath":huge}}}),
        json!({"jsonrpc":"2.0","id":6,"method":"tools/call","params":{"name":"list-folders","arguments":{"projectId":huge}}}),
        json!({"jsonrpc":"2.0","id":7,"method":"tools/call","params":{"name":"get-secret","arguments":{"secretName":"DB_PASSWORD","secretPath":"/agents/warden"}}}),
    ] {
        input.extend_from_slice(line.to_string().as_bytes());
        input.push(b'\n');
    }
    stdin.write_all(&input).await.unwrap();
    stdin.flush().await.unwrap();

    let mut replies: HashMap<u64, Value> = HashMap::new();
    while replies.len() < 7 {
        let line = tokio::time::timeout(Duration::from_secs(10), stdout.next_line())
            .await
            .expect("server stopped answering")
            .unwrap()
            .expect("server closed stdout");
        assert!(
            line.len() < 4096,
            "a reply echoed a huge argument ({} bytes)",
            line.len()
        );
        let reply: Value = serde_json::from_str(&line).expect("stdout carries only JSON-RPC");
        replies.insert(reply["id"].as_u64().unwrap(), reply);
    }
    assert_eq!(replies[&2]["error"]["code"], json!(-32602), "unknown tool");
    for id in [3, 4, 5, 6] {
        assert_eq!(
            replies[&id]["result"]["isError"],
            json!(true),
            "call {id}: {}",
            replies[&id]
        );
    }
    assert!(
        replies[&3]["result"]["content"][0]["text"]
            .as_str()
            .unwrap()
            .contains("invalid arguments")
    );
    // After all that, a good call still works.
    assert_eq!(
        replies[&7]["result"]["structuredContent"]["secretValue"],
        json!(DB_PASSWORD)
    );
    drop(stdin);
    let status = tokio::time::timeout(Duration::from_secs(5), child.wait())
        .await
        .unwrap()
        .unwrap();
    assert!(status.success());
}

#[tokio::test]
async fn a_cached_answer_says_so_and_how_old_it_is() {
    let vault = vault(Generation::Current, CfGate::Off).await;
    let served = serve(&env_for(&vault), &["--cache-ttl", "60"]).await;
    let args = json!({"secretName": "DB_PASSWORD", "secretPath": "/agents/warden"});
    let first = served.call("get-secret", args.clone()).await;
    assert!(structured(&first).get("cachedAgeSeconds").is_none());
    let after_first = vault_reads(&vault).len();
    let second = served.call("get-secret", args).await;
    assert_eq!(structured(&second)["secretValue"], json!(DB_PASSWORD));
    assert!(structured(&second)["cachedAgeSeconds"].is_u64());
    assert!(
        text(&second).contains("served from this server's cache"),
        "{}",
        text(&second)
    );
    assert_eq!(
        vault_reads(&vault).len(),
        after_first,
        "{:?}",
        vault_reads(&vault)
    );
}

#[tokio::test]
async fn a_cancelled_call_stops_and_is_audited_as_cancelled() {
    // Raw stdio with protocol 2025-06-18, where `notifications/cancelled`
    // withdraws a request (what Claude Code and the other SDKs send).
    let vault = vault(Generation::Current, CfGate::Off).await;
    let dir = tempfile::tempdir().unwrap();
    let audit = dir.path().join("audit.jsonl");
    let mut env = env_for(&vault);
    env.insert("INFISICAL_AUDIT_LOG".into(), audit.to_str().unwrap().into());
    let (mut child, mut stdin, mut stdout) = raw_session(&env).await;
    let send = |v: Value| format!("{v}\n").into_bytes();
    let initialized = json!({"jsonrpc": "2.0", "method": "notifications/initialized"});
    stdin.write_all(&send(initialized)).await.unwrap();
    // One quick call first, so the login is done before the vault slows down.
    let warm_up = json!({"jsonrpc": "2.0", "id": 10, "method": "tools/call",
        "params": {"name": "list-folders", "arguments": {"path": "/agents"}}});
    stdin.write_all(&send(warm_up)).await.unwrap();
    let mut line = String::new();
    stdout.read_line(&mut line).await.unwrap();
    assert!(line.contains(r#""id":10"#), "{line}");

    vault.faults().set_latency(Duration::from_secs(5));
    let before = vault.arrivals();
    let slow = json!({"jsonrpc": "2.0", "id": 2, "method": "tools/call",
        "params": {"name": "get-secret", "arguments": {"secretName": "DB_PASSWORD", "secretPath": "/agents/warden"}}});
    stdin.write_all(&send(slow)).await.unwrap();
    // Cancel only once the secret read and the companion listing have reached
    // the vault (an event, awaited without sleeping): the call is in flight.
    until(|| vault.arrivals() >= before + 2).await;
    let cancel = json!({"jsonrpc": "2.0", "method": "notifications/cancelled",
        "params": {"requestId": 2, "reason": "user pressed escape"}});
    stdin.write_all(&send(cancel)).await.unwrap();
    let audit_line = || {
        std::fs::read_to_string(&audit)
            .unwrap_or_default()
            .lines()
            .find(|l| l.contains("DB_PASSWORD"))
            .map(str::to_string)
    };
    until(|| audit_line().is_some()).await;
    let entry: Value = serde_json::from_str(&audit_line().unwrap()).unwrap();
    assert_eq!(entry["outcome"], json!("cancelled"), "{entry}");
    assert!(
        entry["latencyMs"].as_u64().unwrap() < 4000,
        "the vault read was not abandoned: {entry}"
    );
    drop(stdin);
    let status = tokio::time::timeout(Duration::from_secs(5), child.wait())
        .await
        .unwrap()
        .unwrap();
    assert!(status.success());
}

/// Waits for `condition` by yielding to the runtime, never sleeping; gives up
/// after 10 s so a broken server fails the test instead of hanging it.
async fn until(condition: impl Fn() -> bool) {
    tokio::time::timeout(Duration::from_secs(10), async {
        while !condition() {
            tokio::task::yield_now().await;
        }
    })
    .await
    .expect("the awaited event never happened");
}

/// A line over the 2 MiB limit is not buffered, is logged at warn, and is
/// answered with a JSON-RPC error under its own id; the server keeps serving.
#[tokio::test]
async fn an_over_long_line_is_answered_under_its_id() {
    let vault = vault(Generation::Current, CfGate::Off).await;
    let env = set(env_for(&vault), "RUST_LOG", "warn");
    let (child, mut stdin, mut stdout) = raw_session_with_stderr(&env).await;
    let huge = "A".repeat(3 * 1024 * 1024);
    let mut input = Vec::new();
    for line in [
        json!({"jsonrpc":"2.0","method":"notifications/initialized"}),
        json!({"jsonrpc":"2.0","id":77,"method":"tools/call","params":{"name":"get-secret","arguments":{"secretName":huge}}}),
        json!({"jsonrpc":"2.0","method":"notifications/progress","params":{"x":huge}}),
        json!({"jsonrpc":"2.0","id":78,"method":"tools/call","params":{"name":"get-secret","arguments":{"secretName":"DB_PASSWORD","secretPath":"/agents/warden"}}}),
    ] {
        input.extend_from_slice(line.to_string().as_bytes());
        input.push(b'\n');
    }
    stdin.write_all(&input).await.unwrap();
    stdin.flush().await.unwrap();
    let mut replies: HashMap<u64, Value> = HashMap::new();
    while replies.len() < 2 {
        let mut line = String::new();
        tokio::time::timeout(Duration::from_secs(10), stdout.read_line(&mut line))
            .await
            .expect("server stopped answering")
            .unwrap();
        let reply: Value = serde_json::from_str(&line).expect("stdout carries only JSON-RPC");
        replies.insert(reply["id"].as_u64().unwrap(), reply);
    }
    assert_eq!(replies[&77]["error"]["code"], json!(-32600), "{}", replies[&77]);
    assert!(
        replies[&77]["error"]["message"]
            .as_str()
            .unwrap()
            .contains("2 MiB"),
        "{}",
        replies[&77]
    );
    assert_eq!(
        replies[&78]["result"]["structuredContent"]["secretValue"],
        json!(DB_PASSWORD)
    );
    drop(stdin);
    let output = tokio::time::timeout(Duration::from_secs(5), child.wait_with_output())
        .await
        .unwrap()
        .unwrap();
    assert!(output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(
        stderr
            .matches("JSON-RPC line over the size limit dropped")
            .count(),
        2,
        "{stderr}"
    );
    assert!(stderr.contains("WARN"), "{stderr}");
    assert!(!stderr.contains("AAAAAAAA"), "the line itself is not logged");
}

/// Writes `line` and reads one answer line from a blocking stream.
fn exchange(to: &mut impl std::io::Write, from: &mut impl std::io::BufRead, line: &str) -> Value {
    to.write_all(line.as_bytes()).unwrap();
    to.write_all(b"\n").unwrap();
    to.flush().unwrap();
    let mut answer = String::new();
    from.read_line(&mut answer).unwrap();
    serde_json::from_str(&answer).expect("stdout carries only JSON-RPC")
}

const INITIALIZE: &str = r#"{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"raw","version":"0"}}}"#;

/// Node starts servers on Unix socket pairs, Python and Rust on pipes, a
/// shell on files: the server reads and writes each (pipes and sockets on
/// its event loop, files through tokio's stdio).
#[tokio::test]
async fn serves_over_socket_pairs_and_files_as_over_pipes() {
    use std::io::BufReader as StdBufReader;
    use std::os::unix::net::UnixStream;

    let vault = vault(Generation::Current, CfGate::Off).await;
    let mut env = env_for(&vault);
    env.remove("RUST_LOG");

    // Socket pairs, one for each direction, as libuv makes them.
    let (mut to_server, server_in) = UnixStream::pair().unwrap();
    let (from_server, server_out) = UnixStream::pair().unwrap();
    let mut child = command(&env, &["serve"])
        .stdin(std::process::Stdio::from(std::os::fd::OwnedFd::from(server_in)))
        .stdout(std::process::Stdio::from(std::os::fd::OwnedFd::from(server_out)))
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let pid = child.id().unwrap();
    let session = tokio::task::spawn_blocking(move || {
        let mut from_server = StdBufReader::new(from_server);
        let init = exchange(&mut to_server, &mut from_server, INITIALIZE);
        // Read and written on the server's one thread: no blocking-pool
        // thread per direction (tokio's stdio would have started two). The
        // log writer's thread is the only other one.
        let threads: Vec<String> = std::fs::read_dir(format!("/proc/{pid}/task"))
            .unwrap()
            .map(|t| std::fs::read_to_string(t.unwrap().path().join("comm")).unwrap_or_default())
            .filter(|name| name.trim() != "log-writer")
            .collect();
        assert_eq!(
            threads.len(),
            1,
            "threads of the server after initialize: {threads:?}"
        );
        let call = exchange(
            &mut to_server,
            &mut from_server,
            r#"{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"get-secret","arguments":{"secretName":"DB_PASSWORD","secretPath":"/agents/warden"}}}"#,
        );
        // EOF on the socket ends the session.
        to_server.shutdown(std::net::Shutdown::Write).unwrap();
        (init, call)
    });
    let (init, call) = session.await.unwrap();
    assert_eq!(init["result"]["serverInfo"]["name"], json!("infisical-mcp-rs"));
    assert_eq!(
        call["result"]["structuredContent"]["secretValue"],
        json!(DB_PASSWORD),
        "{call}"
    );
    let status = tokio::time::timeout(Duration::from_secs(5), child.wait())
        .await
        .expect("no exit after EOF on the socket")
        .unwrap();
    assert!(status.success(), "{status}");

    // A file in, a file out: answered, then EOF ends the session.
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("requests.jsonl");
    let output = dir.path().join("answers.jsonl");
    std::fs::write(&input, format!("{INITIALIZE}\n")).unwrap();
    let status = command(&env, &["serve"])
        .stdin(std::fs::File::open(&input).unwrap())
        .stdout(std::fs::File::create(&output).unwrap())
        .stderr(std::process::Stdio::null())
        .status()
        .await
        .unwrap();
    assert!(status.success(), "{status}");
    let answers = std::fs::read_to_string(&output).unwrap();
    let first: Value = serde_json::from_str(answers.lines().next().expect("an answer")).unwrap();
    assert_eq!(first["result"]["serverInfo"]["name"], json!("infisical-mcp-rs"));
}

/// A serve over the sample vault with `changes` applied to the README's
/// environment (`None` removes a variable).
async fn sample_serve(changes: &[(&str, Option<&str>)]) -> (RunningVault, Served) {
    let vault = start_vault(Generation::Current, login_gate()).await;
    let mut env = good_env(&vault);
    for (k, v) in changes {
        match v {
            Some(v) => env.insert((*k).into(), (*v).into()),
            None => env.remove(*k),
        };
    }
    let served = serve(&env, &["serve"]).await;
    (vault, served)
}

fn hint_of(result: &rmcp::model::CallToolResult) -> String {
    structured(result)["error"]["hint"]
        .as_str()
        .unwrap_or_default()
        .to_string()
}

/// A wrong project id is the vault saying "Project with ID … not found":
/// the result names INFISICAL_PROJECT_ID, not a missing key.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_wrong_project_id_names_the_setting_not_the_key() {
    let (_vault, s) = sample_serve(&[(
        "INFISICAL_PROJECT_ID",
        Some("3b0f6a52-7c1e-4f7a-9d5e-2a6c8b1e4f90"),
    )])
    .await;
    let r = s
        .call(
            "get-secret",
            json!({"secretName": "WARDEN_API_KEY", "secretPath": "/agents/warden"}),
        )
        .await;
    assert!(is_error(&r));
    let t = text(&r);
    assert!(!t.contains("is not in dev:/agents/warden"), "{t}");
    assert!(
        t.contains("Project with ID '3b0f6a52-7c1e-4f7a-9d5e-2a6c8b1e4f90' not found"),
        "{t}"
    );
    assert!(hint_of(&r).contains("check INFISICAL_PROJECT_ID"), "{t}");
}

/// INFISICAL_HOST_URL with a path the server does not serve its API under.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_url_path_without_the_api_names_the_url_not_the_secret() {
    let vault = start_vault(Generation::Current, login_gate()).await;
    let mut env = good_env(&vault);
    env.insert("INFISICAL_HOST_URL".into(), format!("{}/app", vault.base_url()));
    let s = serve(&env, &["serve"]).await;
    let r = s
        .call(
            "get-secret",
            json!({"secretName": "WARDEN_API_KEY", "secretPath": "/agents/warden"}),
        )
        .await;
    let t = text(&r);
    assert!(
        t.contains("Route POST:/app/api/v1/auth/universal-auth/login not found"),
        "{t}"
    );
    let hint = hint_of(&r);
    assert!(
        hint.starts_with("no Infisical API answers under INFISICAL_HOST_URL"),
        "{hint}"
    );
    assert!(!hint.contains("client secret"), "{hint}");
}

/// https:// to a server that speaks plain http.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tls_to_a_plain_http_server_says_use_http() {
    let vault = start_vault(Generation::Current, login_gate()).await;
    let mut env = good_env(&vault);
    env.insert(
        "INFISICAL_HOST_URL".into(),
        vault.base_url().replacen("http://", "https://", 1),
    );
    let s = serve(&env, &["serve"]).await;
    let r = s
        .call(
            "get-secret",
            json!({"secretName": "WARDEN_API_KEY", "secretPath": "/agents/warden"}),
        )
        .await;
    let hint = hint_of(&r);
    assert!(
        hint.starts_with("does the server speak plain http? use http://"),
        "{}\n{hint}",
        text(&r)
    );
}

/// No INFISICAL_ENVIRONMENT and a scope in one environment with one folder:
/// calls without environment or path start there.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_scope_supplies_the_default_environment_and_folder() {
    let (_vault, s) = sample_serve(&[
        ("INFISICAL_ENVIRONMENT", None),
        ("INFISICAL_SCOPE", Some("dev:/agents/warden/**")),
    ])
    .await;
    let r = s
        .call("get-secret", json!({"secretName": "WARDEN_API_TOKEN"}))
        .await;
    assert!(!is_error(&r), "{}", text(&r));
    assert_eq!(structured(&r)["secretPath"], "/agents/warden");
    assert_eq!(structured(&r)["environment"], "dev");
    let r = s.call("list-secrets", json!({})).await;
    assert!(!is_error(&r), "{}", text(&r));
    assert_eq!(structured(&r)["secretPath"], "/agents/warden");
    // Folders start at the top, where the way into the scope shows.
    let r = s.call("list-folders", json!({})).await;
    assert!(!is_error(&r), "{}", text(&r));
    assert_eq!(structured(&r)["path"], "/");
    assert_eq!(structured(&r)["environment"], "dev");
}

/// A near miss gets "did you mean" from the folder's names-only listing.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_near_miss_names_the_close_names() {
    let (_vault, s) = sample_serve(&[]).await;
    let r = s
        .call(
            "get-secret",
            json!({"secretName": "WARDEN_API_TOKN", "secretPath": "/agents/warden"}),
        )
        .await;
    assert!(is_error(&r));
    let t = text(&r);
    assert!(t.contains("; did you mean WARDEN_API_TOKEN?"), "{t}");
    let r = s
        .call(
            "get-secret",
            json!({"secretName": "warden_api_token", "secretPath": "/agents/warden"}),
        )
        .await;
    assert!(
        text(&r).contains("; did you mean WARDEN_API_TOKEN?"),
        "{}",
        text(&r)
    );
    // Nothing close: no suggestion at all.
    let r = s
        .call(
            "get-secret",
            json!({"secretName": "SOMETHING_ELSE", "secretPath": "/agents/warden"}),
        )
        .await;
    assert!(!text(&r).contains("did you mean"), "{}", text(&r));
}

/// No note suggests the call that was just made.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn notes_never_suggest_the_call_just_made() {
    let (_vault, s) = sample_serve(&[]).await;
    let r = s
        .call(
            "list-secrets",
            json!({"environmentSlug": "dev", "secretPath": "/", "recursive": true}),
        )
        .await;
    assert!(!is_error(&r), "{}", text(&r));
    let note = structured(&r)["scopeNote"].as_str().unwrap().to_string();
    assert!(note.contains("lies above this server's scope"), "{note}");
    assert!(!note.contains("recursive=true"), "{note}");

    // An environment no scope entry names: list-folders at / is refused,
    // and the hint names the environments, not list-folders at /.
    let r = s
        .call("list-folders", json!({"environmentSlug": "staging", "path": "/"}))
        .await;
    assert!(is_error(&r));
    let hint = hint_of(&r);
    assert!(!hint.contains("list-folders at /"), "{hint}");
    assert!(
        hint.starts_with("environment 'staging' is in no scope entry: call list-folders with environmentSlug set to one of dev, prod"),
        "{hint}"
    );
}

/// A default environment in no scope entry (a typo on either side) and two
/// kinds of credentials are both said at start.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn serve_warns_about_a_typo_environment_and_names_the_credentials_it_uses() {
    let (_vault, s) = sample_serve(&[
        ("INFISICAL_SCOPE", Some("dve:/agents/warden/**")),
        ("INFISICAL_TOKEN", Some("an-admin-token-0123456789")),
    ])
    .await;
    // A call makes sure start-up has finished writing its warnings.
    let _ = s.call("list-secrets", json!({})).await;
    let stderr = s.stderr_text();
    assert!(
        stderr.contains("the default environment 'dev' (INFISICAL_ENVIRONMENT) is in no scope entry (dve)"),
        "{stderr}"
    );
    assert!(
        stderr.contains("INFISICAL_TOKEN is ignored: universal auth (INFISICAL_UNIVERSAL_AUTH_CLIENT_ID / _SECRET) is set too and wins; set INFISICAL_AUTH_METHOD=access-token to use INFISICAL_TOKEN instead"),
        "{stderr}"
    );
    assert!(!stderr.contains("an-admin-token-0123456789"));
}
