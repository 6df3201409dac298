//! The tests of `rules`, apart so that the module reads as one concept.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
use super::*;

/// Every kind of rule: header, query, basic with two secrets, GitHub App
/// (bearer and basic).
const GOOD: &str = include_str!("tests_rules.toml");

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
    assert!(
        matches!(&dns.source, Source::Secret(s) if s.to_string() == "prod:/team/dns/DNS_TOKEN" && s.project == "p1")
    );
    assert_eq!(dns.value_labels(), ["DNS_TOKEN"]);
    assert!(dns.use_only);
    assert!(dns.allows_path("/client/v4/zones/abc/dns_records"));
    assert!(!dns.allows_path("/client/v4/accounts"));
    assert!(
        matches!(&dns.inject, Inject::Header { name, prefix, suffix } if name == "authorization" && prefix == "Bearer " && suffix.is_empty())
    );
    let maps = rules.get("maps").unwrap();
    assert_eq!(maps.upstream.to_string(), "https://maps.example.com:8443");
    assert_eq!(maps.methods, vec![Method::GET, Method::HEAD]);
    assert_eq!(maps.secrets()[0].folder.as_str(), "/");
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

#[test]
fn a_github_app_rule_sends_a_minted_token_as_a_bearer_by_default() {
    let rules = Rules::parse(GOOD, "rules.toml", Some("p1")).unwrap();
    let gh = rules.get("gh").unwrap();
    let Source::GithubApp(app) = &gh.source else {
        panic!("not a GitHub App rule: {gh:?}");
    };
    assert_eq!(app.api.as_str(), "https://api.github.com/");
    let keys: Vec<String> = gh.secrets().iter().map(ToString::to_string).collect();
    assert_eq!(
        keys,
        [
            "prod:/bots/ci-bot/APP_ID",
            "prod:/bots/ci-bot/INSTALLATION_ID",
            "prod:/bots/ci-bot/PRIVATE_KEY_PEM"
        ]
    );
    assert_eq!(gh.value_labels(), [INSTALLATION_TOKEN_LABEL]);
    assert!(
        matches!(&gh.inject, Inject::Header { name, prefix, suffix } if name == "authorization" && prefix == "Bearer " && suffix.is_empty())
    );
    assert_eq!(gh.source_text(), "a GitHub App token for prod:/bots/ci-bot");
    // The bot's private key is brokered too, so a use_only rule keeps get-secret off it.
    let folder = SecretPath::parse("/bots/ci-bot").unwrap();
    assert_eq!(
        rules
            .rule_for("prod", &folder, "PRIVATE_KEY_PEM")
            .map(|r| r.name.as_str()),
        Some("gh")
    );
    let ghe = rules.get("ghe-git").unwrap();
    assert!(
        matches!(&ghe.source, Source::GithubApp(app) if app.api.as_str() == "https://ghe.example.com/api/v3")
    );
    assert!(matches!(&ghe.inject, Inject::Basic(BasicUser::Fixed(u)) if u == "x-access-token"));
    let scope = |bots: &str| {
        Scope::parse_list(&["prod:/team/**".into(), "dev:/**".into(), bots.to_string()]).unwrap()
    };
    let e = rules
        .check_scope(&scope("prod:/bots/ci-bot/*"))
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("rule 'gh'") && e.contains("prod:/bots/ci-bot/APP_ID"),
        "{e}"
    );
    assert!(rules.check_scope(&scope("prod:/bots/ci-bot/**")).is_ok());
}

#[test]
fn github_app_rules_are_refused_with_the_reason() {
    let rule = |extra: &str| {
        format!("[[rule]]\nname = \"r\"\nupstream = \"https://api.github.com\"\npaths = [\"/**\"]\n{extra}")
    };
    let cases = [
        (rule(""), "exactly one of `secret"),
        (
            rule("secret = \"dev:/K\"\ngithub_app = \"dev:/bots/b\"\nheader = \"X\""),
            "exactly one of `secret",
        ),
        (
            rule("secret = \"dev:/K\"\nheader = \"X\"\ngithub_api = \"https://api.github.com\""),
            "only applies with `github_app`",
        ),
        (rule("github_app = \"/bots/b\""), "has no ':'"),
        (rule("github_app = \"dev:bots/b\""), "github_app 'dev:bots/b'"),
        (
            rule("github_app = \"dev:/bots/b\"\ngithub_api = \"http://api.github.com\""),
            "must be https://",
        ),
        (
            rule("github_app = \"dev:/bots/b\"\ngithub_api = \"https://t@api.github.com\""),
            "no credentials",
        ),
        (
            rule("github_app = \"dev:/bots/b\"\nbasic_password_secret = \"dev:/P\""),
            "x-access-token",
        ),
        (
            rule("github_app = \"dev:/bots/b\"\nheader = \"X\"\nquery = \"k\""),
            "exactly one of `header`",
        ),
    ];
    for (text, needle) in cases {
        let e = err(&text);
        assert!(e.contains(needle), "{needle}: {e}");
    }
}
