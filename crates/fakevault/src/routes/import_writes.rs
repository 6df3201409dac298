//! `POST /api/v1/secret-imports`: makes a folder import another folder's
//! secrets. The caller needs `create` on the importing folder's path, and the
//! importing folder must exist.

use serde_json::Value;

use super::super::data::{normalise_folder_path, stable_id};
use super::super::errors::{ApiError, Reply, ok_json};
use super::super::permissions::{Ability, Action};
use super::super::{Shared, write};
use super::projects::{now_iso, project_not_found};
use super::{Ctx, authenticate, body_string, json_body};

pub(super) fn create(shared: &Shared, ctx: &Ctx<'_>) -> Result<Reply, ApiError> {
    let caller = authenticate(shared, ctx)?;
    let generation = shared.generation;
    let body = json_body(ctx, generation)?;
    let mut issues = Vec::new();
    let project_id = body_string(&body, "workspaceId", true, &mut issues);
    let environment = body_string(&body, "environment", true, &mut issues);
    let path = normalise_folder_path(
        body_string(&body, "path", false, &mut issues)
            .as_deref()
            .unwrap_or("/"),
    );
    let import = match body.get("import") {
        Some(Value::Object(import)) => Some(import.clone()),
        _ => {
            issues.push(super::super::errors::type_issue("import", "object", "undefined"));
            None
        }
    };
    let from = import.as_ref().map(|i| {
        (
            body_string(i, "environment", true, &mut issues),
            body_string(i, "path", true, &mut issues),
        )
    });
    let (Some(project_id), Some(environment), Some((Some(from_env), Some(from_path))), true) =
        (project_id, environment, from, issues.is_empty())
    else {
        return Err(ApiError::validation(generation, issues));
    };
    let from_path = normalise_folder_path(&from_path);
    let ability = Ability::new(&caller.rules);
    if !ability.can(Action::Create, &environment, &path) {
        return Err(ApiError::permission_denied(
            "create",
            ability.details_for(Action::Create),
        ));
    }
    let mut data = write(&shared.data);
    let project = data
        .project_by_id(&project_id)
        .ok_or_else(|| project_not_found(generation, &project_id))?;
    let folder_id = project
        .env(&environment)
        .and_then(|e| e.folders.get(&path))
        .map(|f| f.id.clone())
        .ok_or_else(|| ApiError::not_found("NotFound", "Folder not found"))?;
    let source_env = project
        .env(&from_env)
        .map(|e| serde_json::json!({"name": e.name, "slug": e.slug, "id": e.id}))
        .ok_or_else(|| {
            ApiError::not_found(
                "NotFound",
                format!("Environment with slug '{from_env}' not found"),
            )
        })?;
    *data = std::mem::take(&mut *data).import(&project_id, &environment, &path, &from_env, &from_path);
    let position = data
        .project_by_id(&project_id)
        .and_then(|p| p.env(&environment))
        .and_then(|e| e.folders.get(&path))
        .map_or(1, |f| f.imports.len());
    let now = now_iso();
    Ok(ok_json(&serde_json::json!({
        "message": "Successfully created secret import",
        "secretImport": {
            "id": stable_id(&["import", &project_id, &environment, &path, &from_env, &from_path]),
            "version": 1,
            "importPath": from_path,
            "position": position,
            "createdAt": now,
            "updatedAt": now,
            "folderId": folder_id,
            "isReplication": false,
            "isReplicationSuccess": null,
            "replicationStatus": null,
            "lastReplicated": null,
            "isReserved": false,
            "importEnv": source_env,
        }
    })))
}
