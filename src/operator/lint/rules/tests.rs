//! The rules, case by case, over hand-built entries: each test names the
//! behaviour it pins.

#![allow(clippy::unwrap_used)]
use super::*;
use crate::operator::lint::findings::severity_of;
use time::macros::datetime;

const NOW: OffsetDateTime = datetime!(2026-05-01 12:00 UTC);
const TAGS: [&str; 4] = [
    "function-dns-edit",
    "sensitivity-high",
    "consumer-ci",
    "rotation-90d",
];

fn settings() -> Settings {
    Settings {
        vendors: taxonomy::DEFAULT_VENDOR_CODES
            .iter()
            .map(|v| v.to_string())
            .collect(),
        expiry_warning: Duration::from_secs(14 * 24 * 3600),
        now: NOW,
    }
}

fn entry(env: &str, path: &str, key: &str, value: &str, tags: &[&str]) -> Entry {
    Entry {
        environment: env.into(),
        path: SecretPath::parse(path).unwrap(),
        key: key.into(),
        tags: tags.iter().map(|t| t.to_string()).collect(),
        value: Some(SecretString::from(value.to_string())),
    }
}

fn rules(entries: &[Entry]) -> Vec<(&'static str, String)> {
    check(entries, &settings())
        .0
        .into_iter()
        .map(|f| (f.rule, f.location()))
        .collect()
}

#[test]
fn a_clean_token_has_no_findings() {
    let entries = [
        entry("prod", "/cf", "CF_DNS_EDIT", "v1", &TAGS),
        entry("prod", "/cf", "CF_DNS_EDIT__EXPIRES_AT", "2027-01-01", &[]),
        entry("prod", "/cf", "CF_DNS_EDIT__SCOPES", "Zone:DNS:Edit", &[]),
        entry("staging", "/cf", "CF_DNS_EDIT", "v2", &TAGS),
        entry("staging", "/cf", "CF_DNS_EDIT__EXPIRES_AT", "non-expiring", &[]),
    ];
    assert_eq!(rules(&entries), []);
    assert_eq!(check(&entries, &settings()).1, 2, "companions are not counted");
}

#[test]
fn expiry_window_boundaries() {
    let at = |v: &str| {
        rules(&[
            entry("prod", "/", "CF_X", "v", &TAGS),
            entry("prod", "/", "CF_X__EXPIRES_AT", v, &[]),
        ])
    };
    let one = |rule: &'static str| vec![(rule, "prod:/CF_X".to_string())];
    assert_eq!(at("2026-05-01T12:00:00Z"), one(EXPIRED));
    assert_eq!(at("2026-05-01T13:00:00+02:00"), one(EXPIRED), "11:00 UTC");
    assert_eq!(at("2026-05-01T12:00:01Z"), one(EXPIRING));
    assert_eq!(at("2026-05-15T12:00:00Z"), one(EXPIRING), "exactly 14 days");
    assert_eq!(at("2026-05-15T12:00:01Z"), []);
    assert_eq!(at("2026-05-15T13:00:00+01:00"), one(EXPIRING), "12:00 UTC");
    assert_eq!(at("2026-05-01"), one(EXPIRED), "midnight UTC passed");
    assert_eq!(at("soon"), one(EXPIRY_UNPARSEABLE));
    assert_eq!(at("2026-05-20T00:00:00"), one(EXPIRY_UNPARSEABLE), "no offset");
    assert_eq!(at("2026-02-30"), one(EXPIRY_UNPARSEABLE));
}

#[test]
fn expiry_is_needed_only_when_rotating() {
    let missing = |rotation: &str| {
        let tags = ["function-x", "sensitivity-low", "consumer-ci", rotation];
        rules(&[entry("prod", "/", "AWS_ACCOUNT_ID", "1", &tags)])
    };
    assert_eq!(
        missing("rotation-30d"),
        [(EXPIRY_MISSING, "prod:/AWS_ACCOUNT_ID".to_string())]
    );
    assert_eq!(missing("rotation-non-rotating"), []);
    let manual = missing("rotation-manual");
    assert_eq!(manual.len(), 1);
    assert_eq!(
        manual[0].0, TAG_UNKNOWN_VALUE,
        "manual is not the taxonomy's word"
    );
}

#[test]
fn tags_one_per_dimension_consumers_may_repeat() {
    let found = |tags: &[&str]| {
        check(&[entry("prod", "/", "CF_X", "v", tags)], &settings())
            .0
            .into_iter()
            .map(|f| (f.rule, f.message))
            .collect::<Vec<_>>()
    };
    assert_eq!(
        found(&["function-x", "rotation-non-rotating"]),
        [(
            TAG_MISSING,
            "missing tag dimension sensitivity-, consumer-".to_string()
        )]
    );
    let dup = found(&[
        "function-x",
        "sensitivity-low",
        "sensitivity-high",
        "consumer-ci",
        "rotation-non-rotating",
    ]);
    assert_eq!(dup.len(), 1);
    assert_eq!(dup[0].0, TAG_DUPLICATE);
    let consumers = found(&[
        "function-x",
        "sensitivity-low",
        "consumer-ci",
        "consumer-terraform",
        "rotation-non-rotating",
        "team-x",
    ]);
    let ids: Vec<_> = consumers.iter().map(|(r, _)| *r).collect();
    assert_eq!(ids, [TAG_EXTRA, TAG_MULTIPLE_CONSUMERS]);
}

#[test]
fn real_slugs_and_the_colon_form_are_the_same_tags() {
    let real = [
        "function-dns-edit",
        "sensitivity-high",
        "consumer-terraform",
        "rotation-90d",
    ];
    let colon = [
        "function:dns-edit",
        "sensitivity:high",
        "consumer:terraform",
        "rotation:90d",
    ];
    for tags in [real, colon] {
        let entries = [
            entry("prod", "/cf", "CF_DNS_EDIT", "v1", &tags),
            entry("prod", "/cf", "CF_DNS_EDIT__EXPIRES_AT", "2027-01-01", &[]),
        ];
        assert_eq!(rules(&entries), [], "{tags:?}");
        // rotation-90d is a cadence: without __EXPIRES_AT it is missed.
        assert_eq!(
            rules(&entries[..1]),
            [(EXPIRY_MISSING, "prod:/cf/CF_DNS_EDIT".to_string())],
            "{tags:?}"
        );
    }
}

#[test]
fn messages_and_fixes_use_the_real_notation() {
    let found = check(
        &[entry(
            "prod",
            "/",
            "CF_X",
            "v",
            &["function-a", "function:b", "sensitivity-extreme", "team-x"],
        )],
        &settings(),
    )
    .0;
    let text: Vec<String> = found
        .iter()
        .map(|f| format!("{}: {} / {}", f.rule, f.message, f.fix))
        .collect();
    let all = text.join("\n");
    assert!(
        all.contains("missing tag dimension consumer-, rotation-"),
        "{all}"
    );
    assert!(all.contains("consumer-<value>, rotation-<value>"), "{all}");
    assert!(all.contains("2 function- tags (function-a, function-b)"), "{all}");
    assert!(
        all.contains("sensitivity-extreme is not a taxonomy value"),
        "{all}"
    );
    assert!(
        all.contains("use one of sensitivity-critical, sensitivity-high"),
        "{all}"
    );
    assert!(all.contains("tag team-x is outside the four dimensions"), "{all}");
    assert!(
        !all.contains("function:") && !all.contains("sensitivity:") && !all.contains("consumer:"),
        "{all}"
    );
}

#[test]
fn key_pairs_and_orphans() {
    let entries = [
        entry("prod", "/aws", "AWS_BOOT__ACCESS_KEY_ID", "AKIA", &TAGS),
        entry("prod", "/aws", "AWS_BOOT__SECRET_ACCESS_KEY", "s", &TAGS),
        entry("prod", "/aws", "AWS_BOOT__EXPIRES_AT", "2020-01-01", &[]),
        entry("prod", "/cf", "CF_PAGES_DEPLOY__SCOPES", "x", &[]),
    ];
    assert_eq!(
        rules(&entries),
        [
            (EXPIRED, "prod:/aws/AWS_BOOT".to_string()),
            (COMPANION_ORPHAN, "prod:/cf/CF_PAGES_DEPLOY__SCOPES".to_string()),
        ],
        "one expiry for the pair; halves are not orphans"
    );
}

#[test]
fn names_and_full() {
    let entries = [
        entry("prod", "/", "dreamhost-api-key", "v", &TAGS),
        entry("prod", "/", "HEROKU_API_KEY", "v", &TAGS),
        entry("prod", "/", "HK_PLATFORM_FULL", "v", &TAGS),
        entry("prod", "/", "HK_PLATFORM_FULL__EXPIRES_AT", "2027-01-01", &[]),
        entry("prod", "/", "HEROKU_API_KEY__EXPIRES_AT", "2027-01-01", &[]),
        entry("prod", "/", "dreamhost-api-key__EXPIRES_AT", "2027-01-01", &[]),
    ];
    assert_eq!(
        rules(&entries),
        [
            (UNKNOWN_VENDOR, "prod:/HEROKU_API_KEY".to_string()),
            (FULL_ACCESS, "prod:/HK_PLATFORM_FULL".to_string()),
            (NAME_PATTERN, "prod:/dreamhost-api-key".to_string()),
        ]
    );
}

#[test]
fn rule2_compares_values_not_names() {
    let tags = [
        "function-x",
        "sensitivity-low",
        "consumer-ci",
        "rotation-non-rotating",
    ];
    let entries = [
        entry("prod", "/cf", "CF_DNS", "same-value", &tags),
        entry("staging", "/cf", "CF_DNS", "same-value", &tags),
        entry("prod", "/hk", "HK_PLATFORM", "prod-value", &tags),
        entry("staging", "/hk", "HK_PLATFORM", "staging-value", &tags),
        entry("prod", "/e", "CF_EMPTY", "", &tags),
        entry("staging", "/e", "CF_EMPTY", "", &tags),
        entry("dev", "/cf", "CF_DNS", "same-value", &tags),
        // Renamed copies count once the value is long enough to be a token.
        entry("prod", "/cf", "CF_WAF", "cf-token-long-enough-1", &tags),
        entry(
            "staging",
            "/cf",
            "CF_WAF_STAGING",
            "cf-token-long-enough-1",
            &tags,
        ),
        entry("prod", "/x", "SL_PORT", "8443", &tags),
        entry("staging", "/x", "SL_OTHER_PORT", "8443", &tags),
    ];
    let found = check(&entries, &settings()).0;
    let at: Vec<String> = found.iter().map(Finding::location).collect();
    assert_eq!(
        at,
        ["staging:/cf/CF_DNS", "staging:/cf/CF_WAF_STAGING"],
        "{found:?}"
    );
    assert!(found.iter().all(|f| f.rule == RULE2_DUPLICATE));
    assert!(found[0].message.contains("same value as prod:/cf/CF_DNS ("));
    assert!(found[1].message.contains("prod:/cf/CF_WAF, under another name"));
    assert!(!format!("{found:?}").contains("same-value"));
    assert!(!format!("{found:?}").contains("long-enough"));
}

#[test]
fn time_left_reads_naturally() {
    let t = |secs: i64| time_left(time::Duration::seconds(secs));
    assert_eq!(t(59 * 60), "under an hour");
    assert_eq!(t(3600), "1 hour");
    assert_eq!(t(5 * 3600 + 10), "5 hours");
    assert_eq!(t(86_400), "1 day");
    assert_eq!(t(13 * 86_400 + 3600), "13 days");
}

#[test]
fn every_rule_has_a_severity() {
    let ids: HashSet<&str> = RULES.iter().map(|(id, _, _)| *id).collect();
    assert_eq!(ids.len(), RULES.len());
    assert_eq!(severity_of(FULL_ACCESS), Severity::Warning);
    assert_eq!(severity_of(RULE2_DUPLICATE), Severity::Error);
}
