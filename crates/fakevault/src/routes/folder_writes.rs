//! Folder by id and folder writes on `/api/v1/folders`, as the recorded 2024
//! build answers them: `GET /{id}` is not path-scoped; `POST` needs `create`
//! on the parent path, creates missing parents and is idempotent; `DELETE
//! /{idOrName}` (body names the parent path) needs `delete` there and takes
//! the folder's subfolders, secrets and imports with it.

use serde_json::{Map, Value};

use super::super::data::{Environment, child_path, normalise_folder_path};
use super::super::errors::{ApiError, Reply, ok_json};
use super::super::permissions::{Ability, Action};
use super::super::{Shared, input, read, write};
use super::folders::folder_json;
use super::{Ctx, authenticate, body_string, json_body};

pub(super) fn get_by_id(shared: &Shared, ctx: &Ctx<'_>, id: &str) -> Result<Reply, ApiError> {
    authenticate(shared, ctx)?;
    let data = read(&shared.data);
    for project in &data.projects {
        for env in &project.environments {
            let Some((path, folder)) = env.folders.iter().find(|(_, f)| f.id == id) else {
                continue;
            };
            let mut json = serde_json::to_value(folder_json(shared.generation, folder, &env.id, None))
                .map_err(|_| ApiError::internal())?;
            if let Value::Object(map) = &mut json {
                map.insert(
                    "environment".to_owned(),
                    serde_json::json!({"envId": env.id, "envName": env.name, "envSlug": env.slug}),
                );
                map.insert("path".to_owned(), Value::from(path.as_str()));
                map.insert("projectId".to_owned(), Value::from(project.id.as_str()));
            }
            return Ok(ok_json(&serde_json::json!({ "folder": json })));
        }
    }
    Err(ApiError::not_found("NotFound", "Folder not found"))
}

/// The fields both writes share: project, environment and (parent) path.
struct Target {
    project_id: String,
    environment: String,
    path: String,
}

fn target(shared: &Shared, ctx: &Ctx<'_>, extra: &[&str]) -> Result<(Target, Map<String, Value>), ApiError> {
    let generation = shared.generation;
    let body = json_body(ctx, generation)?;
    let mut issues = Vec::new();
    // v1 names the project `workspaceId`, v2 `projectId`.
    let project_key = if body.contains_key("projectId") {
        "projectId"
    } else {
        "workspaceId"
    };
    let project_id = body_string(&body, project_key, true, &mut issues);
    let environment = body_string(&body, "environment", true, &mut issues);
    for field in extra {
        body_string(&body, field, true, &mut issues);
    }
    let path = body_string(&body, "path", false, &mut issues)
        .or_else(|| body_string(&body, "directory", false, &mut issues));
    let (Some(project_id), Some(environment), true) = (project_id, environment, issues.is_empty()) else {
        return Err(ApiError::validation(generation, issues));
    };
    let path = normalise_folder_path(path.as_deref().unwrap_or("/"));
    Ok((
        Target {
            project_id,
            environment,
            path,
        },
        body,
    ))
}

fn env_of<'d>(
    data: &'d mut super::super::VaultData,
    shared: &Shared,
    t: &Target,
) -> Result<&'d mut Environment, ApiError> {
    let project = data
        .project_mut(&t.project_id)
        .ok_or_else(|| super::projects::project_not_found(shared.generation, &t.project_id))?;
    project.env_mut(&t.environment).ok_or_else(|| {
        ApiError::not_found(
            "NotFound",
            format!("Environment with slug '{}' not found", t.environment),
        )
    })
}

pub(super) fn create(shared: &Shared, ctx: &Ctx<'_>) -> Result<Reply, ApiError> {
    let caller = authenticate(shared, ctx)?;
    let (t, body) = target(shared, ctx, &["name"])?;
    let name = input::js_trim(body.get("name").and_then(Value::as_str).unwrap_or_default()).to_owned();
    // Infisical's folder-name rule: ASCII letters, digits, `-` and `_`.
    if name.is_empty()
        || !name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
    {
        return Err(ApiError::validation(
            shared.generation,
            vec![serde_json::json!({
                "code": "custom",
                "message": "Folder name can only contain alphanumeric, dashes and underscores",
                "path": ["name"],
            })],
        ));
    }
    let ability = Ability::new(&caller.rules);
    if !ability.can(Action::Create, &t.environment, &t.path) {
        return Err(ApiError::permission_denied(
            "create",
            ability.details_for(Action::Create),
        ));
    }
    let full = child_path(&t.path, &name);
    let mut data = write(&shared.data);
    env_of(&mut data, shared, &t)?;
    // Missing parents are made on the way; an existing folder is answered as is.
    data.folder_mut(&t.project_id, &t.environment, &full);
    let env = env_of(&mut data, shared, &t)?;
    let folder = env.folders.get(&full).ok_or_else(ApiError::internal)?;
    let json = folder_json(shared.generation, folder, &env.id, None);
    Ok(ok_json(&serde_json::json!({ "folder": json })))
}

pub(super) fn delete(shared: &Shared, ctx: &Ctx<'_>, id_or_name: &str) -> Result<Reply, ApiError> {
    let caller = authenticate(shared, ctx)?;
    let (t, _) = target(shared, ctx, &[])?;
    let ability = Ability::new(&caller.rules);
    if !ability.can(Action::Delete, &t.environment, &t.path) {
        return Err(ApiError::permission_denied(
            "delete",
            ability.details_for(Action::Delete),
        ));
    }
    let mut data = write(&shared.data);
    let env = env_of(&mut data, shared, &t)?;
    let found = env
        .children(&t.path)
        .into_iter()
        .find(|(_, f)| f.id == id_or_name || f.name == id_or_name)
        .map(|(p, _)| p.clone());
    let Some(path) = found else {
        return Err(ApiError::not_found("Delete folder", "Folder not found"));
    };
    let subtree: Vec<String> = env.subtree(&path).map(|(p, _)| p.clone()).collect();
    let mut removed = Vec::new();
    for p in subtree {
        if let Some(folder) = env.folders.remove(&p) {
            removed.push((p, folder));
        }
    }
    let (_, folder) = removed
        .into_iter()
        .find(|(p, _)| *p == path)
        .ok_or_else(ApiError::internal)?;
    let json = folder_json(shared.generation, &folder, &env.id, None);
    Ok(ok_json(&serde_json::json!({ "folder": json })))
}
