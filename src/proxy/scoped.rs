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
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;
    use crate::proxy::policy::Policy;
    use hyper::{Method, Uri};

    fn policy(scope: Option<&str>) -> Policy {
        Policy {
            scope: scope.map(|s| ScopeRule {
                scope: Scope::parse_list(&[s.to_string()]).unwrap(),
                source: "--scope".into(),
                projects: None,
            }),
            ..Policy::default()
        }
    }

    fn check(p: &Policy, method: Method, target: &str) -> Result<Plan, ProxyError> {
        p.check_request(&method, &target.parse::<Uri>().unwrap())
    }

    #[test]
    fn scope_applies_to_every_secret_read_route() {
        let p = policy(Some("prod:/MooseQuest/**"));
        for t in [
            "/api/v4/secrets?projectId=p&environment=prod&secretPath=/MooseQuest",
            "/api/v4/secrets/KEY?projectId=p&environment=prod&secretPath=/MooseQuest/a/",
            "/api/v3/secrets/raw?workspaceId=p&environment=prod&secretPath=%2FMooseQuest%2Fb",
            "/api/v3/secrets/raw/KEY?workspaceId=p&environment=prod&secretPath=/MooseQuest&recursive=false",
            "/api/v3/secrets/raw?workspaceId=p&environment=prod&secretPath=/MooseQuest&recursive=true",
            "/api/v3/secrets/raw?workspaceId=p&environment=prod&secretPath=/&recursive=true",
            "/api/v1/folders?workspaceId=p&environment=prod&directory=/",
            "/api/v2/folders?projectId=p&environment=prod&path=MooseQuest",
            "/api/v1/secret-imports?workspaceId=p&environment=prod&path=/MooseQuest/a",
            "/api/status",
            "/api/v1/workspace",
            "/api/v1/workspace/p",
        ] {
            assert!(check(&p, Method::GET, t).is_ok(), "{t}");
        }
        for t in [
            "/api/v4/secrets?projectId=p&environment=prod&secretPath=/other",
            "/api/v4/secrets?projectId=p&environment=dev&secretPath=/MooseQuest",
            "/api/v4/secrets?projectId=p&environment=prod",
            "/api/v4/secrets/KEY?projectId=p&secretPath=/MooseQuest",
            "/api/v3/secrets/raw/KEY?workspaceId=p&environment=prod&secretPath=/MooseQuest/cloudflare/../../x",
            "/api/v3/secrets/raw?workspaceId=p&environment=prod&secretPath=/MooseQuest&secretPath=/x",
            "/api/v3/secrets/raw?workspaceId=p&environment=prod&secretPath=/other&recursive=true",
            "/api/v3/secrets/raw?workspaceId=p&environment=prod&secretPath=/MooseQuest&recursive=1",
            "/api/v3/secrets/raw/KEY?workspaceId=p&environment=prod&secretPath=/MooseQuest&recursive=true",
            "/API/V4/SECRETS?projectId=p&environment=prod&secretPath=/x",
            "/api//v4/%73ecrets?projectId=p&environment=prod&secretPath=/x",
            "/api/v3/secrets/raw/id/abc",
            "/api/v3/secrets?workspaceId=p&environment=prod&secretPath=/MooseQuest",
            "/api/v1/secret-imports/secrets?workspaceId=p&environment=prod&path=/MooseQuest",
            "/api/v1/secret-imports?workspaceId=p&environment=prod&path=/other",
            "/api/v1/dashboard/secrets-overview",
            "/api/v1/folders?workspaceId=p&environment=prod&directory=/other",
            "/api/v1/folders?workspaceId=p&environment=prod&directory=/&recursive=true",
            "/api/v1/folders?workspaceId=p&environment=prod&directory=/MooseQuest&path=/",
            // Unknown routes: an allow-list, not a name heuristic.
            "/api/v1/workspace/p/secret-snapshots",
            "/api/v1/workspace/p/export",
            "/api/v2/service-token",
            "/api/v1/identities",
            "/api/v3/export",
            "/",
        ] {
            let e = check(&p, Method::GET, t).unwrap_err();
            assert_eq!(e.code(), "ProxyScopeRefused", "{t}");
            assert!(e.to_string().contains("prod:/MooseQuest/**"), "{e}");
        }
        let open = Policy {
            allow_writes: true,
            ..p.clone()
        };
        for t in [
            "/api/v3/secrets/raw/X",
            "/api/v1/folders",
            "/api/v1/auth/token/revoke",
        ] {
            assert_eq!(
                check(&open, Method::POST, t).unwrap_err().code(),
                "ProxyScopeRefused",
                "{t}"
            );
        }
        assert!(check(&open, Method::POST, "/api/v1/auth/universal-auth/login").is_ok());
    }

    #[test]
    fn scoped_secret_reads_turn_imports_and_expansion_off() {
        let p = policy(Some("dev:/agents/warden/**"));
        let plan = check(
            &p,
            Method::GET,
            "/api/v4/secrets/K?projectId=p&environment=dev&secretPath=/agents/warden&expandSecretReferences=true&includeImports=true&include_imports=false",
        )
        .unwrap();
        let query = plan.query.unwrap();
        let pairs: Vec<(String, String)> = url::form_urlencoded::parse(query.as_bytes())
            .into_owned()
            .collect();
        let get = |k: &str| {
            pairs
                .iter()
                .filter(|(n, _)| n == k)
                .map(|(_, v)| v.as_str())
                .collect::<Vec<_>>()
        };
        assert_eq!(get("expandSecretReferences"), ["false"]);
        assert_eq!(get("includeImports"), ["false"]);
        assert_eq!(get("include_imports"), ["false"]);
        assert_eq!(get("secretPath"), ["/agents/warden"]);
        assert_eq!(get("projectId"), ["p"]);
        assert_eq!(plan.turned_off, ["expandSecretReferences", "includeImports"]);
        let check_of = plan.check.unwrap();
        assert_eq!(check_of.kind, AnswerKind::Secret);
        assert_eq!(check_of.environment, "dev");

        let plan = check(
            &p,
            Method::GET,
            "/api/v3/secrets/raw?workspaceId=p&environment=dev&secretPath=/agents&recursive=true",
        )
        .unwrap();
        assert_eq!(
            plan.check.unwrap().kind,
            AnswerKind::SecretList { recursive: true }
        );
        // HEAD carries no body to check, but the vault still gets the flags off.
        let plan = check(
            &p,
            Method::HEAD,
            "/api/v3/secrets/raw/K?workspaceId=p&environment=dev&secretPath=/agents/warden",
        )
        .unwrap();
        assert!(plan.check.is_none() && plan.query.unwrap().contains("include_imports=false"));
        // The CLI's folder spelling becomes `path`, read the same by every build.
        let plan = check(
            &p,
            Method::GET,
            "/api/v1/folders?workspaceId=p&environment=dev&directory=/agents",
        )
        .unwrap();
        assert_eq!(
            plan.query.unwrap(),
            "workspaceId=p&environment=dev&path=%2Fagents"
        );
        // Without a scope, nothing is rewritten or held.
        let plan = check(&policy(None), Method::GET, "/api/v4/secrets?includeImports=true").unwrap();
        assert!(plan.query.is_none() && plan.check.is_none());
    }

    #[test]
    fn only_the_parameters_a_route_defines_pass_each_once() {
        let p = policy(Some("dev:/agents/warden/**"));
        for t in [
            // A case variant the check would not read as the flag.
            "/api/v4/secrets/K?projectId=p&environment=dev&secretPath=/agents/warden&INCLUDE_IMPORTS=true",
            // The older build's project slug: a project the check cannot compare.
            "/api/v3/secrets/raw?workspaceSlug=other&environment=dev&secretPath=/agents/warden",
            "/api/v3/secrets/raw?workspaceId=p&environment=dev&secretPath=/agents/warden&secretPath%5B%5D=/x",
            "/api/v4/secrets?projectId=p&environment=dev&secretPath=/agents/warden&type=shared&type=personal",
            "/api/v4/secrets?projectId=p&projectId=q&environment=dev&secretPath=/agents/warden",
            "/api/v1/folders?workspaceId=p&environment=dev&directory=/agents&secretPath=/x",
            "/api/v1/secret-imports?workspaceId=p&environment=dev&path=/agents/warden&recursive=true",
        ] {
            let e = check(&p, Method::GET, t).unwrap_err();
            assert_eq!(e.code(), "ProxyScopeRefused", "{t}");
        }
        // What the CLI, the SDKs and the official MCP server send.
        for t in [
            "/api/v4/secrets?projectId=p&environment=dev&secretPath=/agents/warden&includeImports=true&recursive=false&expandSecretReferences=true&includePersonalOverrides=true&tagSlugs=a,b",
            "/api/v4/secrets/K?expandSecretReferences=true&includeImports=true&environment=dev&secretPath=/agents/warden&projectId=p&type=shared",
            "/api/v3/secrets/raw/K?secretName=K&workspaceId=p&environment=dev&expandSecretReferences=true&includeImports=true&secretPath=/agents/warden&viewSecretValue=true&version=2",
            "/api/v3/secrets/raw?workspaceId=p&environment=dev&secretPath=/agents/warden&metadataFilter=key%3Da",
            "/api/v1/folders?environment=dev&workspaceId=p&directory=/agents",
            "/api/v2/folders?projectId=p&environment=dev&path=/agents&recursive=false&lastSecretModified=2026-01-01T00:00:00Z",
        ] {
            assert!(check(&p, Method::GET, t).is_ok(), "{t}");
        }
    }

    #[test]
    fn a_semicolon_in_a_scoped_path_is_refused() {
        let p = policy(Some("dev:/agents/warden/**"));
        for t in [
            "/api/v4/secrets/K;secretPath=/x?projectId=p&environment=dev&secretPath=/agents/warden",
            "/api/v4/secrets;x?projectId=p&environment=dev&secretPath=/agents/warden",
            "/api/v3/secrets/raw/K%3B?workspaceId=p&environment=dev&secretPath=/agents/warden",
            "/api/status;x",
        ] {
            let e = check(&p, Method::GET, t).unwrap_err();
            assert_eq!(e.code(), "ProxyPathRefused", "{t}");
        }
        // Without a scope the proxy does not judge paths.
        assert!(check(&policy(None), Method::GET, "/api/v4/secrets/K;x").is_ok());
    }

    fn with_projects(default: Option<&str>, also: &[&str]) -> Policy {
        let mut p = policy(Some("dev:/agents/warden/**"));
        if let Some(rule) = p.scope.as_mut() {
            rule.projects = Some(ProjectRule {
                default: default.map(str::to_string),
                projects: ProjectScope {
                    also: also.iter().map(|s| s.to_string()).collect(),
                    ..ProjectScope::default()
                },
            });
        }
        p
    }

    #[test]
    fn another_project_is_refused_when_the_configured_one_is_known() {
        let p = with_projects(Some("proj-a"), &["proj-b"]);
        for t in [
            "/api/v4/secrets/K?projectId=proj-a&environment=dev&secretPath=/agents/warden",
            "/api/v3/secrets/raw?workspaceId=PROJ-B&environment=dev&secretPath=/agents/warden",
            "/api/v1/folders?workspaceId=proj-a&environment=dev&directory=/agents",
            "/api/v1/secret-imports?workspaceId=proj-b&environment=dev&path=/agents/warden",
            "/api/v1/workspace/proj-a",
            "/api/v1/workspace",
        ] {
            assert!(check(&p, Method::GET, t).is_ok(), "{t}");
        }
        for t in [
            "/api/v4/secrets/K?projectId=proj-c&environment=dev&secretPath=/agents/warden",
            "/api/v4/secrets?projectId=proj-c&environment=dev&secretPath=/agents/warden",
            "/api/v3/secrets/raw/K?workspaceId=proj-c&environment=dev&secretPath=/agents/warden",
            "/api/v2/folders?projectId=proj-c&environment=dev&path=/agents",
            "/api/v1/secret-imports?workspaceId=proj-c&environment=dev&path=/agents/warden",
            "/api/v1/workspace/proj-c",
        ] {
            let e = check(&p, Method::GET, t).unwrap_err();
            assert_eq!(e.code(), "ProxyProjectRefused", "{t}");
            assert!(e.to_string().contains("proj-a (default), proj-b"), "{e}");
            assert!(e.to_string().contains("INFISICAL_ALLOWED_PROJECTS"), "{e}");
        }
        // Unknown configured project: the identity's memberships decide.
        let open = policy(Some("dev:/agents/warden/**"));
        assert!(
            check(
                &open,
                Method::GET,
                "/api/v4/secrets/K?projectId=proj-c&environment=dev&secretPath=/agents/warden"
            )
            .is_ok()
        );
    }
}
