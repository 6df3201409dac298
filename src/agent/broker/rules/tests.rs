//! The tests of `rules`, apart so that the module reads as one concept.

#![allow(clippy::unwrap_used, clippy::expect_used)]
use super::*;

const GOOD: &str = r#"
[[rule]]
name = "dns"
upstream = "https://api.example.com"
secret = "prod:/team/dns/DNS_TOKEN"
header = "Authorization"
template = "Bearer {}"
methods = ["get", "PATCH"]
paths = ["/client/v4/zones/**"]
use_only = true

[[rule]]
name = "maps"
upstream = "https://maps.example.com:8443"
secret = "dev:/MAPS_KEY"
query = "key"
paths = ["/**"]

[[rule]]
name = "ci"
upstream = "https://ci.example.com"
secret = "dev:/ci/USER"
basic_password_secret = "dev:/ci/PASSWORD"
paths = ["/api/**"]
"#;

fn err(text: &str) -> String {
    Rules::parse(text, "rules.toml", Some("p1"))
        .unwrap_err()
        .to_string()
}

#[test]
fn a_complete_file_parses() {
    let rules = Rules::parse(GOOD, "rules.toml", Some("p1")).unwrap();
    let dns = rules.get("dns").unwrap();
    assert_eq!(dns.methods, vec![Method::GET, Method::PATCH]);
    assert_eq!(dns.secret.to_string(), "prod:/team/dns/DNS_TOKEN");
    assert_eq!(dns.secret.project, "p1");
    assert!(dns.use_only);
    assert!(dns.allows_path("/client/v4/zones/abc/dns_records"));
    assert!(!dns.allows_path("/client/v4/accounts"));
    assert!(
        matches!(&dns.inject, Inject::Header { name, prefix, suffix } if name == "authorization" && prefix == "Bearer " && suffix.is_empty())
    );
    let maps = rules.get("maps").unwrap();
    assert_eq!(maps.upstream.to_string(), "https://maps.example.com:8443");
    assert_eq!(maps.methods, vec![Method::GET, Method::HEAD]);
    assert_eq!(maps.secret.folder.as_str(), "/");
    assert_eq!(rules.get("ci").unwrap().secrets().len(), 2);
    assert!(
        rules
            .rule_for("dev", &SecretPath::parse("/ci").unwrap(), "PASSWORD")
            .is_some()
    );
}

#[test]
fn scope_check_names_the_rule() {
    let rules = Rules::parse(GOOD, "rules.toml", Some("p1")).unwrap();
    let scope = Scope::parse_list(&["prod:/team/**".to_string(), "dev:/".to_string()]).unwrap();
    let e = rules.check_scope(&scope).unwrap_err().to_string();
    assert!(e.contains("rule 'ci'") && e.contains("dev:/ci/USER"), "{e}");
    let all = Scope::parse_list(&["*:/**".to_string()]).unwrap();
    assert!(rules.check_scope(&all).is_ok());
}

#[test]
fn bad_rules_are_refused_with_the_reason() {
    let base = |extra: &str, upstream: &str| {
        format!(
            "[[rule]]\nname = \"r\"\nupstream = \"{upstream}\"\nsecret = \"dev:/a/K\"\npaths = [\"/**\"]\n{extra}"
        )
    };
    let cases = [
        (base("", "https://a.example.com"), "exactly one of"),
        (
            base("header = \"X\"\nquery = \"k\"", "https://a.example.com"),
            "exactly one of",
        ),
        (base("header = \"X\"", "http://a.example.com"), "not https"),
        (base("header = \"X\"", "https://a.example.com/v1"), "has a path"),
        (base("header = \"X\"", "https://u:p@a.example.com"), "credentials"),
        (
            base("header = \"X\"\ntemplate = \"Bearer\"", "https://a.example.com"),
            "exactly once",
        ),
        (
            base("header = \"Host\"", "https://a.example.com"),
            "managed by the broker",
        ),
        (
            base("header = \"X\"\nmethods = [\"CONNECT\"]", "https://a.example.com"),
            "never be brokered",
        ),
        (
            base("header = \"X\"\nmethods = []", "https://a.example.com"),
            "is empty",
        ),
        (
            base("header = \"X\"\ncolour = 1", "https://a.example.com"),
            "unknown field",
        ),
        (base("basic_user = \"a:b\"", "https://a.example.com"), "':'"),
    ];
    for (text, needle) in cases {
        let e = err(&text);
        assert!(e.contains(needle), "{needle}: {e}");
    }
    assert!(err("").contains("no [[rule]]"));
    assert!(err("[[rule]]\nname = \"Bad Name\"\nupstream = \"https://a\"\nsecret = \"dev:/K\"\nheader = \"X\"\npaths = [\"/**\"]").contains("rule name"));
    let twice = format!("{0}\n{0}", base("header = \"X\"", "https://a.example.com"));
    assert!(err(&twice).contains("two rules"));
    let no_project = Rules::parse(&base("header = \"X\"", "https://a.example.com"), "f", None).unwrap_err();
    assert!(no_project.to_string().contains("INFISICAL_PROJECT_ID"));
}

#[test]
fn secret_references_are_checked() {
    assert!(parse_secret_ref("dev:/a/b/KEY", "p").is_ok());
    for bad in [
        "dev/a/KEY",
        "dev:/a/",
        "dev:/a/../KEY",
        "Dev:/KEY",
        "dev:/a/K Y",
        "dev:a/KEY",
    ] {
        assert!(parse_secret_ref(bad, "p").is_err(), "{bad}");
    }
}
