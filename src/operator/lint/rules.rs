//! The lint rules: pure checks over what a listing found, one [`Finding`]
//! per problem. Values arrive as [`SecretString`] and leave only as SHA-256
//! digests compared here; neither a value nor a digest is ever put into a
//! finding.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::time::Duration;

use secrecy::{ExposeSecret, SecretString};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use crate::scope::SecretPath;
use crate::taxonomy::{self, DIMENSIONS, Expiry, NameProblem, Role};

pub use super::findings::*;

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
mod tests;
