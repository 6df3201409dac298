//! Folder listing: current `GET /api/v2/folders` (`projectId`) and deprecated
//! `GET /api/v1/folders` (`workspaceId`, `directory` alias) (docs/vault-api.md, "Folders"). Infisical
//! does not permission-check folder names at all, so neither does this.

use serde::Serialize;

use super::super::data::{FIXTURE_TIME, Folder, normalise_folder_path};
use super::super::errors::{ApiError, Reply, ok_json};
use super::super::{Generation, Shared, input, read};
use super::projects::project_not_found;
use super::{Api, Ctx, Query, authenticate};

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct FolderJson<'a> {
    id: &'a str,
    name: &'a str,
    version: u32,
    created_at: &'static str,
    updated_at: &'static str,
    env_id: &'a str,
    parent_id: Option<&'a str>,
    is_reserved: bool,
    /// Not in the 2024 build.
    #[serde(skip_serializing_if = "Option::is_none")]
    description: Option<Option<&'a str>>,
    /// Not in the 2024 build.
    #[serde(skip_serializing_if = "Option::is_none")]
    last_secret_modified: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    relative_path: Option<String>,
}

pub(super) fn list(shared: &Shared, ctx: &Ctx<'_>, api: Api) -> Result<Reply, ApiError> {
    authenticate(shared, ctx)?;
    let generation = shared.generation;
    let mut q = Query::new(ctx);
    let project_id = q.required(if api == Api::V2 {
        "projectId"
    } else {
        "workspaceId"
    });
    let environment = q.required("environment").map(input::name);
    let path = q.string("path");
    let directory = if api == Api::V1 {
        q.string("directory")
    } else {
        None
    };
    // The 2024 build has no recursive folder listing; the key is stripped.
    let recursive = generation == Generation::Current && q.loose_boolean("recursive");
    q.string("lastSecretModified");
    q.finish(generation)?;
    let (Some(project_id), Some(environment)) = (project_id, environment) else {
        return Err(ApiError::internal());
    };
    // The 2024 build defaults `path` to "/" before it looks at `directory`.
    let path = match generation {
        Generation::Legacy => path.unwrap_or("/"),
        Generation::Current => path.or(directory).unwrap_or("/"),
    };
    let path = normalise_folder_path(path);

    let data = read(&shared.data);
    let project = data
        .project_by_id(project_id)
        .ok_or_else(|| project_not_found(generation, project_id))?;
    let env = project.env(environment).ok_or_else(|| {
        ApiError::not_found(
            "NotFound",
            format!("Environment with slug '{environment}' not found"),
        )
    })?;

    let to_json = |folder, relative_path| folder_json(generation, folder, &env.id, relative_path);
    let folders: Vec<FolderJson<'_>> = if !env.folders.contains_key(&path) {
        Vec::new()
    } else if recursive {
        let prefix_len = if path == "/" { 0 } else { path.len() };
        env.subtree(&path)
            .filter(|(p, _)| **p != path)
            .map(|(p, f)| to_json(f, Some(p[prefix_len..].to_owned())))
            .collect()
    } else {
        env.children(&path)
            .into_iter()
            .map(|(_, f)| to_json(f, None))
            .collect()
    };
    Ok(ok_json(&serde_json::json!({ "folders": folders })))
}

pub(super) fn folder_json<'a>(
    generation: Generation,
    folder: &'a Folder,
    env_id: &'a str,
    relative_path: Option<String>,
) -> FolderJson<'a> {
    let current = generation == Generation::Current;
    FolderJson {
        id: &folder.id,
        name: &folder.name,
        version: 1,
        created_at: FIXTURE_TIME,
        updated_at: FIXTURE_TIME,
        env_id,
        parent_id: folder.parent_id.as_deref(),
        is_reserved: false,
        description: current.then_some(None),
        last_secret_modified: current.then_some(FIXTURE_TIME),
        relative_path,
    }
}
