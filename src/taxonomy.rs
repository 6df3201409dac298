//! The token taxonomy (docs/taxonomy.md), as code: `<KEY>__SUFFIX` companions that
//! carry a secret's metadata, the expiry they announce, and the four tag
//! dimensions (`function`, `sensitivity`, `consumer`, `rotation`).
//!
//! Infisical tag slugs may only hold `a-z`, `0-9` and `-`, so the taxonomy's
//! `function:dns-edit` is stored as the slug `function-dns-edit`: a dimension
//! name followed by `-` (docs/taxonomy.md). The colon form is still read, for
//! tag names that carry it.
//!
//! Pure functions over names, values and tags; the tools and `lint` decide
//! what to show.

use std::collections::{BTreeMap, HashSet};
use std::time::Duration;

use schemars::JsonSchema;
use serde::Serialize;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

pub const EXPIRES_AT: &str = "EXPIRES_AT";
pub const SCOPES: &str = "SCOPES";
pub const CLIENT_ID: &str = "CLIENT_ID";

/// The tag dimensions of the taxonomy, in the order the taxonomy lists them.
pub const DIMENSIONS: [&str; 4] = ["function", "sensitivity", "consumer", "rotation"];

/// How close an expiry counts as "expiring" unless configured otherwise.
pub const DEFAULT_EXPIRY_WARNING: Duration = Duration::from_secs(14 * 24 * 3600);

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum ExpiryStatus {
    Ok,
    Expiring,
    Expired,
    /// No `__EXPIRES_AT` companion, or one that is not an ISO-8601 time.
    Unknown,
}

/// Parses an `__EXPIRES_AT` value: RFC 3339 / ISO-8601 with an offset, or a
/// bare date (taken as midnight UTC).
pub fn parse_expiry(value: &str) -> Option<OffsetDateTime> {
    let value = value.trim();
    if let Ok(t) = OffsetDateTime::parse(value, &Rfc3339) {
        return Some(t);
    }
    let date_only = time::macros::format_description!("[year]-[month]-[day]");
    time::Date::parse(value, &date_only)
        .ok()
        .map(|d| d.midnight().assume_utc())
}

pub fn expiry_status(expires_at: Option<&str>, now: OffsetDateTime, warning: Duration) -> ExpiryStatus {
    match expires_at.and_then(parse_expiry) {
        None => ExpiryStatus::Unknown,
        Some(t) if t <= now => ExpiryStatus::Expired,
        Some(t) if (t - now).unsigned_abs() <= warning => ExpiryStatus::Expiring,
        Some(_) => ExpiryStatus::Ok,
    }
}

/// Splits a tag into its dimension and value: `function-dns-edit` (the slug
/// Infisical stores) and `function:dns-edit` (the taxonomy document's form,
/// which a tag name may carry) both give `("function", "dns-edit")`. Anything
/// else, including an empty value, is outside the four dimensions.
pub fn parse_tag(tag: &str) -> Option<(&'static str, &str)> {
    DIMENSIONS.into_iter().find_map(|dimension| {
        let rest = tag.strip_prefix(dimension)?;
        let value = rest.strip_prefix('-').or_else(|| rest.strip_prefix(':'))?;
        (!value.is_empty()).then_some((dimension, value))
    })
}

/// The text a tag is classified by: its slug, unless only its name says
/// which dimension it belongs to (a newer vault can name the slug
/// `dns-edit-fn` `function:dns-edit`).
pub fn tag_label<'a>(slug: &'a str, name: Option<&'a str>) -> &'a str {
    match name {
        Some(name) if parse_tag(slug).is_none() && parse_tag(name).is_some() => name,
        _ => slug,
    }
}

/// How a tag of `dimension` with `value` is written in Infisical:
/// `function-dns-edit`.
pub fn tag_slug(dimension: &str, value: &str) -> String {
    format!("{dimension}-{value}")
}

/// Tags grouped by dimension (`function-dns-edit` or `function:dns-edit` →
/// `function: [dns-edit]`); tags outside the four dimensions go under
/// `other`, whole.
pub fn group_tags<'a>(tags: impl IntoIterator<Item = &'a str>) -> BTreeMap<String, Vec<String>> {
    let mut groups: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for tag in tags {
        let (group, item) = match parse_tag(tag) {
            Some((dimension, value)) => (dimension, value),
            None => ("other", tag),
        };
        groups
            .entry(group.to_string())
            .or_default()
            .push(item.to_string());
    }
    groups
}

/// Companion suffixes that describe their parent: metadata, not secrets.
pub const METADATA_SUFFIXES: [&str; 3] = [EXPIRES_AT, SCOPES, CLIENT_ID];

/// Suffixes of the halves of a key pair (`AWS_INFISICAL_BOOTSTRAP__ACCESS_KEY_ID`,
/// `ALP_PAPER_TRADING__KEY_ID`): the taxonomy makes the base name the logical
/// credential, which need not exist as a secret of its own.
pub const COMPONENT_SUFFIXES: [&str; 4] = ["ACCESS_KEY_ID", "SECRET_ACCESS_KEY", "KEY_ID", "SECRET_KEY"];

/// The `__EXPIRES_AT` value the provisioning template allows instead of a date.
pub const NON_EXPIRING: &str = "non-expiring";

/// The vendor codes `lint` knows unless `--vendor-codes` replaces them.
pub const DEFAULT_VENDOR_CODES: [&str; 12] = [
    "CF", "HK", "PM", "AWS", "ANT", "GH", "STR", "ALP", "INF", "SL", "DH", "DYN",
];

/// The closed tag vocabularies of Section 2 (`function` and `consumer` values
/// grow by proposal, so they are not checked against a list).
pub const SENSITIVITY_LEVELS: [&str; 4] = ["critical", "high", "medium", "low"];
pub const ROTATION_CADENCES: [&str; 6] = ["30d", "60d", "90d", "180d", "annual", "non-rotating"];
/// The taxonomy's word for "does not rotate by design".
pub const NON_ROTATING: &str = "non-rotating";
/// Not the taxonomy's words, but read as "does not rotate" rather than guessed at.
pub const NON_ROTATING_ALIASES: [&str; 3] = ["none", "never", "manual"];

/// Section 3's environments: Rule 2 forbids identical copies between these two.
pub const PROD_ENVIRONMENT: &str = "prod";
pub const STAGING_ENVIRONMENT: &str = "staging";

/// A `rotation` value that promises a cadence, and so an `__EXPIRES_AT`.
pub fn is_rotating(cadence: &str) -> bool {
    cadence != NON_ROTATING && !NON_ROTATING_ALIASES.contains(&cadence)
}

/// What keeps a key from being `<VENDOR>_<FUNCTION>[_<SCOPE>]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NameProblem {
    /// Not upper snake case (`A-Z`, `0-9`, single `_` between non-empty parts,
    /// starting with a letter).
    NotUpperSnake,
    /// Only one part: a vendor code with no function.
    NoFunction,
    /// The first part is not a known vendor code.
    UnknownVendor(String),
}

/// Checks a secret's name (or a key pair's base name) against Section 1.
pub fn check_name(name: &str, vendors: &[String]) -> Result<(), NameProblem> {
    let upper_snake = name.starts_with(|c: char| c.is_ascii_uppercase())
        && name.split('_').all(|part| {
            !part.is_empty() && part.chars().all(|c| c.is_ascii_uppercase() || c.is_ascii_digit())
        });
    if !upper_snake {
        return Err(NameProblem::NotUpperSnake);
    }
    let mut parts = name.split('_');
    let vendor = parts.next().unwrap_or_default();
    if parts.next().is_none() {
        return Err(NameProblem::NoFunction);
    }
    if !vendors.iter().any(|v| v == vendor) {
        return Err(NameProblem::UnknownVendor(vendor.to_string()));
    }
    Ok(())
}

/// The `_FULL` suffix: unrestricted access, least privilege not achieved.
pub fn is_full_access(name: &str) -> bool {
    name.strip_suffix("_FULL").is_some_and(|rest| !rest.is_empty())
}

/// What a key is within its folder.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role<'a> {
    /// A secret in its own right; `base` names it for the taxonomy and carries
    /// its companions: the key itself, or a key pair's logical credential.
    Secret { base: &'a str },
    /// `<parent>__<suffix>`, describing `parent` (folded into it).
    Companion { parent: &'a str, suffix: &'a str },
    /// A metadata companion whose parent is not in the folder.
    Orphan { parent: &'a str, suffix: &'a str },
}

/// Classifies `key` among the keys of its folder. A key pair's halves are
/// secrets named by their base when the base itself is absent; the base's
/// metadata companions then belong to them. A lone `A__B` with any other
/// suffix is a secret (whose name breaks the pattern).
pub fn role<'a>(key: &'a str, keys: &HashSet<&str>) -> Role<'a> {
    let Some((parent, suffix)) = key
        .rsplit_once("__")
        .filter(|(p, s)| !p.is_empty() && !s.is_empty())
    else {
        return Role::Secret { base: key };
    };
    if keys.contains(parent) {
        return Role::Companion { parent, suffix };
    }
    if COMPONENT_SUFFIXES.contains(&suffix) {
        return Role::Secret { base: parent };
    }
    if METADATA_SUFFIXES.contains(&suffix) {
        let has_components = COMPONENT_SUFFIXES
            .iter()
            .any(|c| keys.contains(format!("{parent}__{c}").as_str()));
        return if has_components {
            Role::Companion { parent, suffix }
        } else {
            Role::Orphan { parent, suffix }
        };
    }
    Role::Secret { base: key }
}

/// An `__EXPIRES_AT` value, read strictly (for `lint`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Expiry {
    /// The template's `non-expiring`.
    Never,
    At(OffsetDateTime),
}

/// `non-expiring`, or what [`parse_expiry`] accepts; `None` when neither.
pub fn parse_expires_at(value: &str) -> Option<Expiry> {
    if value.trim().eq_ignore_ascii_case(NON_EXPIRING) {
        return Some(Expiry::Never);
    }
    parse_expiry(value).map(Expiry::At)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use time::macros::datetime;

    #[test]
    fn expiry_boundaries_and_timezones() {
        let now = datetime!(2026-11-28 12:00 UTC);
        let week = Duration::from_secs(7 * 24 * 3600);
        let status = |v: &str| expiry_status(Some(v), now, week);
        assert_eq!(
            status("2026-11-28T12:00:00Z"),
            ExpiryStatus::Expired,
            "expiring now is expired"
        );
        assert_eq!(status("2026-11-28T11:59:59Z"), ExpiryStatus::Expired);
        assert_eq!(
            status("2026-11-28T13:00:00+02:00"),
            ExpiryStatus::Expired,
            "11:00 UTC"
        );
        assert_eq!(status("2026-11-28T13:00:00Z"), ExpiryStatus::Expiring);
        assert_eq!(
            status("2026-12-05T12:00:00Z"),
            ExpiryStatus::Expiring,
            "exactly at the window"
        );
        assert_eq!(status("2026-12-05T12:00:01Z"), ExpiryStatus::Ok);
        assert_eq!(status("2027-01-01"), ExpiryStatus::Ok);
        assert_eq!(
            status("2026-11-28"),
            ExpiryStatus::Expired,
            "midnight UTC has passed"
        );
        assert_eq!(status("next tuesday"), ExpiryStatus::Unknown);
        assert_eq!(status("2026-13-01T00:00:00Z"), ExpiryStatus::Unknown);
        assert_eq!(expiry_status(None, now, week), ExpiryStatus::Unknown);
    }

    #[test]
    fn tags_are_grouped_by_dimension() {
        let groups = group_tags(["function:dns-edit", "consumer:ci", "consumer:agent", "team-x"]);
        assert_eq!(groups["function"], ["dns-edit"]);
        assert_eq!(groups["consumer"], ["ci", "agent"]);
        assert_eq!(groups["other"], ["team-x"]);
        assert!(!groups.contains_key("sensitivity"));
    }

    #[test]
    fn real_slugs_are_grouped_like_the_colon_form() {
        let groups = group_tags([
            "function-dns-edit",
            "sensitivity-high",
            "consumer-terraform",
            "rotation-90d",
            "rotation-non-rotating",
        ]);
        assert_eq!(groups["function"], ["dns-edit"]);
        assert_eq!(groups["sensitivity"], ["high"]);
        assert_eq!(groups["consumer"], ["terraform"]);
        assert_eq!(groups["rotation"], ["90d", "non-rotating"]);
        assert!(!groups.contains_key("other"));
    }

    #[test]
    fn tag_parsing_needs_a_dimension_a_separator_and_a_value() {
        assert_eq!(parse_tag("function-dns-edit"), Some(("function", "dns-edit")));
        assert_eq!(parse_tag("function:dns-edit"), Some(("function", "dns-edit")));
        assert_eq!(
            parse_tag("rotation-non-rotating"),
            Some(("rotation", "non-rotating"))
        );
        for outside in [
            "function",
            "function-",
            "function:",
            "functional-x",
            "functions-x",
            "Function-x",
            "team-x",
            "",
            "-function-x",
        ] {
            assert_eq!(parse_tag(outside), None, "{outside:?}");
        }
        assert_eq!(tag_slug("sensitivity", "high"), "sensitivity-high");
    }

    #[test]
    fn a_tag_name_speaks_only_when_the_slug_does_not() {
        assert_eq!(
            tag_label("dns-edit-fn", Some("function:dns-edit")),
            "function:dns-edit"
        );
        assert_eq!(
            tag_label("function-dns-edit", Some("function-dns-edit")),
            "function-dns-edit"
        );
        assert_eq!(
            tag_label("function-dns-edit", Some("sensitivity:high")),
            "function-dns-edit"
        );
        assert_eq!(tag_label("team-x", Some("team x")), "team-x");
        assert_eq!(tag_label("team-x", None), "team-x");
    }

    fn vendors() -> Vec<String> {
        DEFAULT_VENDOR_CODES.iter().map(|v| v.to_string()).collect()
    }

    #[test]
    fn names_follow_vendor_function_scope() {
        let v = vendors();
        for good in [
            "CF_DNS_EDIT_RAXX_APP",
            "HK_PLATFORM_FULL",
            "GH_READONLY",
            "AWS_S3_2",
        ] {
            assert_eq!(check_name(good, &v), Ok(()), "{good}");
        }
        for bad in [
            "cf_dns_edit",
            "CF__DNS",
            "CF_DNS_",
            "_CF_DNS",
            "CF-DNS",
            "2CF_DNS",
            "",
            "CF DNS",
        ] {
            assert_eq!(check_name(bad, &v), Err(NameProblem::NotUpperSnake), "{bad}");
        }
        assert_eq!(check_name("CF", &v), Err(NameProblem::NoFunction));
        assert_eq!(
            check_name("HEROKU_API_KEY", &v),
            Err(NameProblem::UnknownVendor("HEROKU".into()))
        );
        assert_eq!(check_name("XY_THING", &["XY".to_string()]), Ok(()));
    }

    #[test]
    fn full_suffix() {
        assert!(is_full_access("HK_PLATFORM_FULL"));
        assert!(!is_full_access("HK_PLATFORM_FULLY"));
        assert!(!is_full_access("_FULL"));
        assert!(!is_full_access("CF_FULL_DNS"));
    }

    #[test]
    fn roles_in_a_folder() {
        let keys: HashSet<&str> = [
            "CF_DNS",
            "CF_DNS__EXPIRES_AT",
            "CF_PAGES__SCOPES",
            "AWS_BOOT__ACCESS_KEY_ID",
            "AWS_BOOT__SECRET_ACCESS_KEY",
            "AWS_BOOT__EXPIRES_AT",
            "LONE__THING",
        ]
        .into();
        let role = |k| super::role(k, &keys);
        assert_eq!(role("CF_DNS"), Role::Secret { base: "CF_DNS" });
        assert_eq!(
            role("CF_DNS__EXPIRES_AT"),
            Role::Companion {
                parent: "CF_DNS",
                suffix: "EXPIRES_AT"
            }
        );
        assert_eq!(
            role("CF_PAGES__SCOPES"),
            Role::Orphan {
                parent: "CF_PAGES",
                suffix: "SCOPES"
            }
        );
        assert_eq!(role("AWS_BOOT__ACCESS_KEY_ID"), Role::Secret { base: "AWS_BOOT" });
        assert_eq!(
            role("AWS_BOOT__EXPIRES_AT"),
            Role::Companion {
                parent: "AWS_BOOT",
                suffix: "EXPIRES_AT"
            }
        );
        assert_eq!(role("LONE__THING"), Role::Secret { base: "LONE__THING" });
        assert_eq!(role("__X"), Role::Secret { base: "__X" });
    }

    #[test]
    fn strict_expiry_values() {
        assert_eq!(parse_expires_at(" Non-Expiring "), Some(Expiry::Never));
        assert_eq!(
            parse_expires_at("2026-11-28T13:00:00+02:00"),
            Some(Expiry::At(datetime!(2026-11-28 11:00 UTC)))
        );
        assert_eq!(
            parse_expires_at("2026-11-28"),
            Some(Expiry::At(datetime!(2026-11-28 0:00 UTC)))
        );
        for bad in [
            "",
            "never",
            "2026-11-28T13:00:00",
            "2026-02-30",
            "28/11/2026",
            "2026-11-28 13:00",
            "1764331200",
        ] {
            assert_eq!(parse_expires_at(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn rotation_cadences() {
        for r in ["30d", "60d", "90d", "180d", "annual", "weekly"] {
            assert!(is_rotating(r), "{r}");
        }
        for r in ["non-rotating", "none", "never", "manual"] {
            assert!(!is_rotating(r), "{r}");
        }
    }
}
