//! The tests of `mcp_config`, apart so that the module reads as one concept.

#![allow(clippy::unwrap_used, clippy::expect_used)]
use super::*;

fn args(argv: &[&str]) -> McpConfigArgs {
    crate::test_support::parse(argv)
}

fn no_env() -> std::collections::HashMap<String, String> {
    std::collections::HashMap::new()
}

#[test]
fn references_only_for_credentials() {
    let entry = args(&["--scope", "dev:/a/**", "--cf-access"])
        .entry(&no_env())
        .unwrap();
    for (k, v) in &entry.env.0 {
        if k != "INFISICAL_SCOPE" && k != "INFISICAL_ENVIRONMENT" {
            assert!(is_reference(v), "{k}={v}");
        }
    }
}

#[test]
fn no_cloudflare_lines_when_its_variables_are_unset_and_the_scope_names_the_environment() {
    let keys = |entry: &Entry| {
        entry
            .env
            .0
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
    };
    let bare = keys(&args(&["--scope", "dev:/a/**"]).entry(&no_env()).unwrap());
    assert!(!bare.iter().any(|k| k.starts_with("CF_ACCESS_")), "{bare:?}");
    assert!(
        bare.contains(&"INFISICAL_ENVIRONMENT=dev".to_string()),
        "{bare:?}"
    );
    let cf: std::collections::HashMap<String, String> = [(CF_ID_VAR.to_string(), "id".to_string())].into();
    let with_cf = keys(&args(&["--scope", "dev:/a/** prod:/b/**"]).entry(&cf).unwrap());
    assert!(
        with_cf.contains(&format!("{CF_ID_VAR}=${{{CF_ID_VAR}}}")),
        "{with_cf:?}"
    );
    assert!(
        !with_cf.iter().any(|k| k.starts_with("INFISICAL_ENVIRONMENT")),
        "{with_cf:?}"
    );
    let forced_off = keys(&args(&["--no-cf-access"]).entry(&cf).unwrap());
    assert!(
        !forced_off.iter().any(|k| k.starts_with("CF_ACCESS_")),
        "{forced_off:?}"
    );
}

#[test]
fn merge_keeps_order_and_text_of_others() {
    let existing = "{\n  \"z\": 1,\n  \"mcpServers\": {\n    \"other\": {\n      \"command\": \"x\",\n      \"args\": []\n    }\n  },\n  \"a\": true\n}\n";
    let entry = args(&[]).entry(&no_env()).unwrap();
    let text = merged(Some(existing), "infisical", &entry, false).unwrap();
    assert!(text.starts_with("{\n  \"z\": 1,\n  \"mcpServers\": {\n    \"other\": {\n      \"command\": \"x\",\n      \"args\": []\n    },\n    \"infisical\": {\n      \"type\": \"stdio\""), "{text}");
    assert!(text.ends_with("  \"a\": true\n}\n"), "{text}");
    let again = merged(Some(&text), "infisical", &entry, false);
    assert!(matches!(again, Err(McpConfigError::Exists(_))));
    assert!(merged(Some(&text), "infisical", &entry, true).is_ok());
    assert!(matches!(
        merged(Some("[1]"), "n", &entry, false),
        Err(McpConfigError::Shape(_))
    ));
    assert!(matches!(
        merged(Some("{"), "n", &entry, false),
        Err(McpConfigError::Malformed(_))
    ));
}

#[test]
fn shell_words_keep_references_unexpanded() {
    assert_eq!(shell_quote("infisical"), "infisical");
    assert_eq!(shell_quote("${A}"), "'${A}'");
    assert_eq!(shell_quote("it's"), "'it'\\''s'");
    assert_eq!(shell_quote(""), "''");
}

#[test]
fn reference_syntax() {
    assert!(is_reference("${A_B1}"));
    assert!(!is_reference("${A:-x}"));
    assert!(!is_reference("value"));
    assert!(!is_reference("x${A}"));
}

#[test]
fn broker_lines_warn_without_a_broker_token_and_check_the_url() {
    let dir = tempfile::tempdir().unwrap();
    let rules = dir.path().join("b.toml");
    std::fs::write(
        &rules,
        "[[rule]]\nname = \"dns\"\nupstream = \"https://api.example.com\"\nsecret = \"prod:/DNS\"\nquery = \"k\"\npaths = [\"/**\"]\n",
    )
    .unwrap();
    let lines = broker::BrokerLines::load(&rules, None, &no_env()).unwrap();
    assert_eq!(lines.url, "http://127.0.0.1:2020");
    let mut err = Vec::new();
    lines.agent_notes(&no_env(), &mut err).unwrap();
    let text = String::from_utf8(err).unwrap();
    assert!(
        text.contains("warning: INFISICAL_BROKER_TOKEN is not set here"),
        "{text}"
    );
    for url in ["ftp://127.0.0.1:2020", "http://127.0.0.1:2020/dns", "not a url"] {
        let e = broker::BrokerLines::load(&rules, Some(url), &no_env()).unwrap_err();
        assert!(e.to_string().starts_with("--broker-url"), "{url}: {e}");
    }
}
