//! `GET /api/status` and the projects ("workspace") routes (docs/vault-api.md,
//! "Projects" and "Requests and errors").
//! Every identity is treated as a member of every project.

use hyper::StatusCode;
use serde::Serialize;

use super::super::data::{FIXTURE_TIME, Project};
use super::super::errors::{ApiError, Reply, ok_json};
use super::super::{Generation, Shared, read};
use super::{Ctx, Query, authenticate};

pub(super) fn status(generation: Generation) -> Reply {
    let mut body = serde_json::json!({
        "date": now_iso(),
        "message": "Ok",
        "emailConfigured": false,
        // The recorded 2024 server was invite-only.
        "inviteOnlySignup": generation == Generation::Legacy,
        "redisConfigured": true,
        "secretScanningConfigured": false,
    });
    // Newer builds report this too.
    if generation == Generation::Current {
        body["auditLogStorageDisabled"] = serde_json::Value::Bool(false);
    }
    ok_json(&body)
}

pub(super) fn list(shared: &Shared, ctx: &Ctx<'_>) -> Result<Reply, ApiError> {
    authenticate(shared, ctx)?;
    if shared.generation == Generation::Legacy {
        // The 2024 build does not accept identity tokens on this route.
        return Err(ApiError::new(
            StatusCode::FORBIDDEN,
            &format!("Forbidden access to {}", ctx.path),
            "You are not allowed to access this resource",
        ));
    }
    let mut q = Query::new(ctx);
    let kind = q.one_of(
        "type",
        &[
            "secret-manager",
            "cert-manager",
            "kms",
            "ssh",
            "secret-scanning",
            "pam",
            "all",
        ],
    );
    q.string("includeRoles");
    q.finish(shared.generation)?;
    let data = read(&shared.data);
    let workspaces: Vec<Workspace<'_>> = data
        .projects
        .iter()
        .filter(|_| matches!(kind, None | Some("all" | "secret-manager")))
        .map(|p| Workspace::new(p, Generation::Current))
        .collect();
    Ok(ok_json(&serde_json::json!({ "workspaces": workspaces })))
}

pub(super) fn get(shared: &Shared, ctx: &Ctx<'_>, id: &str) -> Result<Reply, ApiError> {
    authenticate(shared, ctx)?;
    let data = read(&shared.data);
    let project = data
        .project_by_id(id)
        .ok_or_else(|| project_not_found(shared.generation, id))?;
    Ok(ok_json(&serde_json::json!({
        "workspace": Workspace::new(project, shared.generation)
    })))
}

/// `GET /api/v2/workspace/{slug}` of the 2024 build: the bare project.
pub(super) fn get_by_slug(shared: &Shared, ctx: &Ctx<'_>, slug: &str) -> Result<Reply, ApiError> {
    authenticate(shared, ctx)?;
    let data = read(&shared.data);
    let project = data.project_by_id_or_slug(None, Some(slug)).ok_or_else(|| {
        ApiError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "Failed to find project by slug",
            "Something went wrong",
        )
    })?;
    Ok(ok_json(&Workspace::new(project, shared.generation)))
}

pub(crate) fn project_not_found(generation: Generation, id: &str) -> ApiError {
    match generation {
        Generation::Current => ApiError::not_found("NotFound", format!("Project with ID '{id}' not found")),
        Generation::Legacy => ApiError::not_found(
            "NotFound",
            "Project not found during bot lookup. Are you sure you are using the correct project ID?",
        ),
    }
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Workspace<'a> {
    id: &'a str,
    #[serde(rename = "_id")]
    underscore_id: &'a str,
    name: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    description: Option<Option<&'a str>>,
    #[serde(rename = "type", skip_serializing_if = "Option::is_none")]
    kind: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    default_product: Option<&'static str>,
    slug: &'a str,
    auto_capitalization: bool,
    org_id: &'a str,
    created_at: &'static str,
    updated_at: &'static str,
    version: u32,
    upgrade_status: Option<&'static str>,
    pit_version_limit: u32,
    kms_certificate_key_id: Option<&'static str>,
    audit_logs_retention_days: Option<u32>,
    /// Fields the 2024 build does not have.
    #[serde(flatten, skip_serializing_if = "Option::is_none")]
    newer: Option<NewerFields>,
    environments: Vec<EnvironmentRef<'a>>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct NewerFields {
    has_delete_protection: bool,
    secret_sharing: bool,
    show_snapshots_legacy: bool,
    secret_detection_ignore_values: [&'static str; 0],
}

#[derive(Serialize)]
struct EnvironmentRef<'a> {
    name: &'a str,
    slug: &'a str,
    id: &'a str,
}

impl<'a> Workspace<'a> {
    fn new(p: &'a Project, generation: Generation) -> Self {
        let current = generation == Generation::Current;
        Workspace {
            id: &p.id,
            underscore_id: &p.id,
            name: &p.name,
            description: current.then_some(None),
            kind: current.then_some("secret-manager"),
            default_product: current.then_some("secret-manager"),
            slug: &p.slug,
            auto_capitalization: !current,
            org_id: &p.org_id,
            created_at: FIXTURE_TIME,
            updated_at: FIXTURE_TIME,
            version: 3,
            upgrade_status: None,
            pit_version_limit: 10,
            kms_certificate_key_id: None,
            audit_logs_retention_days: None,
            newer: current.then_some(NewerFields {
                has_delete_protection: false,
                secret_sharing: true,
                show_snapshots_legacy: false,
                secret_detection_ignore_values: [],
            }),
            environments: p
                .environments
                .iter()
                .map(|e| EnvironmentRef {
                    name: &e.name,
                    slug: &e.slug,
                    id: &e.id,
                })
                .collect(),
        }
    }
}

/// Now as Infisical formats dates: ISO 8601 with milliseconds, `Z`.
pub(crate) fn now_iso() -> String {
    let format = time::macros::format_description!(
        "[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:3]Z"
    );
    time::OffsetDateTime::now_utc()
        .format(&format)
        .unwrap_or_else(|_| FIXTURE_TIME.to_owned())
}
