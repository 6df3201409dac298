//! Folder writes on the v1 route both generations keep: `POST /api/v1/folders`
//! creates missing parents and answers an existing folder with 200 (it is
//! idempotent), and `DELETE /api/v1/folders/{idOrName}` (body names the
//! parent) cascades to everything below; a repeat is 404 "Delete folder"
//! (`shared/real-infisical/` behaviour 13).

use super::super::data::{child_path, normalise_folder_path};
use super::super::errors::{ApiError, Reply, ok_json};
use super::super::permissions::{Ability, Action};
use super::super::{Shared, write};
use super::projects::project_not_found;
use super::{Ctx, authenticate, body_string, json_body};

fn folder_json(id: &str, name: &str, env_id: &str, parent_id: Option<&str>) -> serde_json::Value {
    let now = super::projects::now_iso();
    serde_json::json!({
        "id": id, "name": name, "version": 1, "createdAt": now, "updatedAt": now,
        "envId": env_id, "parentId": parent_id, "isReserved": false,
    })
}

struct Target {
    project_id: String,
    environment: String,
    parent: String,
}

fn target(shared: &Shared, ctx: &Ctx<'_>, name_required: bool) -> Result<(Target, Option<String>), ApiError> {
    let generation = shared.generation;
    let body = json_body(ctx, generation)?;
    let mut issues = Vec::new();
    let project_id = body_string(&body, "workspaceId", true, &mut issues);
    let environment = body_string(&body, "environment", true, &mut issues);
    let name = body_string(&body, "name", name_required, &mut issues);
    let path = body_string(&body, "path", false, &mut issues).unwrap_or_else(|| "/".into());
    let (Some(project_id), Some(environment), true) = (project_id, environment, issues.is_empty()) else {
        return Err(ApiError::validation(generation, issues));
    };
    Ok((
        Target {
            project_id,
            environment,
            parent: normalise_folder_path(&path),
        },
        name,
    ))
}

pub(super) fn create(shared: &Shared, ctx: &Ctx<'_>) -> Result<Reply, ApiError> {
    let caller = authenticate(shared, ctx)?;
    let (t, name) = target(shared, ctx, true)?;
    let name = name.unwrap_or_default();
    if name.is_empty()
        || !name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
    {
        return Err(ApiError::validation(
            shared.generation,
            vec![
                serde_json::json!({"code": "custom", "message": "Folder name can only contain alphanumeric, dashes and underscores", "path": ["name"]}),
            ],
        ));
    }
    let ability = Ability::new(&caller.rules);
    let path = child_path(&t.parent, &name);
    if !ability.can(Action::Create, &t.environment, &t.parent) {
        return Err(ApiError::permission_denied(
            "create",
            ability.details_for(Action::Create),
        ));
    }
    let mut data = write(&shared.data);
    let env_id = data
        .project_by_id(&t.project_id)
        .ok_or_else(|| project_not_found(shared.generation, &t.project_id))?
        .env(&t.environment)
        .map(|e| e.id.clone())
        .ok_or_else(|| {
            ApiError::not_found(
                "NotFound",
                format!("Environment with slug '{}' not found", t.environment),
            )
        })?;
    let taken = std::mem::take(&mut *data);
    *data = taken.folder(&t.project_id, &t.environment, &path);
    let env = data
        .project_by_id(&t.project_id)
        .and_then(|p| p.env(&t.environment))
        .ok_or_else(ApiError::internal)?;
    let folder = env.folders.get(&path).ok_or_else(ApiError::internal)?;
    Ok(ok_json(&serde_json::json!({
        "folder": folder_json(&folder.id, &folder.name, &env_id, folder.parent_id.as_deref())
    })))
}

pub(super) fn delete(shared: &Shared, ctx: &Ctx<'_>, id_or_name: &str) -> Result<Reply, ApiError> {
    let caller = authenticate(shared, ctx)?;
    let (t, _) = target(shared, ctx, false)?;
    let ability = Ability::new(&caller.rules);
    if !ability.can(Action::Delete, &t.environment, &t.parent) {
        return Err(ApiError::permission_denied(
            "delete",
            ability.details_for(Action::Delete),
        ));
    }
    let mut data = write(&shared.data);
    let env = data
        .project_mut(&t.project_id)
        .ok_or_else(|| project_not_found(shared.generation, &t.project_id))?
        .env_mut(&t.environment)
        .ok_or_else(|| ApiError::not_found("Delete folder", "Folder not found"))?;
    let env_id = env.id.clone();
    let found = env
        .children(&t.parent)
        .into_iter()
        .find(|(_, f)| f.id == id_or_name || f.name == id_or_name)
        .map(|(p, f)| (p.clone(), f.id.clone(), f.name.clone(), f.parent_id.clone()));
    let Some((path, id, name, parent_id)) = found else {
        return Err(ApiError::not_found("Delete folder", "Folder not found"));
    };
    let below: Vec<String> = env.subtree(&path).map(|(p, _)| p.clone()).collect();
    for p in below {
        env.folders.remove(&p);
    }
    Ok(ok_json(&serde_json::json!({
        "folder": folder_json(&id, &name, &env_id, parent_id.as_deref())
    })))
}
