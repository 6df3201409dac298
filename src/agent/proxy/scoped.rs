//! The allow-list a scope turns the proxy into, and the rewrite of what it
//! lets through.
//!
//! With a scope, only the routes [`Route`] recognises as reads pass: secret
//! reads, folder and secret-import listings (each checked against the scope
//! by environment and folder), project metadata, status, login and renew.
//! Their query may hold only the parameters those routes define, each at
//! most once, so that the vault reads exactly what was checked; a `;` in the
//! path is refused (a router may read it as the start of parameters); and a
//! project other than the configured ones is refused. A scoped secret read
//! is rebuilt from the checked pairs with imports and reference expansion
//! forced off, since either could bring in a value from outside the scope
//! that the proxy cannot trace back (a chained import is labelled with its
//! first hop; an expanded value does not say where it came from).

use std::borrow::Cow;

use super::error::ProxyError;
use super::policy::Plan;
use super::route::{Route, ScopedRead};
use crate::config::ProjectScope;
use crate::scope::{Scope, SecretPath};

/// The query parameters that make the vault follow imports or expand
/// references; a scoped proxy always sends them as `false`. Both spellings
/// of the imports flag: v3 declares `include_imports`, the newest v4
/// `includeImports` (the vault drops the key it does not know).
pub const FORCED_OFF: [&str; 3] = ["expandSecretReferences", "include_imports", "includeImports"];

/// What the vault's answer to a scoped read must be checked for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AnswerCheck {
    pub environment: String,
    pub folder: SecretPath,
    pub kind: AnswerKind,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AnswerKind {
    /// `{"secret": {...}}`: one secret, which must come from the scope.
    Secret,
    /// `{"secrets": [...], "imports": [...]}`: entries outside the scope
    /// dropped, imports dropped.
    SecretList { recursive: bool },
    /// `{"folders": [...]}`: only folders in the scope or on the way into it.
    Folders,
}

/// The configured scope and where it came from (`--scope`, `INFISICAL_SCOPE`).
#[derive(Debug, Clone)]
pub struct ScopeRule {
    pub scope: Scope,
    pub source: String,
    /// The projects reads may name; `None` when none is configured.
    pub projects: Option<ProjectRule>,
}

/// The configured project (`INFISICAL_PROJECT_ID`) and the others the
/// operator named (`INFISICAL_ALLOWED_PROJECTS`).
#[derive(Debug, Clone)]
pub struct ProjectRule {
    pub default: Option<String>,
    pub projects: ProjectScope,
}

impl ProjectRule {
    /// Project ids are compared without case: Infisical's are UUIDs, which
    /// it reads the same in either case, and route segments arrive
    /// lower-cased.
    fn allows(&self, project: &str) -> bool {
        self.projects.any
            || self
                .default
                .iter()
                .chain(&self.projects.also)
                .any(|p| p.eq_ignore_ascii_case(project))
    }

    fn refuse(&self, project: &str) -> ProxyError {
        ProxyError::ProjectRefused {
            project: project
                .chars()
                .take(128)
                .collect::<String>()
                .escape_default()
                .to_string(),
            allowed: self.projects.describe(self.default.as_deref()),
        }
    }
}

/// The query parameters each scoped read may carry: what the vault's routes
/// define (docs/vault-api.md), nothing else. A parameter outside these could
/// change what the vault reads in a way the check did not see.
const SECRET_PARAMS: [&str; 15] = [
    "workspaceId",
    "projectId",
    "environment",
    "secretPath",
    "secretName",
    "type",
    "version",
    "viewSecretValue",
    "expandSecretReferences",
    "include_imports",
    "includeImports",
    "includePersonalOverrides",
    "recursive",
    "tagSlugs",
    "metadataFilter",
];
const FOLDER_PARAMS: [&str; 7] = [
    "workspaceId",
    "projectId",
    "environment",
    "path",
    "directory",
    "recursive",
    "lastSecretModified",
];
const IMPORT_PARAMS: [&str; 4] = ["workspaceId", "projectId", "environment", "path"];
/// The parameters that name the project, in either API generation.
const PROJECT_PARAMS: [&str; 2] = ["workspaceId", "projectId"];

/// Refuses a query holding a parameter `read` does not define, or any
/// parameter more than once (the vault and this check might each pick a
/// different copy).
fn known_params(rule: &ScopeRule, read: ScopedRead, pairs: &[(String, String)]) -> Result<(), ProxyError> {
    let known: &[&str] = match read {
        ScopedRead::Secrets { .. } => &SECRET_PARAMS,
        ScopedRead::Folders => &FOLDER_PARAMS,
        ScopedRead::Imports => &IMPORT_PARAMS,
    };
    for (i, (name, _)) in pairs.iter().enumerate() {
        if !known.contains(&name.as_str()) {
            return Err(refuse(
                rule,
                format!(
                    "the query parameter '{}' is not one this route defines ({}), so what the vault \
                     would read cannot be checked",
                    name.chars().take(64).collect::<String>().escape_default(),
                    known.join(", ")
                ),
            ));
        }
        if pairs[..i].iter().any(|(earlier, _)| earlier == name) {
            return Err(refuse(
                rule,
                format!("the query names {name} more than once, so the scope cannot be checked"),
            ));
        }
    }
    Ok(())
}

/// Refuses a read naming a project other than the configured ones.
fn check_projects(rule: &ScopeRule, pairs: &[(String, String)]) -> Result<(), ProxyError> {
    let Some(projects) = &rule.projects else {
        return Ok(());
    };
    for (_, id) in pairs.iter().filter(|(k, _)| PROJECT_PARAMS.contains(&k.as_str())) {
        if !projects.allows(id) {
            return Err(projects.refuse(id));
        }
    }
    Ok(())
}

fn refuse(rule: &ScopeRule, reason: impl Into<String>) -> ProxyError {
    ProxyError::ScopeRefused {
        reason: reason.into(),
        scope: format!("{} (from {})", rule.scope, rule.source),
    }
}

/// The one value of a query parameter; a repeated parameter is refused,
/// because the vault and this check might each pick a different copy.
fn single<'q>(
    rule: &ScopeRule,
    query: &'q [(String, String)],
    names: &[&str],
) -> Result<Option<&'q str>, ProxyError> {
    let mut found = query
        .iter()
        .filter(|(k, _)| names.contains(&k.as_str()))
        .map(|(_, v)| v.as_str());
    let first = found.next();
    if found.next().is_some() {
        return Err(refuse(
            rule,
            format!(
                "the query names {} more than once, so the scope cannot be checked",
                names.join("/")
            ),
        ));
    }
    Ok(first)
}

/// The secret name of a single-secret route as the vault's router reads it
/// (the last segment, percent-decoded once), held to the client's one rule
/// for names, so that the vault reads the key and route that were checked.
fn check_name_segment(rule: &ScopeRule, path: &str) -> Result<(), ProxyError> {
    // The vault's router ignores one trailing slash but not an empty segment:
    // `/secrets//KEY` is another route to it than to the canonical form.
    let trimmed = path.strip_suffix('/').unwrap_or(path);
    if trimmed.contains("//") {
        return Err(refuse(
            rule,
            "the route has an empty segment ('//'), which the vault reads as another route",
        ));
    }
    let raw = trimmed.rsplit('/').next().unwrap_or("");
    let name = percent_encoding::percent_decode_str(raw).decode_utf8_lossy();
    crate::scope::check_secret_name(&name).map_err(|e| refuse(rule, e.to_string()))
}

/// The scope's verdict on a request already past the write rule, and the
/// plan for what passes.
pub(super) fn check_scope(
    rule: &ScopeRule,
    route: Route,
    segments: &[Cow<'_, str>],
    get: bool,
    reading: bool,
    path: &str,
    query: &str,
) -> Result<Plan, ProxyError> {
    if segments.iter().any(|s| s.contains(';')) {
        return Err(ProxyError::PathRefused(
            "a ';' in the path, which the vault's router may read as the start of parameters".into(),
        ));
    }
    if route.is_auth() && !reading {
        return Ok(Plan::pass(route));
    }
    if !reading {
        return Err(refuse(
            rule,
            "a scoped proxy forwards no writes but login and token renew (their target is in the \
             body, which the scope cannot check)",
        ));
    }
    if route.is_unscoped_read() {
        // `/api/v1/workspace/ID` names a project: another one is refused.
        if let (Route::ProjectMetadata, Some(projects), Some(id)) = (&route, &rule.projects, segments.get(3))
            && !projects.allows(id)
        {
            return Err(projects.refuse(id));
        }
        return Ok(Plan::pass(route));
    }
    let Some(read) = route.scoped_read() else {
        return Err(refuse(
            rule,
            "this route is not on a scoped proxy's allow-list (secret reads on /api/v4/secrets and \
             /api/v3/secrets/raw, folder and secret-import listings, /api/v1/workspace, /api/status); \
             other routes (exports, snapshots, dashboards, service tokens...) can carry values the \
             scope cannot check",
        ));
    };
    let pairs: Vec<(String, String)> = url::form_urlencoded::parse(query.as_bytes())
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect();
    known_params(rule, read, &pairs)?;
    check_projects(rule, &pairs)?;
    let Some(env) = single(rule, &pairs, &["environment"])? else {
        return Err(refuse(
            rule,
            "the request names no environment, so the scope cannot be checked",
        ));
    };
    crate::scope::check_environment(env).map_err(|e| refuse(rule, e.to_string()))?;
    if read == (ScopedRead::Secrets { list: false }) {
        check_name_segment(rule, path)?;
    }
    let (folder, recursive) = match read {
        ScopedRead::Secrets { list } => {
            let recursive = match single(rule, &pairs, &["recursive"])? {
                None | Some("false") => false,
                Some("true") if list => true,
                Some(other) => {
                    return Err(refuse(
                        rule,
                        format!(
                            "recursive={} cannot be checked: send true or false on a listing",
                            other.escape_default()
                        ),
                    ));
                }
            };
            (
                single(rule, &pairs, &["secretPath"])?.unwrap_or("/").to_string(),
                recursive,
            )
        }
        ScopedRead::Folders => {
            if let Some(r) = single(rule, &pairs, &["recursive"])?
                && !matches!(r, "" | "0" | "false")
            {
                return Err(refuse(
                    rule,
                    "recursive folder listings can reach folders outside the scope; \
                         list each folder instead",
                ));
            }
            let raw = single(rule, &pairs, &["path", "directory"])?.unwrap_or("/");
            // The folder routes put a leading slash in front themselves.
            let folder = if raw.starts_with('/') {
                raw.to_string()
            } else {
                format!("/{raw}")
            };
            (folder, false)
        }
        ScopedRead::Imports => (single(rule, &pairs, &["path"])?.unwrap_or("/").to_string(), false),
    };
    let path = SecretPath::parse(&folder).map_err(|e| {
        refuse(
            rule,
            format!("the folder path is not one the scope can judge ({e})"),
        )
    })?;
    let allowed = match read {
        ScopedRead::Secrets { .. } if recursive => {
            rule.scope.allows(env, &path) || rule.scope.leads_into(env, &path)
        }
        ScopedRead::Secrets { .. } | ScopedRead::Imports => rule.scope.allows(env, &path),
        ScopedRead::Folders => rule.scope.allows(env, &path) || rule.scope.leads_into(env, &path),
    };
    if !allowed {
        return Err(refuse(
            rule,
            format!(
                "reading {} in {}:{} is outside the scope",
                match read {
                    ScopedRead::Secrets { .. } => "secrets",
                    ScopedRead::Folders => "folders",
                    ScopedRead::Imports => "secret imports",
                },
                env.escape_default(),
                path
            ),
        ));
    }
    let environment = env.to_string();
    let mut plan = Plan::pass(route);
    match read {
        ScopedRead::Secrets { list } => {
            plan.turned_off = FORCED_OFF
                .iter()
                .copied()
                .filter(|name| pairs.iter().any(|(k, v)| k == name && v != "false"))
                .collect();
            plan.query = Some(forced_query(&pairs));
            if get {
                plan.check = Some(AnswerCheck {
                    environment,
                    folder: path,
                    kind: if list {
                        AnswerKind::SecretList { recursive }
                    } else {
                        AnswerKind::Secret
                    },
                });
            }
        }
        ScopedRead::Folders => {
            // The older build ignores `directory` when `path` is absent and
            // lists the root (recorded on a real server); current builds
            // read both. `path` alone means the checked folder on both.
            plan.query = Some(folder_query(&pairs, &path));
            if get {
                plan.check = Some(AnswerCheck {
                    environment,
                    folder: path,
                    kind: AnswerKind::Folders,
                });
            }
        }
        ScopedRead::Imports => {}
    }
    Ok(plan)
}

/// The checked pairs, re-encoded, with the folder named by `path` only.
fn folder_query(pairs: &[(String, String)], folder: &SecretPath) -> String {
    let mut out = url::form_urlencoded::Serializer::new(String::new());
    for (k, v) in pairs {
        if k != "path" && k != "directory" {
            out.append_pair(k, v);
        }
    }
    out.append_pair("path", folder.as_str());
    out.finish()
}

/// The checked pairs, re-encoded, with imports and expansion forced off.
fn forced_query(pairs: &[(String, String)]) -> String {
    let mut out = url::form_urlencoded::Serializer::new(String::new());
    for (k, v) in pairs {
        if !FORCED_OFF.contains(&k.as_str()) {
            out.append_pair(k, v);
        }
    }
    for name in FORCED_OFF {
        out.append_pair(name, "false");
    }
    out.finish()
}

#[cfg(test)]
mod tests;
