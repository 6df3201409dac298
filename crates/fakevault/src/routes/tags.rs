//! The project tag routes, as the 2024 build answers them
//! (docs/vault-api.md, "Tags"): `GET /api/v1/workspace/{id}/tags` lists the
//! project's tags and `POST` creates one from `{slug, color}`. The slug is
//! lower-cased, then anything but `a-z`, `0-9` and `-` is refused, which is
//! why the taxonomy's `function:dns-edit` can only exist as
//! `function-dns-edit`. Listing needs `read` on `tags`, which an agent
//! identity lacks even though it sees the tags inside the secrets it reads.

use hyper::StatusCode;
use serde::Serialize;
use serde_json::Value;

use super::super::data::{ProjectTag, Tag, stable_id};
use super::super::errors::{ApiError, Reply, ok_json};
use super::super::permissions::Action;
use super::super::{Shared, read, write};
use super::projects::{now_iso, project_not_found};
use super::{Caller, Ctx, authenticate, body_string, json_body};

const INVALID_SLUG: &str = "Invalid slug. Slug can only contain alphanumeric characters and hyphens.";

pub(super) fn list(shared: &Shared, ctx: &Ctx<'_>, project_id: &str) -> Result<Reply, ApiError> {
    let caller = authenticate(shared, ctx)?;
    let data = read(&shared.data);
    let project = data
        .project_by_id(project_id)
        .ok_or_else(|| project_not_found(shared.generation, project_id))?;
    require(&caller, Action::Read)?;
    let tags: Vec<TagJson<'_>> = project
        .tags
        .iter()
        .map(|t| TagJson::new(t, &project.id))
        .collect();
    Ok(ok_json(&WorkspaceTags { workspace_tags: tags }))
}

pub(super) fn create(shared: &Shared, ctx: &Ctx<'_>, project_id: &str) -> Result<Reply, ApiError> {
    let caller = authenticate(shared, ctx)?;
    let generation = shared.generation;
    let body = json_body(ctx, generation)?;
    let mut issues = Vec::new();
    // zod: trim, lower-case, then the slug rule; `name` is not a field here.
    let slug = body_string(&body, "slug", true, &mut issues).map(|s| s.to_lowercase());
    if let Some(slug) = &slug
        && !is_slug(slug)
    {
        issues.push(custom_issue("slug", INVALID_SLUG));
    }
    let color = body_string(&body, "color", true, &mut issues);
    let (Some(slug), Some(color), true) = (slug, color, issues.is_empty()) else {
        return Err(ApiError::validation(generation, issues));
    };

    let mut data = write(&shared.data);
    let project = data
        .project_mut(project_id)
        .ok_or_else(|| project_not_found(generation, project_id))?;
    require(&caller, Action::Create)?;
    if project.tags.iter().any(|t| t.tag.slug == slug) {
        return Err(ApiError::bad_request("Tag already exist"));
    }
    let now = now_iso();
    project.tags.push(ProjectTag {
        tag: Tag {
            id: stable_id(&["tag", &project.id, &slug, &now]),
            name: slug.clone(),
            slug,
            color,
        },
        created_at: now,
        created_by: stable_id(&["identity", &caller.client_id]),
        created_by_actor_type: "identity",
    });
    let created = project.tags.last().map(|t| TagJson::new(t, &project.id));
    Ok(ok_json(&WorkspaceTag {
        workspace_tag: created,
    }))
}

/// The recorded slug rule: after lower-casing, only `a-z`, `0-9` and `-`.
fn is_slug(slug: &str) -> bool {
    slug.bytes()
        .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
}

fn require(caller: &Caller, action: Action) -> Result<(), ApiError> {
    if caller.tag_actions.contains(&action) {
        Ok(())
    } else {
        Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "PermissionDenied",
            format!("You are not allowed to {} on tags", action.as_str()),
        ))
    }
}

fn custom_issue(field: &str, message: &str) -> Value {
    #[derive(Serialize)]
    struct Custom<'a> {
        code: &'static str,
        message: &'a str,
        path: [&'a str; 1],
    }
    serde_json::to_value(Custom {
        code: "custom",
        message,
        path: [field],
    })
    .unwrap_or_default()
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct WorkspaceTags<'a> {
    workspace_tags: Vec<TagJson<'a>>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct WorkspaceTag<'a> {
    workspace_tag: Option<TagJson<'a>>,
}

/// A tag row with the keys, in their order, of the recorded list and create
/// answers (no `name` there, unlike the tags inside secrets).
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct TagJson<'a> {
    id: &'a str,
    slug: &'a str,
    color: &'a str,
    created_at: &'a str,
    updated_at: &'a str,
    created_by: &'a str,
    project_id: &'a str,
    created_by_actor_type: &'a str,
}

impl<'a> TagJson<'a> {
    fn new(t: &'a ProjectTag, project_id: &'a str) -> Self {
        TagJson {
            id: &t.tag.id,
            slug: &t.tag.slug,
            color: &t.tag.color,
            created_at: &t.created_at,
            updated_at: &t.created_at,
            created_by: &t.created_by,
            project_id,
            created_by_actor_type: t.created_by_actor_type,
        }
    }
}
