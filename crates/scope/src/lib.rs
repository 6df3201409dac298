//! Client-side scope: which (environment, folder) pairs this process may read.
//!
//! The identity's RBAC in Infisical is the real boundary; this layer enforces
//! the same scope before any request leaves the machine (so an agent cannot
//! probe outside it) and filters recursive results after. Scope entries are
//! `ENV:GLOB` and globs mean exactly what Infisical's `$glob` means (see
//! [`glob`]); folder paths go through the single normalisation in [`path`],
//! and every path, environment and secret name through the one rule in
//! [`input`] that keeps the vault (JavaScript) reading what was checked.

pub mod glob;
pub mod input;
pub mod path;

use std::fmt;
use std::str::FromStr;

pub use glob::{FolderGap, Glob, GlobError};
pub use input::{InputError, InputProblem, check_environment, check_secret_name};
pub use path::{PathError, SecretPath};

use glob::quote;

const ENTRY_FORM: &str = "ENV:GLOB, e.g. dev:/agents/warden/** or *:/shared/* ('*' = every environment)";

/// Everything that can be wrong with a configured scope.
#[derive(Debug, thiserror::Error)]
pub enum ScopeError {
    #[error(
        "no scope configured, so nothing may be read; pass --scope ENV:GLOB (repeatable) or \
         INFISICAL_SCOPE, e.g. --scope 'dev:/agents/warden/**'; to grant everything the identity \
         can read, say so explicitly: --scope '*:/**'"
    )]
    Empty,
    #[error("scope entry {entry} has no ':'; write it as {ENTRY_FORM}")]
    MissingColon { entry: String },
    #[error(
        "scope entry {entry}: environment {environment} is not an environment slug \
         (lowercase letters, digits, '-' and '_') or '*'; write it as {ENTRY_FORM}"
    )]
    BadEnvironment { entry: String, environment: String },
    #[error("scope entry {entry}: the glob must start with '/'; write it as {ENTRY_FORM}")]
    GlobNotAbsolute { entry: String },
    #[error("scope entry {entry}: {source}")]
    BadGlob {
        entry: String,
        #[source]
        source: GlobError,
    },
}

/// One `ENV:GLOB` scope entry.
#[derive(Debug, Clone)]
pub struct ScopeEntry {
    environment: String,
    glob: Glob,
}

fn is_env_slug(s: &str) -> bool {
    s == "*"
        || (!s.is_empty()
            && s.bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'_'))
}

impl ScopeEntry {
    /// Parses `ENV:GLOB`, splitting at the first ':' (globs may contain more).
    pub fn parse(s: &str) -> Result<Self, ScopeError> {
        let entry = || quote(s);
        let Some((environment, pattern)) = s.split_once(':') else {
            return Err(ScopeError::MissingColon { entry: entry() });
        };
        if !is_env_slug(environment) {
            return Err(ScopeError::BadEnvironment {
                entry: entry(),
                environment: quote(environment),
            });
        }
        // Negated or relative globs in a scope would grant far more than they
        // appear to, so a scope glob is always an absolute positive pattern.
        if !pattern.starts_with('/') {
            return Err(ScopeError::GlobNotAbsolute { entry: entry() });
        }
        let glob = Glob::new(pattern).map_err(|source| ScopeError::BadGlob {
            entry: entry(),
            source,
        })?;
        Ok(ScopeEntry {
            environment: environment.to_owned(),
            glob,
        })
    }

    /// The environment slug, or `*` for every environment.
    pub fn environment(&self) -> &str {
        &self.environment
    }

    pub fn glob(&self) -> &Glob {
        &self.glob
    }

    fn covers_environment(&self, environment: &str) -> bool {
        self.environment == "*" || self.environment == environment
    }

    /// The warning for a glob that leaves out the folder it seems to name
    /// (see [`Glob::folder_gap`]), with the entry to write instead.
    pub fn folder_gap_warning(&self) -> Option<String> {
        let gap = self.glob.folder_gap()?;
        let env = &self.environment;
        let fixes: Vec<String> = gap.fixes.iter().map(|f| format!("{env}:{f}")).collect();
        let folder = &gap.folder;
        Some(match fixes.as_slice() {
            [instead] => format!(
                "scope entry {self} does not cover the folder {folder} itself, only what lies below \
                 it (Infisical's glob matching works the same way), so secrets stored directly in \
                 {folder} are out of reach; write {instead} to cover {folder} and everything below it"
            ),
            [beside, broad, ..] => format!(
                "scope entry {self} does not cover a folder such as {folder} itself, only what lies \
                 below it (Infisical's glob matching works the same way); add {beside} beside it, or \
                 write {broad} (which also covers the rest of its parent)"
            ),
            [] => return None,
        })
    }
}

impl fmt::Display for ScopeEntry {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.environment, self.glob.as_str())
    }
}

impl FromStr for ScopeEntry {
    type Err = ScopeError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        ScopeEntry::parse(s)
    }
}

/// A non-empty set of scope entries; access is granted if any entry grants it.
#[derive(Debug, Clone)]
pub struct Scope {
    entries: Vec<ScopeEntry>,
}

impl Scope {
    /// Refuses an empty scope: "no entries" must never mean "everything".
    pub fn new(entries: Vec<ScopeEntry>) -> Result<Scope, ScopeError> {
        if entries.is_empty() {
            return Err(ScopeError::Empty);
        }
        Ok(Scope { entries })
    }

    /// Parses `--scope` values and/or `INFISICAL_SCOPE`; each item may hold
    /// several whitespace-separated entries.
    pub fn parse_list(entries: &[String]) -> Result<Scope, ScopeError> {
        let parsed = entries
            .iter()
            .flat_map(|item| item.split_whitespace())
            .map(ScopeEntry::parse)
            .collect::<Result<Vec<_>, _>>()?;
        Scope::new(parsed)
    }

    /// Secrets directly in `folder` of `environment` may be read.
    pub fn allows(&self, environment: &str, folder: &SecretPath) -> bool {
        self.entries
            .iter()
            .any(|e| e.covers_environment(environment) && e.glob.is_match(folder.as_str()))
    }

    /// `folder` or some folder below it is readable, so a listing there may go
    /// out (and be filtered) and the folder may be shown when navigating.
    pub fn leads_into(&self, environment: &str, folder: &SecretPath) -> bool {
        self.entries
            .iter()
            .any(|e| e.covers_environment(environment) && e.glob.could_match_at_or_below(folder.as_str()))
    }

    pub fn entries(&self) -> &[ScopeEntry] {
        &self.entries
    }

    /// One line per entry whose glob means something other than it seems
    /// (see [`Glob::surprises`]): `scope entry ENV:GLOB: why`; and one per
    /// entry that leaves out the folder it seems to name (see
    /// [`ScopeEntry::folder_gap_warning`]).
    pub fn warnings(&self) -> Vec<String> {
        self.entries
            .iter()
            .flat_map(|e| {
                e.glob
                    .surprises()
                    .into_iter()
                    .map(move |why| format!("scope entry {e}: {why}"))
                    .chain(e.folder_gap_warning())
            })
            .collect()
    }

    /// Entries of `environment` that reach below `folder` but do not match
    /// `folder` itself: why a folder just above a granted glob is refused.
    pub fn entries_stopping_below(&self, environment: &str, folder: &SecretPath) -> Vec<&ScopeEntry> {
        self.entries
            .iter()
            .filter(|e| {
                e.covers_environment(environment)
                    && !e.glob.is_match(folder.as_str())
                    && e.glob.could_match_at_or_below(folder.as_str())
            })
            .collect()
    }
}

impl fmt::Display for Scope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, e) in self.entries.iter().enumerate() {
            if i > 0 {
                f.write_str(", ")?;
            }
            write!(f, "{e}")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn folder_gaps_are_warned_and_found_from_the_folder() {
        let scope =
            Scope::parse_list(&["dev:/a/** prod:/MooseQuest/raxx-dev-bot/* *:/b/p-*/** prod:/c/*/x".into()])
                .unwrap();
        let warnings = scope.warnings();
        assert_eq!(warnings.len(), 2, "{warnings:?}");
        assert!(warnings[0].starts_with(
            "scope entry prod:/MooseQuest/raxx-dev-bot/* does not cover the folder /MooseQuest/raxx-dev-bot itself"
        ));
        assert!(warnings[0].ends_with(
            "write prod:/MooseQuest/raxx-dev-bot/** to cover /MooseQuest/raxx-dev-bot and everything below it"
        ));
        assert!(warnings[1].contains("add *:/b/p-* beside it, or write *:/b/**"));
        let bot = p("/MooseQuest/raxx-dev-bot");
        let stopping = scope.entries_stopping_below("prod", &bot);
        assert_eq!(stopping.len(), 1);
        assert_eq!(stopping[0].to_string(), "prod:/MooseQuest/raxx-dev-bot/*");
        assert!(
            scope.entries_stopping_below("dev", &bot).is_empty(),
            "other environment"
        );
        assert!(
            scope
                .entries_stopping_below("prod", &p("/MooseQuest/raxx-dev-bot/sub"))
                .is_empty()
        );
        assert_eq!(scope.entries_stopping_below("dev", &p("/b/p-a")).len(), 1);
    }

    #[test]
    fn warnings_name_the_entry() {
        let scope = Scope::parse_list(&["dev:/a/** prod:/b/[!c]".into()]).unwrap();
        let warnings = scope.warnings();
        assert_eq!(warnings.len(), 1, "{warnings:?}");
        assert!(warnings[0].starts_with("scope entry prod:/b/[!c]: '[!…]' is not negation"));
    }

    fn p(s: &str) -> SecretPath {
        SecretPath::parse(s).unwrap()
    }

    fn scope(items: &[&str]) -> Scope {
        Scope::parse_list(&items.iter().map(|s| (*s).to_owned()).collect::<Vec<_>>()).unwrap()
    }

    #[test]
    fn entry_round_trips() {
        for s in ["dev:/agents/warden/**", "*:/shared/*", "prod-eu_2:/a:b/{x,y}"] {
            let e: ScopeEntry = s.parse().unwrap();
            assert_eq!(e.to_string(), s);
        }
        let e = ScopeEntry::parse("prod-eu_2:/a:b/{x,y}").unwrap();
        assert_eq!(e.environment(), "prod-eu_2");
        assert_eq!(e.glob().as_str(), "/a:b/{x,y}");
    }

    #[test]
    fn entry_errors_name_the_entry_and_the_form() {
        type IsKind = fn(&ScopeError) -> bool;
        let cases: [(&str, IsKind); 7] = [
            ("dev", |e| matches!(e, ScopeError::MissingColon { .. })),
            ("/agents/**", |e| matches!(e, ScopeError::MissingColon { .. })),
            ("Dev:/a", |e| matches!(e, ScopeError::BadEnvironment { .. })),
            (":/a", |e| matches!(e, ScopeError::BadEnvironment { .. })),
            ("dev:agents/**", |e| {
                matches!(e, ScopeError::GlobNotAbsolute { .. })
            }),
            ("dev:!/a/**", |e| matches!(e, ScopeError::GlobNotAbsolute { .. })),
            ("dev:/a/{b,c", |e| matches!(e, ScopeError::BadGlob { .. })),
        ];
        for (s, is_kind) in cases {
            let e = ScopeEntry::parse(s).unwrap_err();
            assert!(is_kind(&e), "{s}: {e:?}");
            let msg = e.to_string();
            assert!(msg.contains(&format!("'{s}'")), "{msg}");
            if !matches!(e, ScopeError::BadGlob { .. }) {
                assert!(msg.contains("dev:/agents/warden/**"), "{msg}");
            }
        }
    }

    #[test]
    fn empty_scope_says_how_to_grant_everything() {
        let msg = Scope::new(Vec::new()).unwrap_err().to_string();
        assert!(msg.contains("--scope '*:/**'"), "{msg}");
        let msg = Scope::parse_list(&["  ".to_owned()]).unwrap_err().to_string();
        assert!(msg.contains("--scope '*:/**'"), "{msg}");
    }

    #[test]
    fn list_items_may_hold_several_entries() {
        let s = scope(&["dev:/a/**  prod:/b/*", "\t*:/shared/*\n"]);
        assert_eq!(s.entries().len(), 3);
        assert_eq!(s.to_string(), "dev:/a/**, prod:/b/*, *:/shared/*");
        assert!(Scope::parse_list(&["dev:/a/** oops".to_owned()]).is_err());
    }

    #[test]
    fn allows_checks_environment_and_glob() {
        let s = scope(&["dev:/agents/warden/**", "*:/shared/*"]);
        assert!(s.allows("dev", &p("/agents/warden")));
        assert!(s.allows("dev", &p("/agents/warden/deep/er")));
        assert!(!s.allows("prod", &p("/agents/warden")));
        assert!(!s.allows("dev", &p("/agents")));
        assert!(!s.allows("dev", &p("/agents/wardenx")));
        assert!(!s.allows("dev", &p("/agents/warden/.hidden")));
        assert!(s.allows("prod", &p("/shared/x")));
        assert!(!s.allows("prod", &p("/shared")));
        assert!(!s.allows("prod", &p("/shared/x/y")));
    }

    #[test]
    fn leads_into_covers_ancestors_only() {
        let s = scope(&["dev:/agents/warden/**", "*:/shared/*"]);
        for f in ["/", "/agents", "/agents/warden", "/agents/warden/x"] {
            assert!(s.leads_into("dev", &p(f)), "{f}");
        }
        for f in ["/other", "/agentsx", "/agents/wardenx", "/agents/x"] {
            assert!(!s.leads_into("dev", &p(f)), "{f}");
        }
        assert!(!s.leads_into("prod", &p("/agents")));
        assert!(s.leads_into("prod", &p("/")));
        assert!(s.leads_into("prod", &p("/shared")));
        assert!(!s.leads_into("prod", &p("/shared/x/y")));
    }
}
