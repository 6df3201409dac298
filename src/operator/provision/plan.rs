//! What a `provision` command means before anything is sent: the names it
//! derives (store path, variable prefix, privilege slugs) and the guard rails
//! on its globs (too broad, covering the credential store, the picomatch
//! pitfalls).

use crate::scope::{Glob, SecretPath};

/// Where an agent's credentials are stored when neither `--store-path` nor
/// [`STORE_ROOT_VAR`] says otherwise: `/identities/NAME`.
pub const DEFAULT_STORE_ROOT: &str = "/identities";

/// The folder under which each agent's credentials get a folder of their
/// own (`ROOT/NAME`), for organisations that keep them elsewhere.
pub const STORE_ROOT_VAR: &str = "INFISICAL_STORE_ROOT";

/// `NAME` is a folder name too: letters, digits, `-` and `_` only.
pub fn check_name(name: &str) -> Result<(), String> {
    if name.is_empty() || name.len() > 64 {
        return Err("must be 1 to 64 characters".into());
    }
    if !name
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
    {
        return Err(
            "may hold only letters, digits, '-' and '_' (it also names the credentials folder)".into(),
        );
    }
    Ok(())
}

/// `mcp-main-loop` → `MCP_MAIN_LOOP`.
pub fn default_prefix(name: &str) -> String {
    name.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_uppercase()
            } else {
                '_'
            }
        })
        .collect()
}

pub fn check_prefix(prefix: &str) -> Result<(), String> {
    let ok = !prefix.is_empty()
        && prefix.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
        && !prefix.starts_with(|c: char| c.is_ascii_digit());
    if ok {
        Ok(())
    } else {
        Err("must be letters, digits and '_', not starting with a digit (e.g. MCP_MAIN_LOOP)".into())
    }
}

/// The lower-case part every privilege slug of `name` starts with:
/// `<name>-read-`. The slug rule is `[a-z0-9]+(-[a-z0-9]+)*`, at most 60.
pub fn slug_base(name: &str) -> String {
    let mut base = String::new();
    for c in name.chars() {
        let c = if c.is_ascii_alphanumeric() {
            c.to_ascii_lowercase()
        } else {
            '-'
        };
        if !(c == '-' && (base.is_empty() || base.ends_with('-'))) {
            base.push(c);
        }
    }
    let mut base: String = base.trim_end_matches('-').chars().take(40).collect();
    while base.ends_with('-') {
        base.pop();
    }
    if base.is_empty() {
        base.push_str("agent");
    }
    format!("{base}-read-")
}

/// The privilege slug for one `environment:glob`: stable across runs, so a
/// re-run finds what an earlier one made.
pub fn privilege_slug(name: &str, environment: &str, glob: &str) -> String {
    let mut h: u32 = 0x811c_9dc5;
    for b in environment.bytes().chain([b':']).chain(glob.bytes()) {
        h = (h ^ u32::from(b)).wrapping_mul(0x0100_0193);
    }
    format!("{}{h:08x}", slug_base(name))
}

/// Why a glob is refused, with the fix.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum GlobRefusal {
    Invalid {
        glob: String,
        why: String,
    },
    Broad {
        glob: String,
    },
    CoversStore {
        glob: String,
        store: String,
        example: String,
        suggestions: Vec<String>,
    },
}

impl std::fmt::Display for GlobRefusal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Invalid { glob, why } => write!(f, "--glob {glob}: {why}"),
            Self::Broad { glob } => write!(
                f,
                "--glob {glob} grants read on every folder of the environment; \
                 name the folders the agent needs (e.g. /apps/<agent>/**), or pass --allow-broad if that is really meant"
            ),
            Self::CoversStore {
                glob,
                store,
                example,
                suggestions,
            } => {
                write!(
                    f,
                    "--glob {glob} can match the credential store {store} (e.g. {example}): \
                     the agent could read stored client secrets, its own included. Narrow it to the \
                     folders the agent needs, leaving the store out"
                )?;
                if suggestions.is_empty() {
                    write!(f, ", or keep the credentials elsewhere with --store-path")
                } else {
                    write!(f, ", e.g. {}", suggestions.join(" "))
                }
            }
        }
    }
}

pub fn parse_glob(raw: &str) -> Result<Glob, GlobRefusal> {
    if !raw.starts_with('/') {
        return Err(GlobRefusal::Invalid {
            glob: raw.to_owned(),
            why: "must start with '/' (an Infisical secretPath glob, e.g. /apps/agent/**)".into(),
        });
    }
    Glob::new(raw).map_err(|e| GlobRefusal::Invalid {
        glob: raw.to_owned(),
        why: e.to_string(),
    })
}

/// Matches folders at the top level and below them: the whole environment.
pub fn is_broad(glob: &Glob) -> bool {
    glob.is_match("/zz-provision-probe") && glob.is_match("/zz-provision-probe/a/b")
}

/// Warnings for globs that are valid but may not mean what they look like.
pub fn pitfalls(glob: &Glob) -> Vec<String> {
    let g = glob.as_str();
    let mut out: Vec<String> = glob
        .surprises()
        .into_iter()
        .map(|s| format!("--glob {g}: {s}"))
        .collect();
    let prefix = glob.literal_prefix();
    if !prefix.is_root() && !glob.is_match(prefix.as_str()) {
        out.push(format!(
            "--glob {g} does not cover {p} itself: secrets stored directly in {p} stay unreadable (use {p}/** for the folder and everything below it)",
            p = prefix.as_str()
        ));
    }
    let child = format!("{}/zz-child", prefix.as_str().trim_end_matches('/'));
    let grandchild = format!("{child}/zz-deeper");
    if glob.is_match(&child) && !glob.is_match(&grandchild) {
        out.push(format!(
            "--glob {g} covers one level only: folders below {child} are not readable (use ** for the whole subtree)"
        ));
    }
    out
}

/// Whether `glob` could let an identity read `store` (the agent's own
/// folder) or anything under `store_root` (every agent's folder), or one of
/// the `companions` (other folders holding `*_CLIENT_SECRET`).
pub fn store_exposure(
    glob: &Glob,
    store: &SecretPath,
    store_root: &SecretPath,
    companions: &[String],
) -> Option<String> {
    if glob.is_match(store.as_str()) {
        return Some(store.as_str().to_owned());
    }
    if glob.could_match_at_or_below(store_root.as_str()) {
        return Some(format!("{}/…", store_root.as_str().trim_end_matches('/')));
    }
    companions.iter().find(|p| glob.is_match(p)).cloned()
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::test_support::path as p;

    #[test]
    fn names() {
        assert_eq!(default_prefix("mcp-main_loop2"), "MCP_MAIN_LOOP2");
        assert!(check_name("infisical-identity-mcp").is_ok());
        assert!(check_name("a/b").is_err());
        assert!(check_prefix("9X").is_err());
        let slug = privilege_slug("Infisical_Identity--MCP", "prod", "/a/**");
        assert!(slug.starts_with("infisical-identity-mcp-read-"), "{slug}");
        assert_eq!(slug, privilege_slug("Infisical_Identity--MCP", "prod", "/a/**"));
        assert_ne!(slug, privilege_slug("Infisical_Identity--MCP", "dev", "/a/**"));
        assert!(privilege_slug(&"x".repeat(64), "prod", "/**").len() <= 60);
    }

    #[test]
    fn the_runbooks_example_glob_covers_the_store() {
        let store = p("/MooseQuest/identities/agent");
        let root = p("/MooseQuest/identities");
        let glob = parse_glob("/MooseQuest/**").unwrap();
        assert!(store_exposure(&glob, &store, &root, &[]).is_some());
        let narrow = parse_glob("/MooseQuest/raxx-dev-bot/**").unwrap();
        assert_eq!(store_exposure(&narrow, &store, &root, &[]), None);
        let sibling = parse_glob("/MooseQuest/identities/other/**").unwrap();
        assert!(store_exposure(&sibling, &store, &root, &[]).is_some());
        let companion = parse_glob("/legacy/**").unwrap();
        assert_eq!(
            store_exposure(&companion, &store, &root, &["/legacy/bots".into()]).as_deref(),
            Some("/legacy/bots")
        );
    }

    #[test]
    fn broad_and_pitfalls() {
        assert!(is_broad(&parse_glob("/**").unwrap()));
        assert!(!is_broad(&parse_glob("/apps/**").unwrap()));
        assert!(parse_glob("apps/**").is_err());
        let one_level = pitfalls(&parse_glob("/X/*").unwrap());
        assert!(
            one_level.iter().any(|w| w.contains("does not cover /X itself")),
            "{one_level:?}"
        );
        assert!(
            one_level.iter().any(|w| w.contains("one level only")),
            "{one_level:?}"
        );
        assert!(pitfalls(&parse_glob("/X/**").unwrap()).is_empty());
    }
}
