//! The client and the vault read every path, environment and secret name the
//! same way, or the client refuses it: checked against JavaScript itself.
//!
//! Infisical reads its input with JavaScript (`String.prototype.trim`, one
//! trailing slash removed, the query string decoded by Fastify, the route
//! parameter decoded by the router); the client is Rust. A Node script
//! (`tools/js-input/vault-input.js`, Node's own `URLSearchParams`,
//! `node:querystring`, `URL` and `decodeURIComponent`, no re-implementation)
//! reads exactly the bytes the client would send for a generated corpus: every
//! code point JavaScript trims, every format character, `+`, `%`, `%2F`, `;`,
//! NUL and the other controls, combining marks and code points beside the
//! surrogates, at the start, the end and inside. For every string the client
//! accepts, the vault must read the folder, environment and key the client
//! checked (and so the one the scope judged); every other string must be
//! refused before a request is built. Both for the MCP tools (the rule in
//! `infisical_scope::input` and `SecretPath::parse`, which they call) and for
//! `proxy --scope` (its whole policy, on raw request targets in three
//! encodings). One Node process answers the whole corpus.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::collections::BTreeSet;
use std::io::Write;
use std::process::{Command, Stdio};

use common::{good_env, is_error, login_gate, serve, start_vault, text, vault_reads};
use hyper::{Method, Uri};
use infisical_fakevault::Generation;
use infisical_mcp_rs::agent::proxy::policy::AnswerKind;
use infisical_mcp_rs::agent::proxy::route::Route;
use infisical_mcp_rs::agent::proxy::{Policy, ScopeRule};
use infisical_mcp_rs::scope::input::{is_format, is_js_whitespace};
use infisical_mcp_rs::scope::{Scope, SecretPath, check_environment, check_secret_name};
use percent_encoding::{AsciiSet, CONTROLS, NON_ALPHANUMERIC, utf8_percent_encode};
use serde_json::{Value, json};

/// The scope of the escape this test was written for: covers what lies
/// below `/agents/warden`, not the folder itself.
const SCOPE: &str = "dev:/agents/warden/* prod:/shared/**";
const NAME: &str = "WARDEN_API_KEY";
const BASE: &str = "http://vault.invalid";

/// The vault client's own encoding of a secret name in the route.
const NAME_SAFE: &AsciiSet = &NON_ALPHANUMERIC.remove(b'-').remove(b'_').remove(b'.');
/// `encodeURIComponent`'s: what a JavaScript client sends.
const COMPONENT: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'_')
    .remove(b'.')
    .remove(b'!')
    .remove(b'~')
    .remove(b'*')
    .remove(b'\'')
    .remove(b'(')
    .remove(b')');
/// As little as a request target allows: `+`, `%`, `;` and the rest go raw.
const MINIMAL: &AsciiSet = &CONTROLS
    .add(b' ')
    .add(b'#')
    .add(b'&')
    .add(b'"')
    .add(b'<')
    .add(b'>');

/// Runs the Node harness on `request`; `None` (after saying why) when Node
/// is not installed outside CI. In CI a missing Node fails the test.
fn node(request: &Value) -> Option<Value> {
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tools/js-input/vault-input.js");
    let child = Command::new("node")
        .arg(script)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn();
    let mut child = match child {
        Ok(child) => child,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            assert!(
                std::env::var_os("CI").is_none(),
                "node is not installed, and CI is set: this check must run in CI (install Node 20)"
            );
            eprintln!("SKIPPED js_input_agreement: `node` is not on PATH; install Node 20 to run it");
            return None;
        }
        Err(e) => panic!("cannot start node: {e}"),
    };
    let input = serde_json::to_vec(request).unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let writer = std::thread::spawn(move || stdin.write_all(&input));
    let out = child.wait_with_output().unwrap();
    writer.join().unwrap().unwrap();
    assert!(out.status.success(), "the Node harness failed: {}", out.status);
    Some(serde_json::from_slice(&out.stdout).expect("the Node harness writes JSON"))
}

/// One character or short sequence to plant in a string.
fn pieces(trimmed: &[char], format: &[char]) -> Vec<String> {
    let mut chars: BTreeSet<char> = trimmed.iter().chain(format).copied().collect();
    chars.extend(
        (0..=0x1F)
            .chain([0x7F, 0x80, 0x85, 0x9F])
            .filter_map(char::from_u32),
    );
    chars.extend([
        '+',
        '%',
        ';',
        '&',
        '=',
        '#',
        '?',
        '/',
        '\\',
        '.',
        ' ',
        '*',
        'a',
        'é',
        '\u{300}',
        '\u{301}',
        '\u{34F}',
        '\u{20DD}',
        '\u{D7FF}',
        '\u{E000}',
        '\u{FFFD}',
        '\u{FFFE}',
        '\u{FFFF}',
        '\u{10000}',
        '\u{10FFFF}',
        '\u{115F}',
        '\u{3164}',
    ]);
    let mut out: Vec<String> = chars.into_iter().map(String::from).collect();
    out.extend(
        [
            "%2F",
            "%2f",
            "%25",
            "%zz",
            "%E",
            "%EF%BB%BF",
            "..",
            "//",
            "+%2F",
            "a\u{301}",
        ]
        .map(String::from),
    );
    out
}

fn paths(pieces: &[String]) -> Vec<String> {
    let mut out: Vec<String> = [
        "/",
        "/agents/warden",
        "/agents/warden/",
        "/agents/warden//",
        "/agents/warden/x",
        "/agents/warden/x/",
        "/shared",
        "",
        "agents/warden",
    ]
    .map(String::from)
    .to_vec();
    for p in pieces {
        out.extend([
            format!("{p}/agents/warden/x"),
            format!("/agents/warden{p}"),
            format!("/agents/warden/{p}"),
            format!("/agents/warden/{p}/"),
            format!("/agents/warden{p}/"),
            format!("/agents/warden/x{p}"),
            format!("/agents/warden/{p}x"),
            format!("/agents/warden/x{p}y"),
            format!("/agents/{p}warden/x"),
            format!("/{p}"),
            p.clone(),
        ]);
    }
    out
}

fn environments(pieces: &[String]) -> Vec<String> {
    let mut out = vec![
        "dev".to_string(),
        "prod".to_string(),
        "DEV".to_string(),
        String::new(),
    ];
    for p in pieces {
        out.extend([format!("{p}dev"), format!("dev{p}"), format!("d{p}ev"), p.clone()]);
    }
    out
}

fn names(pieces: &[String]) -> Vec<String> {
    let mut out = vec![
        NAME.to_string(),
        ".".into(),
        "..".into(),
        "...".into(),
        String::new(),
    ];
    for p in pieces {
        out.extend([
            format!("{p}{NAME}"),
            format!("{NAME}{p}"),
            format!("WARDEN{p}KEY"),
            p.clone(),
        ]);
    }
    out
}

/// One (environment, folder, name) the client is asked for.
#[derive(Clone)]
struct Case {
    environment: String,
    path: String,
    name: String,
}

impl Case {
    fn new(environment: &str, path: &str, name: &str) -> Self {
        Case {
            environment: environment.into(),
            path: path.into(),
            name: name.into(),
        }
    }
}

/// The MCP tools' decision: the rule they call, then the scope.
fn mcp_accepts(scope: &Scope, case: &Case) -> Option<SecretPath> {
    check_environment(&case.environment).ok()?;
    check_secret_name(&case.name).ok()?;
    let path = SecretPath::parse(&case.path).ok()?;
    scope.allows(&case.environment, &path).then_some(path)
}

/// The request the vault client builds for a single-secret read, by
/// reqwest's own query encoding and URL parser.
fn mcp_request(client: &reqwest::Client, case: &Case, path: &SecretPath, legacy: bool) -> reqwest::Url {
    let encoded = utf8_percent_encode(&case.name, NAME_SAFE).to_string();
    let (route, project) = if legacy {
        (format!("/api/v3/secrets/raw/{encoded}"), "workspaceId")
    } else {
        (format!("/api/v4/secrets/{encoded}"), "projectId")
    };
    let request = client
        .get(format!("{BASE}{route}"))
        .query(&[
            (project, "p"),
            ("environment", case.environment.as_str()),
            ("secretPath", path.as_str()),
            ("type", "shared"),
        ])
        .build()
        .unwrap();
    request.url().clone()
}

/// The request targets a client of `proxy --scope` might send for `case`.
fn proxy_targets(case: &Case) -> Vec<String> {
    let mut out = Vec::new();
    for set in [None, Some(COMPONENT), Some(MINIMAL)] {
        let enc = |s: &str| match set {
            None => url::form_urlencoded::byte_serialize(s.as_bytes()).collect::<String>(),
            Some(set) => utf8_percent_encode(s, set).to_string(),
        };
        let (env, path) = (enc(&case.environment), enc(&case.path));
        let name = utf8_percent_encode(&case.name, set.unwrap_or(COMPONENT)).to_string();
        out.extend([
            format!("/api/v4/secrets/{name}?projectId=p&environment={env}&secretPath={path}"),
            format!("/api/v3/secrets/raw?workspaceId=p&environment={env}&secretPath={path}"),
            format!("/api/v2/folders?projectId=p&environment={env}&path={path}"),
            format!("/api/v1/secret-imports?workspaceId=p&environment={env}&path={path}"),
        ]);
    }
    out
}

fn as_str(v: &Value) -> Option<&str> {
    v.as_str()
}

#[test]
fn client_and_vault_read_every_input_alike() {
    // First the tables: Node says which code points trim removes and which
    // are format characters; the client's rule must hold the same sets.
    let Some(tables) = node(&json!({})) else { return };
    let set = |key: &str| -> Vec<char> {
        tables[key]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| char::from_u32(c.as_u64().unwrap() as u32).unwrap())
            .collect()
    };
    let (trimmed, format) = (set("trimmed"), set("format"));
    let ours = |f: fn(char) -> bool| -> Vec<char> {
        (0..=0x10FFFF)
            .filter_map(char::from_u32)
            .filter(|c| f(*c))
            .collect()
    };
    assert_eq!(
        ours(is_js_whitespace),
        trimmed,
        "the client's JavaScript white space differs from Node {}'s trim",
        tables["node"]
    );
    assert_eq!(
        ours(is_format),
        format,
        "the client's format characters differ from Node {}'s \\p{{Cf}} (Unicode {})",
        tables["node"],
        tables["unicode"]
    );

    let pieces = pieces(&trimmed, &format);
    let mut cases: Vec<Case> = paths(&pieces).iter().map(|p| Case::new("dev", p, NAME)).collect();
    cases.extend(
        environments(&pieces)
            .iter()
            .map(|e| Case::new(e, "/agents/warden/x", NAME)),
    );
    cases.extend(
        names(&pieces)
            .iter()
            .map(|n| Case::new("dev", "/agents/warden/x", n)),
    );
    cases.extend(
        environments(&pieces)
            .iter()
            .map(|e| Case::new(e, "/shared", NAME)),
    );
    // The escape itself, which must be among the refused.
    let escape = Case::new("dev", "/agents/warden/\u{FEFF}", NAME);
    cases.push(escape.clone());

    let scope = Scope::parse_list(&[SCOPE.to_string()]).unwrap();
    let client = reqwest::Client::new();

    // MCP: what the client would send for every accepted case, and (had the
    // client sent the raw input instead) what the vault would read of that.
    let mut queries: Vec<String> = Vec::new();
    let mut url_paths: Vec<String> = Vec::new();
    let mut mcp: Vec<(usize, SecretPath, usize)> = Vec::new();
    for (i, case) in cases.iter().enumerate() {
        let Some(path) = mcp_accepts(&scope, case) else {
            continue;
        };
        let first = queries.len();
        for legacy in [false, true] {
            let url = mcp_request(&client, case, &path, legacy);
            queries.push(url.query().unwrap_or("").to_string());
            url_paths.push(url.path().to_string());
        }
        let raw: String = url::form_urlencoded::Serializer::new(String::new())
            .append_pair("environment", &case.environment)
            .append_pair("secretPath", &case.path)
            .finish();
        queries.push(raw);
        url_paths.push("/".into());
        mcp.push((i, path, first));
    }

    // proxy --scope: every target, through the whole policy.
    let policy = Policy {
        scope: Some(ScopeRule {
            scope: scope.clone(),
            source: "--scope".into(),
            projects: None,
        }),
        ..Policy::default()
    };
    let mut proxied = Vec::new();
    let mut unparsable = 0;
    let mut proxy_refused = 0;
    for (i, case) in cases.iter().enumerate() {
        for target in proxy_targets(case) {
            let Ok(uri) = target.parse::<Uri>() else {
                unparsable += 1;
                continue;
            };
            let Ok(plan) = policy.check_request(&Method::GET, &uri) else {
                proxy_refused += 1;
                continue;
            };
            let sent_query = plan
                .query
                .clone()
                .unwrap_or_else(|| uri.query().unwrap_or("").to_string());
            // What the proxy itself read: the checked folder, or for the
            // imports route (no answer check) its own decoding of `path`.
            let (environment, folder) = match &plan.check {
                Some(check) => (check.environment.clone(), check.folder.clone()),
                None => {
                    let pairs: Vec<(String, String)> =
                        url::form_urlencoded::parse(uri.query().unwrap_or("").as_bytes())
                            .into_owned()
                            .collect();
                    let get = |k: &str| pairs.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone());
                    (
                        get("environment").unwrap(),
                        SecretPath::parse(&get("path").unwrap_or_else(|| "/".into())).unwrap(),
                    )
                }
            };
            // The route the policy recognised (an empty name is a listing).
            let kind = match (&plan.route, plan.check.as_ref().map(|c| c.kind)) {
                (_, Some(AnswerKind::Secret)) => "secret",
                (_, Some(AnswerKind::SecretList { .. })) => "list",
                (_, Some(AnswerKind::Folders)) => "folders",
                (Route::SecretImports, None) => "imports",
                (route, check) => panic!("{target}: unexpected {route:?} {check:?}"),
            };
            proxied.push((i, target.clone(), kind, environment, folder, queries.len()));
            queries.push(sent_query);
            url_paths.push(uri.path().to_string());
        }
    }

    let read = node(&json!({"queries": queries, "paths": url_paths})).unwrap();
    let q = read["queries"].as_array().unwrap();
    let p = read["paths"].as_array().unwrap();

    for (i, path, first) in &mcp {
        let case = &cases[*i];
        let shown = format!("{:?} {:?} {:?}", case.environment, case.path, case.name);
        for (at, route) in [
            (*first, ["api", "v4", "secrets"].as_slice()),
            (first + 1, &["api", "v3", "secrets", "raw"]),
        ] {
            let vault = &q[at];
            assert_eq!(
                vault["agree"], true,
                "Node's parsers disagree on the MCP query for {shown}"
            );
            assert_eq!(
                as_str(&vault["environment"]),
                Some(case.environment.as_str()),
                "environment of {shown}"
            );
            assert_eq!(
                as_str(&vault["secretPath"]),
                Some(path.as_str()),
                "folder of {shown}"
            );
            let segments: Vec<&str> = p[at]["segments"]
                .as_array()
                .unwrap()
                .iter()
                .map(|s| s.as_str().unwrap_or("<undecodable>"))
                .collect();
            assert_eq!(
                &segments[..segments.len() - 1],
                route,
                "the route of {shown} changed"
            );
            assert_eq!(
                segments.last().copied(),
                Some(case.name.as_str()),
                "the name in the route of {shown}"
            );
            assert_eq!(
                as_str(&p[at]["name"]),
                Some(case.name.as_str()),
                "the key the vault reads for {shown}"
            );
        }
        // Had the raw input gone out, the vault would still read the same.
        let raw = &q[first + 2];
        assert_eq!(
            as_str(&raw["secretPath"]),
            Some(path.as_str()),
            "raw folder of {shown}"
        );
        assert_eq!(
            as_str(&raw["environment"]),
            Some(case.environment.as_str()),
            "raw environment of {shown}"
        );
        assert!(scope.allows(&case.environment, path));
    }

    for (i, target, kind, environment, folder, at) in &proxied {
        let case = &cases[*i];
        let shown = format!(
            "{target} (from {:?} {:?} {:?})",
            case.environment, case.path, case.name
        );
        let vault = &q[*at];
        assert_eq!(
            vault["agree"], true,
            "Node's parsers disagree on what the proxy sent for {shown}"
        );
        assert_eq!(vault["repeated"], json!([]), "{shown}");
        assert_eq!(
            as_str(&vault["environment"]),
            Some(environment.as_str()),
            "environment of {shown}"
        );
        let key = match *kind {
            "folders" => "folderPath",
            "imports" => "importPath",
            _ => "secretPath",
        };
        assert_eq!(as_str(&vault[key]), Some(folder.as_str()), "folder of {shown}");
        let in_scope = match *kind {
            "folders" => scope.allows(environment, folder) || scope.leads_into(environment, folder),
            _ => scope.allows(environment, folder),
        };
        assert!(in_scope, "the vault reads outside the scope for {shown}");
        if *kind == "secret" {
            let segments: Vec<Option<&str>> = p[*at]["segments"]
                .as_array()
                .unwrap()
                .iter()
                .map(Value::as_str)
                .collect();
            assert_eq!(segments.len(), 4, "the route of {shown} changed: {segments:?}");
            let name = segments[3].unwrap();
            assert_eq!(
                as_str(&p[*at]["name"]),
                Some(name),
                "the vault trims the name of {shown}"
            );
            check_secret_name(name).unwrap();
        }
    }

    // Caught above had it been accepted; named here as well.
    assert!(
        mcp_accepts(&scope, &escape).is_none(),
        "the U+FEFF escape is accepted"
    );

    // The corpus must exercise both outcomes, for both front ends.
    let refused = cases.len() - mcp.len();
    eprintln!(
        "{} cases: MCP accepted {}, refused {refused}; proxy targets accepted {}, refused {proxy_refused}, \
         not a request target {unparsable}",
        cases.len(),
        mcp.len(),
        proxied.len()
    );
    assert!(
        mcp.len() >= 200 && refused >= 1000,
        "{} accepted, {refused} refused",
        mcp.len()
    );
    assert!(
        proxied.len() >= 1000 && proxy_refused >= 3000,
        "{} proxied, {proxy_refused} refused",
        proxied.len()
    );
}

/// The escape on the wire: the proxy refuses the target a stock client
/// sends for `/agents/warden/\u{FEFF}`, before any request is made.
#[test]
fn the_proxy_refuses_the_trimmed_escape() {
    let policy = Policy {
        scope: Some(ScopeRule {
            scope: Scope::parse_list(&[SCOPE.to_string()]).unwrap(),
            source: "--scope".into(),
            projects: None,
        }),
        ..Policy::default()
    };
    for target in [
        "/api/v3/secrets/raw/WARDEN_API_KEY?workspaceId=p&environment=dev&secretPath=%2Fagents%2Fwarden%2F%EF%BB%BF",
        "/api/v4/secrets?projectId=p&environment=dev&secretPath=/agents/warden/%E2%80%8B",
        "/api/v4/secrets/WARDEN_API_KEY%EF%BB%BF?projectId=p&environment=dev&secretPath=/agents/warden/x",
        "/api/v4/secrets/..?projectId=p&environment=dev&secretPath=/agents/warden/x",
        "/api/v4/secrets/K%3Bx?projectId=p&environment=dev&secretPath=/agents/warden/x",
        "/api/v4/secrets/K?projectId=p&environment=dev%C2%A0&secretPath=/agents/warden/x",
    ] {
        let e = policy
            .check_request(&Method::GET, &target.parse::<Uri>().unwrap())
            .unwrap_err();
        assert!(
            ["ProxyScopeRefused", "ProxyPathRefused"].contains(&e.code()),
            "{target}: {e}"
        );
    }
}

/// End to end: the MCP server refuses each kind of input the vault would
/// read differently, and no read reaches the vault.
#[tokio::test]
async fn mcp_tools_refuse_before_any_request() {
    let vault = start_vault(Generation::Legacy, login_gate()).await;
    let mut env = good_env(&vault);
    env.insert("INFISICAL_SCOPE".into(), "dev:/agents/warden/*".into());
    let served = serve(&env, &["serve"]).await;
    let before = vault_reads(&vault);
    let in_scope = "/agents/warden/x";
    for (tool, args, says) in [
        (
            "get-secret",
            json!({"secretName": NAME, "secretPath": "/agents/warden/\u{FEFF}"}),
            "white space",
        ),
        (
            "list-secrets",
            json!({"secretPath": "/agents/warden/\u{FEFF}"}),
            "white space",
        ),
        (
            "get-secret",
            json!({"secretName": NAME, "secretPath": "/agents/warden/\u{200B}"}),
            "invisible",
        ),
        (
            "get-secret",
            json!({"secretName": "..", "secretPath": in_scope}),
            "'.' and '..' are not names",
        ),
        (
            "get-secret",
            json!({"secretName": "WARDEN_API_KEY\u{FEFF}", "secretPath": in_scope}),
            "white space",
        ),
        (
            "get-secret",
            json!({"secretName": NAME, "secretPath": in_scope, "environmentSlug": "dev\u{A0}"}),
            "not an environment slug",
        ),
    ] {
        let result = served.call(tool, args.clone()).await;
        assert!(is_error(&result), "{tool} {args} was served: {}", text(&result));
        assert!(text(&result).contains(says), "{tool} {args}: {}", text(&result));
    }
    assert_eq!(vault_reads(&vault), before, "a refused input reached the vault");
}
