//! Secret imports and `${…}` references, resolved here instead of by the
//! vault, so that the scope holds where the vault's own checks are wider or
//! wrong: a value reached through an import or a reference is read only if
//! every folder on the way lies in the scope.
//!
//! The vault is therefore never asked to follow imports or expand references
//! (`include_imports` / `expandSecretReferences` stay `false` on every read
//! this module makes). Instead it walks the import graph and the reference
//! graph itself, in the order Infisical does (docs/vault-api.md, "Imports"
//! and "References"), and reads only folders the scope allows. An older
//! Infisical build lets an identity read through a chain of two imports into
//! a folder its privilege does not cover; walking the chain here is the only
//! way to stop that.

use std::collections::{HashMap, HashSet, VecDeque};

use secrecy::ExposeSecret;
use zeroize::Zeroizing;

use super::calls::Context;
use super::error::ToolError;
use crate::scope::SecretPath;
use crate::vault::{Location, ReadOptions, Secret, VaultError};

/// How many import hops below a folder Infisical follows (`LEVEL_BREAK`).
const MAX_IMPORT_DEPTH: usize = 10;
/// How deep references inside referenced values are followed
/// (`MAX_SECRET_REFERENCE_DEPTH`).
const MAX_REFERENCE_DEPTH: usize = 10;
/// Folders one call may visit through imports, whatever the graph's shape.
const MAX_IMPORT_FOLDERS: usize = 50;
/// Secrets one expansion may read, whatever the references' shape.
const MAX_REFERENCE_READS: usize = 100;
/// Largest expanded value: references that double at every level would
/// otherwise grow a value a thousandfold within the depth limit.
const MAX_EXPANDED_BYTES: usize = 4 * 1024 * 1024;

/// Neither imports nor expansion: what this module asks the vault for.
pub(super) const RAW: ReadOptions = ReadOptions {
    expand_references: false,
    include_imports: false,
};

/// A secret and the folder it really lives in.
pub(super) struct Resolved {
    pub secret: Secret,
    pub at: Location,
    /// `env:/path` of every folder from the requested one to the source,
    /// when the secret came through an import; empty otherwise.
    pub chain: Vec<String>,
    pub notes: Vec<String>,
    pub cached_age: Option<std::time::Duration>,
}

/// A folder reached through imports, with the hops that led there.
pub(super) struct ImportSource {
    pub at: Location,
    pub chain: Vec<String>,
}

fn label(at: &Location) -> String {
    format!("{}:{}", at.environment, at.path)
}

/// One node of an import walk.
struct Hop {
    at: Location,
    chain: Vec<String>,
    depth: usize,
}

impl Hop {
    /// The walk's first hop, `at`, and the folders seen so far (just that one).
    fn start(at: &Location) -> (Self, HashSet<(String, SecretPath)>) {
        let hop = Hop {
            at: at.clone(),
            chain: vec![label(at)],
            depth: 0,
        };
        (hop, HashSet::from([(at.environment.clone(), at.path.clone())]))
    }
}

impl Context {
    /// The folder's imports as hops below `from`, in Infisical's order. A
    /// folder whose imports cannot be listed has none, with a note saying so.
    async fn import_hops(&self, from: &Hop, notes: &mut Vec<String>) -> Result<Vec<Hop>, ToolError> {
        let imports = match self.vault.read_imports(&from.at).await {
            Ok(served) => served.value,
            Err(VaultError::NotFound { .. }) => return Ok(Vec::new()),
            Err(VaultError::PermissionDenied { .. }) => {
                notes.push(format!(
                    "the imports of {} could not be listed (the vault refused); none were consulted",
                    label(&from.at)
                ));
                return Ok(Vec::new());
            }
            Err(e) => return Err(e.into()),
        };
        let mut hops = Vec::with_capacity(imports.len());
        for import in imports {
            // Sent back to the vault as a query, so held to the same rule as
            // a caller's environment and path.
            let readable = SecretPath::parse(&import.import_path)
                .ok()
                .filter(|_| crate::scope::check_environment(&import.import_env.slug).is_ok());
            let Some(path) = readable else {
                notes.push(format!(
                    "an import of {} names a folder this server cannot read safely ({}:{}); it was skipped",
                    label(&from.at),
                    import.import_env.slug.escape_debug(),
                    import.import_path.escape_debug()
                ));
                continue;
            };
            let at = Location {
                project_id: from.at.project_id.clone(),
                environment: import.import_env.slug,
                path,
            };
            let mut chain = from.chain.clone();
            chain.push(label(&at));
            hops.push(Hop {
                at,
                chain,
                depth: from.depth + 1,
            });
        }
        Ok(hops)
    }

    /// Reads `name` where it lives for a reader of `at`: in `at` itself, or
    /// (with `include_imports`) in the first import that holds it, in the
    /// order Infisical applies them — the folder's imports from the last to
    /// the first, each one's own secrets before those it imports in turn.
    /// Imports outside the scope are never read: they are named in the
    /// result's notes, or in the not-found error.
    pub(super) async fn find_secret(
        &self,
        at: &Location,
        name: &str,
        include_imports: bool,
    ) -> Result<Resolved, ToolError> {
        match self.vault.read_secret(at, name, RAW).await {
            Ok(served) => {
                return Ok(Resolved {
                    secret: served.value,
                    at: at.clone(),
                    chain: Vec::new(),
                    notes: Vec::new(),
                    cached_age: served.cached_age,
                });
            }
            // A missing project, environment or folder is a setting to fix,
            // not a key to look for in imports.
            Err(e) if include_imports && e.is_missing_secret() => {}
            Err(e) => return Err(e.into()),
        }

        let mut notes = Vec::new();
        let mut skipped: Vec<String> = Vec::new();
        let (origin, mut visited) = Hop::start(at);
        let mut budget = MAX_IMPORT_FOLDERS;
        let first_level = self.import_hops(&origin, &mut notes).await?;
        // A later import wins over an earlier one.
        for top in first_level.into_iter().rev() {
            let mut queue = VecDeque::from([top]);
            while let Some(hop) = queue.pop_front() {
                if hop.depth > MAX_IMPORT_DEPTH
                    || !visited.insert((hop.at.environment.clone(), hop.at.path.clone()))
                {
                    continue;
                }
                if !self.scope.allows(&hop.at.environment, &hop.at.path) {
                    skipped.push(hop.chain.join(" → "));
                    continue;
                }
                if budget == 0 {
                    notes.push(format!(
                        "the import walk stopped after {MAX_IMPORT_FOLDERS} folders; some imports were not consulted"
                    ));
                    break;
                }
                budget -= 1;
                match self.vault.read_secret(&hop.at, name, RAW).await {
                    Ok(served) => {
                        if !skipped.is_empty() {
                            notes.push(format!(
                                "imports outside the scope were not consulted ({}); the vault itself might \
                                 serve {name} from one of them",
                                skipped.join(", ")
                            ));
                        }
                        return Ok(Resolved {
                            secret: served.value,
                            at: hop.at,
                            chain: hop.chain,
                            notes,
                            cached_age: served.cached_age,
                        });
                    }
                    Err(VaultError::NotFound { .. }) => {}
                    Err(VaultError::PermissionDenied { .. }) => {
                        notes.push(format!("the vault refused the import {}", hop.chain.join(" → ")));
                        continue;
                    }
                    Err(e) => return Err(e.into()),
                }
                queue.extend(self.import_hops(&hop, &mut notes).await?);
            }
        }
        Err(ToolError::NotFoundInScope {
            similar: Vec::new(),
            key: name.to_string(),
            location: label(at),
            skipped,
        })
    }

    /// Every folder `at` imports, directly or through other imports, that
    /// the scope allows, in the order of the vault's own `imports[]` (first
    /// import first, each followed by what it imports in turn). Folders
    /// outside the scope are named in `notes` and not read.
    pub(super) async fn import_sources(
        &self,
        at: &Location,
        notes: &mut Vec<String>,
    ) -> Result<Vec<ImportSource>, ToolError> {
        let (origin, mut visited) = Hop::start(at);
        let mut sources = Vec::new();
        let mut queue: VecDeque<Hop> = VecDeque::new();
        for top in self.import_hops(&origin, notes).await? {
            queue.push_back(top);
            while let Some(hop) = queue.pop_front() {
                if hop.depth > MAX_IMPORT_DEPTH
                    || !visited.insert((hop.at.environment.clone(), hop.at.path.clone()))
                {
                    continue;
                }
                if !self.scope.allows(&hop.at.environment, &hop.at.path) {
                    notes.push(format!(
                        "import {} not read: {} is outside this server's scope",
                        hop.chain.join(" → "),
                        label(&hop.at)
                    ));
                    continue;
                }
                if sources.len() == MAX_IMPORT_FOLDERS {
                    notes.push(format!(
                        "the import walk stopped after {MAX_IMPORT_FOLDERS} folders; some imports are not shown"
                    ));
                    return Ok(sources);
                }
                let below = self.import_hops(&hop, notes).await?;
                sources.push(ImportSource {
                    at: hop.at,
                    chain: hop.chain,
                });
                queue.extend(below);
            }
        }
        Ok(sources)
    }

    /// Expands `${KEY}` and `${env.folder.sub.KEY}` references in `value`,
    /// found as `key` in `home`, exactly as Infisical would, reading each
    /// referenced secret only if its folder lies in the scope. Any reference
    /// outside the scope, at any depth, fails the whole expansion.
    pub(super) async fn expand_references(
        &self,
        value: &str,
        home: &Location,
        key: &str,
        skip_multiline_encoding: bool,
        read: &mut ReferenceReads,
    ) -> Result<String, ToolError> {
        if references(value).is_empty() {
            return Ok(value.to_string());
        }
        let mut expander = Expansion {
            ctx: self,
            root_key: key,
            root: home,
            read,
        };
        let expanded = expander.run(value).await?;
        Ok(if skip_multiline_encoding && expanded.contains('\n') {
            format!("\"{}\"", expanded.replace('\n', "\\n"))
        } else {
            expanded.to_string()
        })
    }
}

/// Where a reference points.
struct Target {
    environment: String,
    path: String,
    key: String,
}

/// `KEY` → the referring secret's folder; `env.KEY` → the root of `env`;
/// `env.a.b.KEY` → `/a/b` of `env` (empty segments vanish, as in a path join).
fn target(inner: &str, environment: &str, path: &SecretPath) -> Target {
    let parts: Vec<&str> = inner.split('.').collect();
    match parts.as_slice() {
        [env, folders @ .., key] => {
            let segments: Vec<&str> = folders.iter().copied().filter(|s| !s.is_empty()).collect();
            Target {
                environment: (*env).to_string(),
                path: format!("/{}", segments.join("/")),
                key: (*key).to_string(),
            }
        }
        _ => Target {
            environment: environment.to_string(),
            path: path.to_string(),
            key: inner.to_string(),
        },
    }
}

fn is_reference_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.')
}

/// The `${…}` references in `value` as Infisical's pattern
/// `\${([a-zA-Z0-9-_.]+)}` finds them: (the whole `${…}`, what is inside).
pub(super) fn references(value: &str) -> Vec<(&str, &str)> {
    let bytes = value.as_bytes();
    let mut found = Vec::new();
    let mut i = 0;
    while i + 2 < bytes.len() {
        if bytes[i] == b'$' && bytes[i + 1] == b'{' {
            let mut end = i + 2;
            while end < bytes.len() && is_reference_byte(bytes[end]) {
                end += 1;
            }
            if end > i + 2 && bytes.get(end) == Some(&b'}') {
                // Only ASCII bytes were crossed, so these are char boundaries.
                found.push((&value[i..=end], &value[i + 2..end]));
                i = end + 1;
                continue;
            }
        }
        i += 1;
    }
    found
}

/// Referenced values read so far, by environment, folder and key; shared by
/// the expansions of one tool call so that each secret is read once.
pub(super) type ReferenceReads = HashMap<(String, String, String), Zeroizing<String>>;

/// One expansion.
struct Expansion<'a> {
    ctx: &'a Context,
    root_key: &'a str,
    root: &'a Location,
    read: &'a mut ReferenceReads,
}

/// A value still to be scanned for references, where it lives and how it
/// was reached.
struct Pending {
    value: Zeroizing<String>,
    environment: String,
    path: SecretPath,
    depth: usize,
    visited: HashSet<(String, String, String)>,
}

impl Expansion<'_> {
    /// Infisical's walk: a stack of values to scan; every reference found is
    /// replaced wherever its text occurs in the result, and a referenced
    /// value that holds references itself is scanned in turn (unless that
    /// would go round a cycle or deeper than the limit). A reference to a
    /// missing secret keeps its text.
    async fn run(&mut self, value: &str) -> Result<Zeroizing<String>, ToolError> {
        let mut expanded = Zeroizing::new(value.to_string());
        let root_id = (
            self.root.environment.clone(),
            self.root.path.to_string(),
            self.root_key.to_string(),
        );
        let mut stack = vec![Pending {
            value: Zeroizing::new(value.to_string()),
            environment: self.root.environment.clone(),
            path: self.root.path.clone(),
            depth: 0,
            visited: HashSet::from([root_id]),
        }];
        while let Some(node) = stack.pop() {
            if node.depth > MAX_REFERENCE_DEPTH {
                continue;
            }
            for (syntax, inner) in references(&node.value) {
                let target = target(inner, &node.environment, &node.path);
                let referred = self.read(&target, syntax).await?;
                let id = (
                    target.environment.clone(),
                    target.path.clone(),
                    target.key.clone(),
                );
                let circular = node.visited.contains(&id);
                if !circular && !references(&referred).is_empty() {
                    let mut visited = node.visited.clone();
                    visited.insert(id);
                    // The target's path parsed before it was read.
                    if let Ok(path) = SecretPath::parse(&target.path) {
                        stack.push(Pending {
                            value: referred.clone(),
                            environment: target.environment.clone(),
                            path,
                            depth: node.depth + 1,
                            visited,
                        });
                    }
                }
                if !referred.is_empty() {
                    expanded = Zeroizing::new(expanded.replace(syntax, &referred));
                    if expanded.len() > MAX_EXPANDED_BYTES {
                        return Err(ToolError::Rejected {
                            what: "expandSecretReferences",
                            detail: format!(
                                "the expanded value would exceed {} MiB; read it with expandSecretReferences=false",
                                MAX_EXPANDED_BYTES / (1024 * 1024)
                            ),
                        });
                    }
                }
            }
        }
        Ok(expanded)
    }

    /// The stored value a reference points to: checked against the scope
    /// first, then read once per expansion. A missing secret reads as empty.
    async fn read(&mut self, target: &Target, syntax: &str) -> Result<Zeroizing<String>, ToolError> {
        let ctx = self.ctx;
        let out_of_scope = || ToolError::ReferenceOutOfScope {
            secret: format!("{} in {}", self.root_key, label(self.root)),
            reference: syntax.to_string(),
            environment: target.environment.clone(),
            path: target.path.clone(),
            scope: ctx.scope.to_string(),
        };
        let path = SecretPath::parse(&target.path).map_err(|_| out_of_scope())?;
        if !ctx.scope.allows(&target.environment, &path) {
            return Err(out_of_scope());
        }
        let id = (
            target.environment.clone(),
            target.path.clone(),
            target.key.clone(),
        );
        if let Some(value) = self.read.get(&id) {
            return Ok(value.clone());
        }
        if self.read.len() >= MAX_REFERENCE_READS {
            return Err(ToolError::Rejected {
                what: "expandSecretReferences",
                detail: format!(
                    "the values refer to more than {MAX_REFERENCE_READS} secrets; read them with \
                     expandSecretReferences=false"
                ),
            });
        }
        let value = if target.key.is_empty() {
            Zeroizing::new(String::new())
        } else {
            let at = Location {
                project_id: self.root.project_id.clone(),
                environment: target.environment.clone(),
                path,
            };
            match ctx.vault.read_secret(&at, &target.key, RAW).await {
                Ok(served) => Zeroizing::new(served.value.secret_value.expose_secret().to_string()),
                Err(VaultError::NotFound { .. }) => Zeroizing::new(String::new()),
                Err(VaultError::PermissionDenied { message }) => {
                    return Err(ToolError::ReferenceRefused {
                        secret: format!("{} in {}", self.root_key, label(self.root)),
                        reference: syntax.to_string(),
                        target: format!("{}:{} {}", target.environment, target.path, target.key),
                        message,
                    });
                }
                Err(e) => return Err(e.into()),
            }
        };
        self.read.insert(id, value.clone());
        Ok(value)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_references_as_infisicals_pattern_does() {
        assert_eq!(
            references("a ${KEY} b ${dev.shared.TOKEN}"),
            vec![("${KEY}", "KEY"), ("${dev.shared.TOKEN}", "dev.shared.TOKEN")]
        );
        // Characters outside [a-zA-Z0-9-_.] end the match: no reference.
        assert!(references("${a b}").is_empty());
        assert!(references("${}").is_empty());
        assert!(references("${KEY").is_empty());
        assert!(references("$ {KEY}").is_empty());
        // A failed start does not hide a reference that begins inside it.
        assert_eq!(references("${a${B}}"), vec![("${B}", "B")]);
        assert_eq!(references("${ü}${X}"), vec![("${X}", "X")]);
    }

    /// Recorded from a real Infisical (2024 build): `WARDEN_REF_SHARED` in
    /// dev:/agents/warden holds `${dev.shared.SHARED_TOKEN}`, and the vault's
    /// refusal names "secret named SHARED_TOKEN from environment dev in path
    /// /shared"; `WARDEN_REF_LOCAL` holds `${WARDEN_API_KEY}` and expands to
    /// that folder's WARDEN_API_KEY. The client must point at the same places.
    #[test]
    fn points_where_the_recorded_vault_points() {
        let here = SecretPath::parse("/agents/warden");
        assert!(here.is_ok());
        let Ok(here) = here else { return };
        let refs = references("${dev.shared.SHARED_TOKEN}");
        assert_eq!(refs.len(), 1);
        let t = target(refs[0].1, "dev", &here);
        assert_eq!(
            (t.environment.as_str(), t.path.as_str(), t.key.as_str()),
            ("dev", "/shared", "SHARED_TOKEN")
        );
        let refs = references("${WARDEN_API_KEY}");
        let t = target(refs[0].1, "dev", &here);
        assert_eq!(
            (t.environment.as_str(), t.path.as_str(), t.key.as_str()),
            ("dev", "/agents/warden", "WARDEN_API_KEY")
        );
    }

    #[test]
    fn resolves_targets_like_a_path_join() {
        let here = SecretPath::parse("/agents/warden");
        assert!(here.is_ok());
        let Ok(here) = here else { return };
        for (reference, default_environment, expected) in [
            ("KEY", "dev", ("dev", "/agents/warden", "KEY")),
            ("prod.KEY", "dev", ("prod", "/", "KEY")),
            ("dev.shared.deep.TOKEN", "prod", ("dev", "/shared/deep", "TOKEN")),
            ("dev..x..KEY", "prod", ("dev", "/x", "KEY")),
        ] {
            let t = target(reference, default_environment, &here);
            assert_eq!(
                (t.environment.as_str(), t.path.as_str(), t.key.as_str()),
                expected,
                "{reference}"
            );
        }
    }
}
