//! `GET /api/v2/secret-imports` (`projectId`, current builds) and
//! `GET /api/v1/secret-imports` (`workspaceId`, both): a folder's imports in
//! position order. Reading them needs read access to the folder itself.

use serde_json::{Value, json};

use super::super::data::FIXTURE_TIME;
use super::super::errors::{ApiError, Reply, ok_json};
use super::super::permissions::{Ability, Action};
use super::super::{Generation, Shared, input, read};
use super::secrets::folder_at;
use super::{Api, Ctx, Query, authenticate};

pub(super) fn list(shared: &Shared, ctx: &Ctx<'_>, api: Api) -> Result<Reply, ApiError> {
    let caller = authenticate(shared, ctx)?;
    let generation = shared.generation;
    let mut q = Query::new(ctx);
    let project_id = q.required(if api == Api::V2 {
        "projectId"
    } else {
        "workspaceId"
    });
    let environment = q.required("environment").map(input::name);
    let raw_path = q.string("path");
    q.finish(generation)?;
    let (Some(environment), Some(project_id)) = (environment, project_id) else {
        return Err(ApiError::bad_request("Missing project id or environment"));
    };
    let path = input::secret_path(raw_path);

    let data = read(&shared.data);
    let project = data
        .project_by_id(project_id)
        .ok_or_else(|| super::projects::project_not_found(generation, project_id))?;
    let ability = Ability::new(&caller.rules);
    let allowed = match generation {
        Generation::Current => ability.can(Action::DescribeSecret, environment, &path),
        Generation::Legacy => ability.can_read_legacy(environment, &path),
    };
    if !allowed {
        return Err(ApiError::permission_denied(
            "read",
            ability.details_for(Action::Read),
        ));
    }
    let Some((_, folder)) = folder_at(project, environment, &path) else {
        return Err(ApiError::not_found("NotFound", "Folder not found"));
    };
    let imports: Vec<Value> = folder
        .imports
        .iter()
        .enumerate()
        .map(|(i, import)| {
            let source_env = project.env(&import.environment);
            json!({
                "id": super::super::data::stable_id(&["import", &folder.id, &import.environment, &import.path]),
                "version": 1,
                "importPath": import.path,
                "position": i + 1,
                "createdAt": FIXTURE_TIME,
                "updatedAt": FIXTURE_TIME,
                "folderId": folder.id,
                "isReplication": false,
                "isReplicationSuccess": null,
                "replicationStatus": null,
                "lastReplicated": null,
                "isReserved": false,
                "importEnv": {
                    "name": source_env.map_or(import.environment.as_str(), |e| e.name.as_str()),
                    "slug": import.environment,
                    "id": source_env.map_or("", |e| e.id.as_str()),
                },
            })
        })
        .collect();
    Ok(ok_json(&json!({
        "message": "Successfully fetched secret imports",
        "secretImports": imports,
    })))
}
