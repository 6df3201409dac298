//! The lint rules: pure checks over what a listing found, one [`Finding`]
//! per problem. Values arrive as [`SecretString`] and leave only as SHA-256
//! digests compared here; neither a value nor a digest is ever put into a
//! finding.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::time::Duration;

use secrecy::{ExposeSecret, SecretString};
use serde::Serialize;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use crate::scope::SecretPath;
use crate::taxonomy::{self, DIMENSIONS, Expiry, NameProblem, Role};

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Error,
    Warning,
    Info,
}

impl Severity {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Error => "error",
            Self::Warning => "warning",
            Self::Info => "info",
        }
    }
}

/// Rule ids, as they appear in findings.
pub const NAME_PATTERN: &str = "name-pattern";
pub const UNKNOWN_VENDOR: &str = "unknown-vendor";
pub const TAG_MISSING: &str = "tag-missing";
pub const TAG_DUPLICATE: &str = "tag-duplicate";
pub const TAG_UNKNOWN_VALUE: &str = "tag-unknown-value";
pub const TAG_MULTIPLE_CONSUMERS: &str = "tag-multiple-consumers";
pub const TAG_EXTRA: &str = "tag-extra";
pub const EXPIRY_MISSING: &str = "expiry-missing";
pub const EXPIRY_UNPARSEABLE: &str = "expiry-unparseable";
pub const EXPIRED: &str = "expired";
pub const EXPIRING: &str = "expiring";
pub const COMPANION_ORPHAN: &str = "companion-orphan";
pub const FULL_ACCESS: &str = "full-access";
pub const RULE2_DUPLICATE: &str = "rule2-duplicate";
pub const VAULT_READ: &str = "vault-read";
pub const FOLDER_MISSING: &str = "folder-missing";

/// Every rule with its severity and what it checks (for `--help` and the README).
pub const RULES: [(&str, Severity, &str); 16] = [
    (
        VAULT_READ,
        Severity::Error,
        "a folder in scope could not be listed (audit incomplete)",
    ),
    (
        TAG_DUPLICATE,
        Severity::Error,
        "more than one function-, sensitivity- or rotation- tag",
    ),
    (
        EXPIRY_UNPARSEABLE,
        Severity::Error,
        "__EXPIRES_AT not ISO-8601 with offset, a date, non-expiring",
    ),
    (EXPIRED, Severity::Error, "__EXPIRES_AT has passed"),
    (
        RULE2_DUPLICATE,
        Severity::Error,
        "a staging value equals a prod value (Rule 2)",
    ),
    (
        NAME_PATTERN,
        Severity::Warning,
        "name is not <VENDOR>_<FUNCTION>[_<SCOPE>], upper snake case",
    ),
    (
        UNKNOWN_VENDOR,
        Severity::Warning,
        "the first part is not a known vendor code (--vendor-codes)",
    ),
    (
        TAG_MISSING,
        Severity::Warning,
        "no function-, sensitivity-, consumer- or rotation- tag",
    ),
    (
        TAG_UNKNOWN_VALUE,
        Severity::Warning,
        "a sensitivity- or rotation- value the taxonomy lacks",
    ),
    (
        EXPIRY_MISSING,
        Severity::Warning,
        "rotating token (not rotation-non-rotating), no __EXPIRES_AT",
    ),
    (
        EXPIRING,
        Severity::Warning,
        "__EXPIRES_AT within --expiry-warning-days",
    ),
    (
        COMPANION_ORPHAN,
        Severity::Warning,
        "__EXPIRES_AT/__SCOPES/__CLIENT_ID without its parent",
    ),
    (
        FULL_ACCESS,
        Severity::Warning,
        "a _FULL token: least privilege not achieved",
    ),
    (
        TAG_MULTIPLE_CONSUMERS,
        Severity::Info,
        "several consumer- tags (allowed; the primary one preferred)",
    ),
    (TAG_EXTRA, Severity::Info, "a tag outside the four dimensions"),
    (
        FOLDER_MISSING,
        Severity::Info,
        "a folder in scope does not exist in that environment",
    ),
];

fn severity_of(rule: &str) -> Severity {
    RULES
        .iter()
        .find(|(id, _, _)| *id == rule)
        .map_or(Severity::Error, |(_, severity, _)| *severity)
}

/// One problem with one secret (or one folder, for [`VAULT_READ`]).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Finding {
    pub rule: &'static str,
    pub severity: Severity,
    pub environment: String,
    pub path: String,
    pub key: Option<String>,
    pub message: String,
    pub fix: String,
}

impl Finding {
    pub fn new(
        rule: &'static str,
        environment: &str,
        path: &SecretPath,
        key: Option<&str>,
        message: impl Into<String>,
        fix: impl Into<String>,
    ) -> Self {
        Self {
            rule,
            severity: severity_of(rule),
            environment: environment.to_string(),
            path: path.to_string(),
            key: key.map(str::to_string),
            message: message.into(),
            fix: fix.into(),
        }
    }

    /// `env:/path/KEY` (or `env:/path` without a key).
    pub fn location(&self) -> String {
        match &self.key {
            Some(key) if self.path == "/" => format!("{}:/{key}", self.environment),
            Some(key) => format!("{}:{}/{key}", self.environment, self.path),
            None => format!("{}:{}", self.environment, self.path),
        }
    }
}

/// One secret as listed: where it lives, its tags, and its value when the
/// identity may read it.
pub struct Entry {
    pub environment: String,
    pub path: SecretPath,
    pub key: String,
    pub tags: Vec<String>,
    pub value: Option<SecretString>,
}

/// What the rules are checked against.
#[derive(Debug, Clone)]
pub struct Settings {
    pub vendors: Vec<String>,
    pub expiry_warning: Duration,
    pub now: OffsetDateTime,
}

/// A SHA-256 digest of a value; deliberately neither `Debug` nor `Display`.
#[derive(PartialEq, Eq, Hash)]
struct Digest(Vec<u8>);

impl Digest {
    fn of(value: &SecretString) -> Self {
        Self(
            ring::digest::digest(&ring::digest::SHA256, value.expose_secret().as_bytes())
                .as_ref()
                .to_vec(),
        )
    }
}

type FolderKey = (String, SecretPath);

/// Runs every rule over `entries`; findings come back sorted by severity,
/// then place, then rule. Also returns how many secrets were checked
/// (companions are metadata, not counted).
pub fn check(entries: &[Entry], settings: &Settings) -> (Vec<Finding>, usize) {
    let mut folders: BTreeMap<FolderKey, Vec<&Entry>> = BTreeMap::new();
    for e in entries {
        folders
            .entry((e.environment.clone(), e.path.clone()))
            .or_default()
            .push(e);
    }
    let mut findings = Vec::new();
    let mut subjects: Vec<&Entry> = Vec::new();
    for ((environment, path), folder) in &folders {
        let keys: HashSet<&str> = folder.iter().map(|e| e.key.as_str()).collect();
        // base → suffix → companion entry
        let mut companions: HashMap<&str, HashMap<&str, &Entry>> = HashMap::new();
        let mut secrets: Vec<(&str, &Entry)> = Vec::new();
        for e in folder {
            match taxonomy::role(&e.key, &keys) {
                Role::Secret { base } => secrets.push((base, e)),
                Role::Companion { parent, suffix } => {
                    companions.entry(parent).or_default().insert(suffix, e);
                }
                Role::Orphan { parent, suffix } => findings.push(Finding::new(
                    COMPANION_ORPHAN,
                    environment,
                    path,
                    Some(&e.key),
                    format!("companion __{suffix} has no {parent} in this folder"),
                    format!("store {parent} here, or move or delete {}", e.key),
                )),
            }
        }
        secrets.sort_by(|a, b| a.1.key.cmp(&b.1.key));
        let mut bases_done: HashSet<&str> = HashSet::new();
        for (base, e) in &secrets {
            subjects.push(e);
            tag_rules(e, &mut findings);
            // A key pair's halves share one name and one expiry: checked once.
            if !bases_done.insert(base) {
                continue;
            }
            name_rules(base, environment, path, settings, &mut findings);
            let rotating = secrets
                .iter()
                .filter(|(b, _)| b == base)
                .flat_map(|(_, e)| e.tags.iter())
                .filter_map(|t| taxonomy::parse_tag(t).filter(|(d, _)| *d == "rotation"))
                .map(|(_, cadence)| cadence)
                .any(taxonomy::is_rotating);
            let expires_at = companions.get(base).and_then(|c| c.get(taxonomy::EXPIRES_AT));
            expiry_rules(
                base,
                environment,
                path,
                rotating,
                expires_at.copied(),
                settings,
                &mut findings,
            );
        }
    }
    rule2(&subjects, &mut findings);
    sort(&mut findings);
    (findings, subjects.len())
}

/// Severity first (errors on top), then place, then rule.
pub fn sort(findings: &mut [Finding]) {
    findings.sort_by(|a, b| {
        (a.severity, &a.environment, &a.path, &a.key, a.rule).cmp(&(
            b.severity,
            &b.environment,
            &b.path,
            &b.key,
            b.rule,
        ))
    });
}

fn name_rules(
    name: &str,
    environment: &str,
    path: &SecretPath,
    settings: &Settings,
    findings: &mut Vec<Finding>,
) {
    let finding =
        |rule, message: String, fix: String| Finding::new(rule, environment, path, Some(name), message, fix);
    match taxonomy::check_name(name, &settings.vendors) {
        Ok(()) => {}
        Err(NameProblem::NotUpperSnake) => findings.push(finding(
            NAME_PATTERN,
            "name is not upper snake case <VENDOR>_<FUNCTION>[_<SCOPE>]".into(),
            "rename it per the taxonomy (e.g. CF_DNS_EDIT_RAXX_APP): add the new name, move \
             consumers, then delete the old one"
                .into(),
        )),
        Err(NameProblem::NoFunction) => findings.push(finding(
            NAME_PATTERN,
            "name has no <FUNCTION> part after the vendor code".into(),
            format!("rename it to {name}_<FUNCTION>[_<SCOPE>], e.g. CF_DNS_EDIT"),
        )),
        Err(NameProblem::UnknownVendor(vendor)) => findings.push(finding(
            UNKNOWN_VENDOR,
            format!(
                "vendor code {vendor} is not one of {}",
                settings.vendors.join(", ")
            ),
            "rename it with a known vendor code, or add the code to --vendor-codes \
             (and to the naming document the vault follows)"
                .into(),
        )),
    }
    if taxonomy::is_full_access(name) {
        findings.push(finding(
            FULL_ACCESS,
            "_FULL token: unrestricted access to its function domain, not least privilege".into(),
            "provision a scoped replacement and retire this one (prioritise it)".into(),
        ));
    }
}

fn tag_rules(e: &Entry, findings: &mut Vec<Finding>) {
    let finding = |rule, message: String, fix: String| {
        Finding::new(rule, &e.environment, &e.path, Some(&e.key), message, fix)
    };
    let groups = taxonomy::group_tags(e.tags.iter().map(String::as_str));
    let missing: Vec<&str> = DIMENSIONS
        .into_iter()
        .filter(|d| groups.get(*d).is_none_or(Vec::is_empty))
        .collect();
    if !missing.is_empty() {
        let list: Vec<String> = missing.iter().map(|d| format!("{d}-")).collect();
        let slugs: Vec<String> = missing.iter().map(|d| taxonomy::tag_slug(d, "<value>")).collect();
        findings.push(finding(
            TAG_MISSING,
            format!("missing tag dimension {}", list.join(", ")),
            format!(
                "add exactly one tag for each: {} (docs/taxonomy.md, Section 2)",
                slugs.join(", ")
            ),
        ));
    }
    for dimension in ["function", "sensitivity", "rotation"] {
        if let Some(values) = groups.get(dimension).filter(|v| v.len() > 1) {
            findings.push(finding(
                TAG_DUPLICATE,
                format!(
                    "{} {dimension}- tags ({})",
                    values.len(),
                    slugs(dimension, values)
                ),
                format!("keep exactly one {dimension}- tag"),
            ));
        }
    }
    if let Some(consumers) = groups.get("consumer").filter(|v| v.len() > 1) {
        findings.push(finding(
            TAG_MULTIPLE_CONSUMERS,
            format!(
                "{} consumer- tags ({})",
                consumers.len(),
                slugs("consumer", consumers)
            ),
            "allowed; consider keeping only the primary consumer (the one paged if it expires)".into(),
        ));
    }
    let vocabularies: [(&str, &[&str]); 2] = [
        ("sensitivity", &taxonomy::SENSITIVITY_LEVELS),
        ("rotation", &taxonomy::ROTATION_CADENCES),
    ];
    for (dimension, known) in vocabularies {
        for value in groups.get(dimension).into_iter().flatten() {
            if !known.contains(&value.as_str()) {
                findings.push(finding(
                    TAG_UNKNOWN_VALUE,
                    format!("{} is not a taxonomy value", taxonomy::tag_slug(dimension, value)),
                    format!(
                        "use one of {}",
                        known
                            .iter()
                            .map(|k| taxonomy::tag_slug(dimension, k))
                            .collect::<Vec<_>>()
                            .join(", ")
                    ),
                ));
            }
        }
    }
    for other in groups.get("other").into_iter().flatten() {
        findings.push(finding(
            TAG_EXTRA,
            format!("tag {other} is outside the four dimensions"),
            "remove it, or propose a dimension change to the taxonomy doc (a taxonomy tag is a \
             dimension, '-', then a value: function-dns-edit)"
                .into(),
        ));
    }
}

/// `function-a, function-b`: values written back as the slugs they came from.
fn slugs(dimension: &str, values: &[String]) -> String {
    values
        .iter()
        .map(|v| taxonomy::tag_slug(dimension, v))
        .collect::<Vec<_>>()
        .join(", ")
}

fn rfc3339(t: OffsetDateTime) -> String {
    t.format(&Rfc3339)
        .unwrap_or_else(|_| "an unprintable time".into())
}

/// "3 days", "1 day", "5 hours", "under an hour": enough to judge urgency.
fn time_left(left: time::Duration) -> String {
    let plural = |n: i64, unit: &str| format!("{n} {unit}{}", if n == 1 { "" } else { "s" });
    match (left.whole_days(), left.whole_hours()) {
        (0, 0) => "under an hour".into(),
        (0, hours) => plural(hours, "hour"),
        (days, _) => plural(days, "day"),
    }
}

fn expiry_rules(
    base: &str,
    environment: &str,
    path: &SecretPath,
    rotating: bool,
    expires_at: Option<&Entry>,
    settings: &Settings,
    findings: &mut Vec<Finding>,
) {
    let companion = format!("{base}__{}", taxonomy::EXPIRES_AT);
    let finding =
        |rule, message: String, fix: String| Finding::new(rule, environment, path, Some(base), message, fix);
    let Some(entry) = expires_at else {
        if rotating {
            findings.push(finding(
                EXPIRY_MISSING,
                "rotating token has no __EXPIRES_AT companion".into(),
                format!("add {companion} (ISO-8601 UTC, e.g. 2026-12-31T00:00:00Z, or non-expiring)"),
            ));
        }
        return;
    };
    // Listed without values (the identity may not read them): nothing to check.
    let Some(value) = &entry.value else {
        return;
    };
    match taxonomy::parse_expires_at(value.expose_secret()) {
        None => findings.push(finding(
            EXPIRY_UNPARSEABLE,
            "__EXPIRES_AT is not an ISO-8601 time with an offset, a date, or non-expiring".into(),
            format!("set {companion} to e.g. 2026-12-31T00:00:00Z"),
        )),
        Some(Expiry::Never) => {}
        Some(Expiry::At(t)) if t <= settings.now => findings.push(finding(
            EXPIRED,
            format!("expired at {}", rfc3339(t)),
            format!("rotate the token at the vendor, then update {base} and {companion}"),
        )),
        Some(Expiry::At(t)) if (t - settings.now).unsigned_abs() <= settings.expiry_warning => {
            findings.push(finding(
                EXPIRING,
                format!("expires at {} (in {})", rfc3339(t), time_left(t - settings.now)),
                format!("rotate it before then and update {companion}"),
            ));
        }
        Some(Expiry::At(_)) => {}
    }
}

/// Below this length a value is compared only under its own key: flags,
/// ports and small ids collide by chance, not because one was copied.
const RULE2_MIN_CROSS_KEY_BYTES: usize = 16;

/// Rule 2: an account-wide token lives in prod only; the same value in
/// staging is a drifting copy, whether it kept its name or was renamed.
fn rule2(subjects: &[&Entry], findings: &mut Vec<Finding>) {
    let readable = |env: &'static str| {
        subjects
            .iter()
            .filter(move |e| e.environment == env)
            .filter_map(|e| {
                e.value
                    .as_ref()
                    .filter(|v| !v.expose_secret().is_empty())
                    .map(|v| (*e, v))
            })
    };
    let mut prod: HashMap<Digest, Vec<&Entry>> = HashMap::new();
    for (e, value) in readable(taxonomy::PROD_ENVIRONMENT) {
        prod.entry(Digest::of(value)).or_default().push(e);
    }
    for (e, value) in readable(taxonomy::STAGING_ENVIRONMENT) {
        let Some(twins) = prod.get(&Digest::of(value)) else {
            continue;
        };
        let same_key = twins.iter().find(|t| t.key == e.key);
        let renamed = (value.expose_secret().len() >= RULE2_MIN_CROSS_KEY_BYTES)
            .then(|| twins.first())
            .flatten();
        let Some(twin) = same_key.or(renamed) else {
            continue;
        };
        let twin_at = Finding::new(
            RULE2_DUPLICATE,
            &twin.environment,
            &twin.path,
            Some(&twin.key),
            "",
            "",
        )
        .location();
        let how = if twin.key == e.key {
            ""
        } else {
            ", under another name"
        };
        findings.push(Finding::new(
            RULE2_DUPLICATE,
            &e.environment,
            &e.path,
            Some(&e.key),
            format!("same value as {twin_at}{how} (Rule 2: account-wide tokens live in prod only)"),
            format!(
                "delete this copy and have staging read {twin_at}; if the token is \
                 environment-specific (Rule 1), issue a separate staging token"
            ),
        ));
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
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
}
