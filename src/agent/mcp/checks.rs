//! The checks every tool argument passes before anything leaves the
//! machine (identifiers, secret names and environments by the scope crate's
//! one input rule), and the near misses offered when a name is not found.

use super::error::ToolError;

/// Up to three names of the folder close to `key`: equal but for case, or
/// within a small edit distance (two for longer names, one for short ones).
pub(super) fn near_misses(key: &str, names: &[&str]) -> Vec<String> {
    let lower = key.to_ascii_lowercase();
    let allowed = if key.chars().count() > 6 { 2 } else { 1 };
    let mut close: Vec<(usize, &str)> = names
        .iter()
        .filter(|n| **n != key)
        .filter_map(|n| {
            let d = strsim::damerau_levenshtein(&lower, &n.to_ascii_lowercase());
            (d <= allowed).then_some((d, *n))
        })
        .collect();
    close.sort();
    close.dedup_by(|a, b| a.1 == b.1);
    close.into_iter().take(3).map(|(_, n)| n.to_string()).collect()
}

pub(super) fn check_identifier(argument: &'static str, value: &str) -> Result<(), ToolError> {
    let ok = !value.is_empty()
        && value.len() <= 128
        && value
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
    if ok {
        Ok(())
    } else {
        Err(ToolError::Rejected {
            what: argument,
            detail: format!(
                "'{}' is not a valid {argument} (letters, digits, '-' and '_'; at most 128)",
                value.chars().take(64).collect::<String>().escape_debug()
            ),
        })
    }
}

/// The scope crate's one rule for names: the vault (JavaScript) reads the
/// key that was checked, in the route that was built.
pub(super) fn check_secret_name(name: &str) -> Result<(), ToolError> {
    crate::scope::check_secret_name(name).map_err(|e| ToolError::Rejected {
        what: "secretName",
        detail: e.to_string(),
    })
}

/// The same rule for environments as the proxy's.
pub(super) fn check_environment(environment: &str) -> Result<(), ToolError> {
    crate::scope::check_environment(environment).map_err(|e| ToolError::Rejected {
        what: "environmentSlug",
        detail: e.to_string(),
    })
}
