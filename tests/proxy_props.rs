//! Properties of the proxy's policy and answer check that must hold for any
//! request and any answer, not just the ones the other tests spell out: no
//! input panics, and whatever a scoped proxy lets through names only the
//! parameters its route defines, with imports and expansion off and the
//! folder in the scope.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::words;
use hyper::{Method, Uri};
use infisical_mcp_rs::agent::proxy::answer;
use infisical_mcp_rs::agent::proxy::policy::{AnswerCheck, AnswerKind, FORCED_OFF, ProjectRule};
use infisical_mcp_rs::agent::proxy::{Policy, ScopeRule};
use infisical_mcp_rs::config::ProjectScope;
use infisical_mcp_rs::scope::{Scope, SecretPath};
use proptest::prelude::*;
use serde_json::Value;

const SCOPE: &str = "dev:/agents/warden/**";
const PROJECT: &str = "proj-a";

fn scoped(projects: bool) -> Policy {
    Policy {
        scope: Some(ScopeRule {
            scope: Scope::parse_list(&[SCOPE.to_string()]).unwrap(),
            source: "--scope".into(),
            projects: projects.then(|| ProjectRule {
                default: Some(PROJECT.into()),
                projects: ProjectScope::default(),
            }),
        }),
        ..Policy::default()
    }
}

/// Path segments and the characters that have tripped parsers.
const PATH_PIECES: &[&str] = &[
    "/",
    "api",
    "v3",
    "v4",
    "secrets",
    "raw",
    "folders",
    "secret-imports",
    "workspace",
    "agents",
    "warden",
    ";",
    "%3B",
    "%2F",
    "%",
    "%FF",
    "..",
    "+",
    "&",
    "=",
    "%EF%BB%BF",
    "%E2%80%A8",
    "%00",
    "*",
];

/// Query parameter names the routes read, and near misses.
const QUERY_NAMES: &[&str] = &[
    "projectId",
    "workspaceId",
    "environment",
    "secretPath",
    "path",
    "directory",
    "recursive",
    "includeImports",
    "include_imports",
    "expandSecretReferences",
    "INCLUDE_IMPORTS",
    "workspaceSlug",
    "type",
];

/// Query values: real ones and path tricks.
const QUERY_VALUES: &[&str] = &[
    "dev",
    "proj-b",
    "true",
    "false",
    "/agents/warden",
    "%2Fagents%2Fwarden%2Fdeep",
    "/agents/other",
    "/agents/warden/..",
];

/// String leaves of a fake vault answer.
const JSON_STRINGS: &[&str] = &[
    "dev",
    "/agents/warden",
    "/agents/warden/",
    "/agents/other",
    "/agents/warden/\u{feff}",
];

/// Keys of a fake vault answer.
const JSON_KEYS: &[&str] = &[
    "secret",
    "secrets",
    "imports",
    "folders",
    "environment",
    "secretPath",
    "name",
    "secretKey",
    "secretValue",
];

/// Path and query text with the characters that have tripped parsers.
fn piece() -> impl Strategy<Value = String> {
    prop_oneof![
        24 => words(PATH_PIECES),
        1 => "[A-Za-z_]{1,8}",
    ]
}

fn query_pair() -> impl Strategy<Value = String> {
    let name = prop_oneof![
        13 => words(QUERY_NAMES),
        1 => "[a-zA-Z_%]{1,10}",
    ];
    let value = prop_oneof![
        8 => words(QUERY_VALUES),
        1 => Just(PROJECT.to_owned()),
        1 => prop::collection::vec(piece(), 0..4).prop_map(|v| v.concat()),
    ];
    (name, value).prop_map(|(n, v)| format!("{n}={v}"))
}

fn target() -> impl Strategy<Value = String> {
    let path = prop::collection::vec(piece(), 0..10).prop_map(|v| format!("/{}", v.join("/")));
    let query = prop::collection::vec(query_pair(), 0..8).prop_map(|v| v.join("&"));
    (path, query).prop_map(|(p, q)| if q.is_empty() { p } else { format!("{p}?{q}") })
}

/// Arbitrary JSON with the shapes a secret answer has, at any depth.
fn json() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        any::<u64>().prop_map(Value::from),
        any::<f64>().prop_map(|f| serde_json::Number::from_f64(f).map_or(Value::Null, Value::Number)),
        prop_oneof![
            5 => words(JSON_STRINGS),
            1 => ".{0,12}",
        ]
        .prop_map(Value::from),
    ];
    leaf.prop_recursive(6, 64, 6, |inner| {
        let key = prop_oneof![
            9 => words(JSON_KEYS),
            1 => "[a-z]{1,6}",
        ];
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            prop::collection::vec((key, inner), 0..6)
                .prop_map(|pairs| Value::Object(pairs.into_iter().collect())),
        ]
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(400))]

    /// Any request target: a verdict, never a panic; and a scoped read that
    /// passes carries only its route's parameters, each once, with imports
    /// and expansion off, an in-scope environment and the configured project.
    #[test]
    fn any_request_gets_a_verdict_and_what_passes_is_checked(target in target(), get in any::<bool>()) {
        let Ok(uri) = target.parse::<Uri>() else { return Ok(()) };
        let method = if get { Method::GET } else { Method::HEAD };
        let _ = Policy::default().check_request(&method, &uri);
        for policy in [scoped(false), scoped(true)] {
            let Ok(plan) = policy.check_request(&method, &uri) else { continue };
            prop_assert!(!uri.path().contains(';') && !uri.path().to_ascii_lowercase().contains("%3b"));
            let Some(query) = plan.query else { continue };
            let pairs: Vec<(String, String)> =
                url::form_urlencoded::parse(query.as_bytes()).into_owned().collect();
            for (i, (name, value)) in pairs.iter().enumerate() {
                prop_assert!(pairs[..i].iter().all(|(n, _)| n != name), "{name} twice in {query}");
                if FORCED_OFF.contains(&name.as_str()) {
                    prop_assert_eq!(value, "false");
                }
                if name == "environment" {
                    prop_assert_eq!(value, "dev");
                }
                if policy.scope.as_ref().unwrap().projects.is_some()
                    && (name == "projectId" || name == "workspaceId")
                {
                    prop_assert!(value.eq_ignore_ascii_case(PROJECT), "{query}");
                }
            }
        }
    }

    /// Any answer body, for any kind of scoped read: checked or refused,
    /// never a panic, and a filtered answer is JSON again.
    #[test]
    fn any_answer_is_checked_or_refused(body in json(), kind in 0..4u8, raw in any::<bool>()) {
        let scope = Scope::parse_list(&[SCOPE.to_string()]).unwrap();
        let want = AnswerCheck {
            environment: "dev".into(),
            folder: SecretPath::parse("/agents/warden").unwrap(),
            kind: match kind {
                0 => AnswerKind::Secret,
                1 => AnswerKind::SecretList { recursive: false },
                2 => AnswerKind::SecretList { recursive: true },
                _ => AnswerKind::Folders,
            },
        };
        let bytes = if raw { body.to_string().into_bytes()[..body.to_string().len() / 2].to_vec() } else { body.to_string().into_bytes() };
        if let Ok(answer::Checked::Filtered { body, .. }) = answer::check(&scope, &want, &bytes) {
            prop_assert!(serde_json::from_slice::<Value>(&body).is_ok());
        }
    }
}

/// Nesting deeper than any JSON parser should follow is a refusal, not a
/// stack overflow.
#[test]
fn deeply_nested_answers_are_refused_cleanly() {
    let scope = Scope::parse_list(&[SCOPE.to_string()]).unwrap();
    for depth in [64, 200, 100_000] {
        let body = format!("{{\"secrets\":{}{}}}", "[".repeat(depth), "]".repeat(depth));
        let want = AnswerCheck {
            environment: "dev".into(),
            folder: SecretPath::parse("/agents/warden").unwrap(),
            kind: AnswerKind::SecretList { recursive: true },
        };
        let _ = answer::check(&scope, &want, body.as_bytes());
    }
}
