//! The tests of `scoped`, apart so that the module reads as one concept.

#![allow(clippy::unwrap_used, clippy::expect_used)]
use super::*;
use crate::agent::proxy::policy::Policy;
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
