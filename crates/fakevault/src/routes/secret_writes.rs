//! Secret writes (`POST` / `PATCH` / `DELETE` on v3 raw and v4), present so
//! tests can prove what an over-privileged identity could do. The order of
//! checks follows each generation: the older build checks permission first;
//! current Infisical (`secret-v2-bridge-service.ts` updateSecret and
//! deleteSecret) looks the folder and the secret up first, so a missing
//! secret is a 404 even for an identity that could not delete it.

use super::super::data::{Secret, Tag, stable_id};
use super::super::errors::{ApiError, Reply, ok_json};
use super::super::input;
use super::super::permissions::{Ability, Action};
use super::super::{Generation, Shared, write as write_lock};
use super::projects::now_iso;
use super::secret_json::View;
use super::secrets::{ProjectRef, secret_not_found};
use super::{Api, Ctx, authenticate, body_raw_string, body_string, json_body};

pub(super) fn write(shared: &Shared, ctx: &Ctx<'_>, api: Api, name: &str) -> Result<Reply, ApiError> {
    let caller = authenticate(shared, ctx)?;
    let generation = shared.generation;
    let method = ctx.method.clone();
    let action = match method {
        hyper::Method::POST => Action::Create,
        hyper::Method::PATCH => Action::Edit,
        _ => Action::Delete,
    };
    let body = json_body(ctx, generation)?;
    let mut issues = Vec::new();
    let project_key = if api == Api::V4 {
        "projectId"
    } else {
        "workspaceId"
    };
    let project_id = body_string(&body, project_key, false, &mut issues);
    let project_slug = body_string(&body, "projectSlug", false, &mut issues);
    let environment = body_string(&body, "environment", true, &mut issues);
    let path = input::secret_path(body_string(&body, "secretPath", false, &mut issues).as_deref());
    // The 2024 build requires the value on update too.
    let value_required =
        action == Action::Create || (action == Action::Edit && generation == Generation::Legacy);
    let new_value = body_raw_string(&body, "secretValue", value_required, &mut issues);
    let comment = body_string(&body, "secretComment", false, &mut issues);
    let new_name = body_string(&body, "newSecretName", false, &mut issues);
    let tag_ids = tag_ids(&body, &mut issues);
    let (Some(environment), true) = (environment, issues.is_empty()) else {
        return Err(ApiError::validation(generation, issues));
    };

    let mut data = write_lock(&shared.data);
    let project_ref = ProjectRef {
        id: project_id.as_deref(),
        slug: project_slug.as_deref(),
    };
    if !project_ref.given() {
        return Err(ApiError::bad_request(
            "You must provide workspaceSlug or workspaceId",
        ));
    }
    let project_id = project_ref.resolve(&data, generation)?.id.clone();
    let ability = Ability::new(&caller.rules);
    let existence_first = generation == Generation::Current && action != Action::Create;
    let permitted = ability.can(action, &environment, &path);
    if !permitted && !existence_first {
        return Err(ApiError::permission_denied(
            action.as_str(),
            ability.details_for(action),
        ));
    }
    // Tags are looked up before the folder: an unknown id is 404 `Tag not found`.
    let tags = match &tag_ids {
        Some(ids) => Some(resolve_tags(&data, &project_id, ids)?),
        None => None,
    };
    let folder = data
        .project_mut(&project_id)
        .and_then(|p| p.env_mut(&environment))
        .and_then(|e| e.folders.get_mut(&input::folder_key(&path)))
        .ok_or_else(|| match generation {
            Generation::Current => ApiError::not_found(
                "NotFound",
                format!("Folder with path '{path}' in environment with slug '{environment}' not found"),
            ),
            // The 2024 build names the failed operation in `error`.
            Generation::Legacy if action == Action::Create => ApiError::not_found(
                "Create secret",
                "Folder not found for the given environment slug & secret path",
            ),
            Generation::Legacy => ApiError::not_found(
                "NotFound",
                "Folder not found for the given environment slug & secret path",
            ),
        })?;

    if !permitted {
        // Current Infisical: the lookups above and this one come first.
        if folder.secret(name).is_none() {
            return Err(secret_not_found(generation, name));
        }
        return Err(ApiError::permission_denied(
            action.as_str(),
            ability.details_for(action),
        ));
    }

    let now = now_iso();
    let changed = match action {
        Action::Create => {
            if folder.secret(name).is_some() {
                return Err(ApiError::bad_request(match generation {
                    Generation::Current => format!("Secret already exists: {name}"),
                    Generation::Legacy => "Secret already exist".to_owned(),
                }));
            }
            let value = stored_value(new_value.as_deref().unwrap_or(""));
            let entry = Secret {
                id: stable_id(&["secret", &project_id, &environment, &path, name]),
                key: name.to_owned(),
                value: value.clone(),
                comment: comment.unwrap_or_default(),
                version: 1,
                tags: tags.unwrap_or_default(),
                skip_multiline_encoding: false,
                created_at: now.clone(),
                updated_at: now,
                history: vec![(1, value)],
            };
            folder.secrets.push(entry.clone());
            entry
        }
        Action::Edit => {
            if new_name
                .as_deref()
                .is_some_and(|n| n != name && folder.secret(n).is_some())
            {
                return Err(ApiError::bad_request("Secret with the new name already exists"));
            }
            let secret = folder
                .secrets
                .iter_mut()
                .find(|s| s.key == name)
                .ok_or_else(|| secret_not_found(generation, name))?;
            secret.version += 1;
            if let Some(value) = new_value {
                secret.value = stored_value(&value);
            }
            // `tagIds` replaces the set; left out, the tags stay.
            if let Some(tags) = tags {
                secret.tags = tags;
            }
            if let Some(comment) = comment {
                secret.comment = comment;
            }
            if let Some(new_name) = new_name {
                secret.key = new_name;
            }
            secret.updated_at = now;
            secret.history.push((secret.version, secret.value.clone()));
            secret.clone()
        }
        _ => {
            let pos = folder
                .secrets
                .iter()
                .position(|s| s.key == name)
                .ok_or_else(|| secret_not_found(generation, name))?;
            folder.secrets.remove(pos)
        }
    };
    let project = data.project_by_id(&project_id).ok_or_else(ApiError::internal)?;
    let shown_path = (generation == Generation::Current).then_some(path.as_str());
    let mut body = View::new(generation, project).secret(
        &changed,
        &environment,
        shown_path,
        changed.value.clone(),
        false,
    );
    // The 2024 build's write answers carry no tags.
    if generation == Generation::Legacy {
        body = body.without_tags();
    }
    Ok(ok_json(&serde_json::json!({ "secret": body })))
}

/// `tagIds`: absent, or an array of strings.
fn tag_ids(
    body: &serde_json::Map<String, serde_json::Value>,
    issues: &mut Vec<serde_json::Value>,
) -> Option<Vec<String>> {
    match body.get("tagIds") {
        None | Some(serde_json::Value::Null) => None,
        Some(serde_json::Value::Array(items)) if items.iter().all(serde_json::Value::is_string) => Some(
            items
                .iter()
                .filter_map(|i| i.as_str().map(str::to_owned))
                .collect(),
        ),
        Some(other) => {
            let received = if other.is_array() { "array" } else { "other" };
            issues.push(super::super::errors::type_issue("tagIds", "array", received));
            None
        }
    }
}

/// The project's tags with these ids.
fn resolve_tags(
    data: &super::super::VaultData,
    project_id: &str,
    ids: &[String],
) -> Result<Vec<Tag>, ApiError> {
    let project = data.project_by_id(project_id).ok_or_else(ApiError::internal)?;
    let known = || project.tags.iter().map(|t| &t.tag);
    ids.iter()
        .map(|id| {
            known()
                .find(|t| t.id == *id)
                .cloned()
                .ok_or_else(|| ApiError::not_found("NotFound", "Tag not found"))
        })
        .collect()
}

/// `POST /api/v3/secrets/tags/{name}`, the 2024 build's slug-based tag
/// attach of the blind-index (pre-v3) API: a v3 project has no blind index.
pub(super) fn legacy_tag_attach(shared: &Shared, ctx: &Ctx<'_>) -> Result<Reply, ApiError> {
    authenticate(shared, ctx)?;
    Err(ApiError::not_found("Create secret", "Blind index not found"))
}

/// Values are trimmed on write, but one trailing newline survives.
fn stored_value(value: &str) -> String {
    let trimmed = input::js_trim(value);
    if value.ends_with('\n') && !trimmed.is_empty() {
        format!("{trimmed}\n")
    } else {
        trimmed.to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::stored_value;

    #[test]
    fn one_trailing_newline_survives() {
        assert_eq!(stored_value("  v \n"), "v\n");
        assert_eq!(stored_value(" v "), "v");
    }
}
