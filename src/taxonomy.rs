//! The token taxonomy of seed 003, as code: `<KEY>__SUFFIX` companions that
//! carry a secret's metadata, the expiry they announce, and the four tag
//! dimensions (`function:`, `sensitivity:`, `consumer:`, `rotation:`).
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

/// The tag dimensions of the taxonomy, in the order the seed lists them.
pub const DIMENSIONS: [&str; 4] = ["function", "sensitivity", "consumer", "rotation"];

/// How close an expiry counts as "expiring" unless configured otherwise.
pub const DEFAULT_EXPIRY_WARNING: Duration = Duration::from_secs(14 * 24 * 3600);

/// `CF_DNS_EDIT_RAXX_APP__EXPIRES_AT` → (`CF_DNS_EDIT_RAXX_APP`, `EXPIRES_AT`),
/// but only when the parent exists among `keys`: a lone `A__B` is a secret.
pub fn companion_of<'a>(key: &'a str, keys: &HashSet<&str>) -> Option<(&'a str, &'a str)> {
    let (parent, suffix) = key.rsplit_once("__")?;
    (!parent.is_empty() && !suffix.is_empty() && keys.contains(parent)).then_some((parent, suffix))
}

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

/// Tags grouped by dimension (`function:dns-edit` → `function: [dns-edit]`);
/// tags outside the four dimensions go under `other`, whole.
pub fn group_tags<'a>(slugs: impl IntoIterator<Item = &'a str>) -> BTreeMap<String, Vec<String>> {
    let mut groups: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for slug in slugs {
        match slug.split_once(':') {
            Some((dimension, value)) if DIMENSIONS.contains(&dimension) => {
                groups
                    .entry(dimension.to_string())
                    .or_default()
                    .push(value.to_string());
            }
            _ => groups
                .entry("other".to_string())
                .or_default()
                .push(slug.to_string()),
        }
    }
    groups
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use time::macros::datetime;

    #[test]
    fn companions_need_their_parent() {
        let keys: HashSet<&str> = ["CF_DNS", "CF_DNS__EXPIRES_AT", "LONE__THING"].into();
        assert_eq!(
            companion_of("CF_DNS__EXPIRES_AT", &keys),
            Some(("CF_DNS", "EXPIRES_AT"))
        );
        assert_eq!(companion_of("LONE__THING", &keys), None);
        assert_eq!(companion_of("CF_DNS", &keys), None);
        assert_eq!(companion_of("__X", &keys), None);
    }

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
}
