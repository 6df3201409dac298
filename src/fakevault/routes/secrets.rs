//! Secrets: list and get-by-name on v4 (`projectId`) and v3 raw
//! (`workspaceId|workspaceSlug`), and the writes, with Infisical's permission
//! order (§3): list filters per secret on the current build and 403s on the
//! 2024 one; get checks permission before existence, so a forbidden path
//! never reveals whether a secret exists.

use hyper::StatusCode;
use serde::Serialize;
use serde_json::Value;

use super::super::data::{Environment, Folder, Project, Secret, VaultData};
use super::super::errors::{ApiError, Reply, ok_json};
use super::super::permissions::{Ability, Action};
use super::super::references::{Expander, Forbidden, OnForbidden};
use super::super::{Generation, Shared, read, write as write_lock};
use super::projects::{now_iso, project_not_found};
use super::{Api, Ctx, Query, authenticate, body_raw_string, body_string, json_body};

/// What Infisical puts in `secretValue` when the value is not shown.
const HIDDEN_VALUE: &str = "<hidden-by-infisical>";

pub(super) fn list(shared: &Shared, ctx: &Ctx<'_>, api: Api) -> Result<Reply, ApiError> {
    let caller = authenticate(shared, ctx)?;
    let generation = shared.generation;
    let current = generation == Generation::Current;
    let mut q = Query::new(ctx);
    let project_ref = project_params(&mut q, api);
    let environment = q.string("environment");
    let secret_path = q.string("secretPath");
    // Keys the 2024 build does not know are stripped by zod, not validated.
    let view_value = !current || q.boolean("viewSecretValue", true);
    let expand = q.boolean("expandSecretReferences", false);
    let recursive = q.boolean("recursive", false);
    let snake_imports = q.boolean("include_imports", false);
    let camel_imports = current && q.boolean("includeImports", false);
    if current {
        q.boolean("includePersonalOverrides", false);
    }
    let tag_slugs: Vec<&str> = q
        .string("tagSlugs")
        .map(|t| {
            t.split(',')
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .collect()
        })
        .unwrap_or_default();
    q.string("metadataFilter");
    q.finish(generation)?;

    let (Some(environment), true) = (environment, project_ref.given()) else {
        return Err(ApiError::bad_request("Missing project id or environment"));
    };
    let data = read(&shared.data);
    let project = project_ref.resolve(&data, generation)?;
    let path = secrets_path(secret_path);
    let ability = Ability::new(&caller.rules);
    let view = View::new(generation, project);

    let folder = match generation {
        Generation::Current => {
            if !ability.can_any(Action::DescribeSecret) {
                return Err(describe_denied(&ability));
            }
            match folder_at(project, environment, &path) {
                Some(found) => Some(found),
                None => {
                    return Err(ApiError::not_found(
                        "SecretPathNotFound",
                        format!(
                            "Folder with path '{path}' in environment '{environment}' was not found. Please ensure the environment slug and secret path is correct."
                        ),
                    ));
                }
            }
        }
        Generation::Legacy => {
            let allowed = if recursive {
                ability.can_any_read_legacy()
            } else {
                ability.can_read_legacy(environment, &path)
            };
            if !allowed {
                return Err(ApiError::permission_denied(
                    "read",
                    ability.details_for(Action::Read),
                ));
            }
            if path.contains('*') {
                return Err(ApiError::new(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "InternalServerError",
                    "Find by secret path",
                ));
            }
            // A missing folder inside the scope is an empty list on this build.
            folder_at(project, environment, &path)
        }
    };
    let Some((env, _)) = folder else {
        return Ok(ok_json(&ListBody {
            secrets: Vec::new(),
            imports: Vec::new(),
        }));
    };

    let folders: Vec<(&String, &Folder)> = if recursive {
        env.subtree(&path).collect()
    } else {
        env.folders.get_key_value(&path).into_iter().collect()
    };
    let mut visible: Vec<(&str, &Secret)> = Vec::new();
    for (folder_path, folder) in folders {
        for secret in &folder.secrets {
            if !tag_slugs.is_empty()
                && !secret
                    .tags
                    .iter()
                    .any(|t| tag_slugs.contains(&t.slug.as_str()))
            {
                continue;
            }
            if current {
                if !ability.can(Action::DescribeSecret, environment, folder_path) {
                    continue;
                }
                if view_value && !ability.can(Action::ReadValue, environment, folder_path) {
                    // Fatal in the requested folder, silently dropped below it.
                    if *folder_path == path {
                        return Err(ApiError::permission_denied(
                            "readValue",
                            ability.details_for(Action::ReadValue),
                        ));
                    }
                    continue;
                }
            } else if !ability.can_read_legacy(environment, folder_path) {
                continue;
            }
            visible.push((folder_path, secret));
        }
    }

    let expander = expander(&ability, project, generation, OnForbidden::KeepText);
    let mut secrets = Vec::with_capacity(visible.len());
    let mut refused = Vec::new();
    for (folder_path, secret) in visible {
        let value = shown_value(
            view_value,
            expand,
            &expander,
            secret,
            environment,
            folder_path,
        );
        match value {
            Ok(value) => secrets.push(view.secret(
                secret,
                environment,
                Some(folder_path),
                value,
                !view_value,
            )),
            Err(forbidden) => refused.push(forbidden.message()),
        }
    }
    if !refused.is_empty() {
        return Err(
            ApiError::forbidden("Failed to expand one or more secret references")
                .with_details(Value::from(refused)),
        );
    }

    let imports = if snake_imports || camel_imports {
        let imports = folder_imports(&view, &ability, env, &path, view_value, expand, &expander);
        imports.map_err(|f| {
            ApiError::forbidden("Failed to expand one or more secret references")
                .with_details(Value::from(vec![f.message()]))
        })?
    } else {
        Vec::new()
    };
    Ok(ok_json(&ListBody { secrets, imports }))
}

pub(super) fn get(shared: &Shared, ctx: &Ctx<'_>, api: Api, name: &str) -> Result<Reply, ApiError> {
    let caller = authenticate(shared, ctx)?;
    let generation = shared.generation;
    let current = generation == Generation::Current;
    let mut q = Query::new(ctx);
    let project_ref = project_params(&mut q, api);
    let environment = q.string("environment");
    let secret_path = q.string("secretPath");
    let version = q.number("version");
    let kind = q
        .one_of("type", &["shared", "personal"])
        .unwrap_or("shared");
    let view_value = !current || q.boolean("viewSecretValue", true);
    let expand = q.boolean("expandSecretReferences", false);
    let snake_imports = q.boolean("include_imports", false);
    let camel_imports = current && q.boolean("includeImports", false);
    q.string("secretName");
    q.finish(generation)?;

    let Some(environment) = environment else {
        return Err(ApiError::bad_request("Missing environment"));
    };
    if !project_ref.given() {
        return Err(ApiError::bad_request(match api {
            Api::V4 => "You must provide  workspaceId",
            _ => "You must provide workspaceSlug or workspaceId",
        }));
    }
    let data = read(&shared.data);
    let project = project_ref.resolve(&data, generation)?;
    let path = secrets_path(secret_path);
    let ability = Ability::new(&caller.rules);
    let view = View::new(generation, project);
    let not_found = || secret_not_found(generation, name);

    let (env, folder) = match generation {
        Generation::Current => {
            let found = folder_at(project, environment, &path).ok_or_else(|| {
                ApiError::not_found(
                    "GetSecretByName",
                    format!("Folder with path '{path}' in environment with slug '{environment}' not found"),
                )
            })?;
            if !ability.can(Action::DescribeSecret, environment, &path) {
                return Err(describe_denied(&ability));
            }
            found
        }
        Generation::Legacy => {
            if !ability.can_read_legacy(environment, &path) {
                return Err(ApiError::permission_denied(
                    "read",
                    ability.details_for(Action::Read),
                ));
            }
            folder_at(project, environment, &path).ok_or_else(|| {
                ApiError::not_found(
                    "NotFound",
                    "Folder not found for the given environment slug & secret path",
                )
            })?
        }
    };

    let mut found = (kind == "shared")
        .then(|| folder.secret(name))
        .flatten()
        .map(|s| (environment.to_owned(), path.clone(), s));
    if found.is_none() && (snake_imports || camel_imports) {
        found = find_in_imports(&ability, env, project, &path, name, current);
    }
    let Some((secret_env, secret_path, secret)) = found else {
        return Err(not_found());
    };
    let value = match version {
        Some(v) => secret
            .history
            .iter()
            .find(|(n, _)| *n == v)
            .map(|(_, value)| value.clone())
            .ok_or_else(not_found)?,
        None => secret.value.clone(),
    };
    if current && view_value && !ability.can(Action::ReadValue, &secret_env, &secret_path) {
        return Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "ForbiddenReadSecretError",
            format!("You do not have permission to view secret value on secret with name '{name}'"),
        ));
    }
    let value = if !view_value {
        HIDDEN_VALUE.to_owned()
    } else if expand {
        expander(&ability, project, generation, OnForbidden::Fail)
            .expand(&value, &secret_env, &secret_path)
            .map_err(|f| ApiError::forbidden(f.message()))?
    } else {
        value
    };
    // The 2024 build's single-secret body has no `secretPath`.
    let shown_path = current.then_some(secret_path.as_str());
    let body = view.secret(secret, &secret_env, shown_path, value, !view_value);
    Ok(ok_json(&serde_json::json!({ "secret": body })))
}

pub(super) fn write(
    shared: &Shared,
    ctx: &Ctx<'_>,
    api: Api,
    name: &str,
) -> Result<Reply, ApiError> {
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
    let path = secrets_path(body_string(&body, "secretPath", false, &mut issues).as_deref());
    let new_value = body_raw_string(&body, "secretValue", action == Action::Create, &mut issues);
    let comment = body_string(&body, "secretComment", false, &mut issues);
    let new_name = body_string(&body, "newSecretName", false, &mut issues);
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
    if !ability.can(action, &environment, &path) {
        return Err(ApiError::permission_denied(
            action.as_str(),
            ability.details_for(action),
        ));
    }
    let folder = data
        .project_mut(&project_id)
        .and_then(|p| p.env_mut(&environment))
        .and_then(|e| e.folders.get_mut(&path))
        .ok_or_else(|| match generation {
            Generation::Current => ApiError::not_found(
                "NotFound",
                format!(
                    "Folder with path '{path}' in environment with slug '{environment}' not found"
                ),
            ),
            Generation::Legacy => ApiError::not_found(
                "NotFound",
                "Folder not found for the given environment slug & secret path",
            ),
        })?;

    let now = now_iso();
    let changed = match action {
        Action::Create => {
            if folder.secret(name).is_some() {
                return Err(ApiError::bad_request(format!(
                    "Secret already exists: {name}"
                )));
            }
            let value = stored_value(new_value.as_deref().unwrap_or(""));
            let entry = Secret {
                id: super::super::data::stable_id(&[
                    "secret",
                    &project_id,
                    &environment,
                    &path,
                    name,
                ]),
                key: name.to_owned(),
                value: value.clone(),
                comment: comment.unwrap_or_default(),
                version: 1,
                tags: Vec::new(),
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
                return Err(ApiError::bad_request(
                    "Secret with the new name already exists",
                ));
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
    let project = data
        .project_by_id(&project_id)
        .ok_or_else(ApiError::internal)?;
    let shown_path = (generation == Generation::Current).then_some(path.as_str());
    let body = View::new(generation, project).secret(
        &changed,
        &environment,
        shown_path,
        changed.value.clone(),
        false,
    );
    Ok(ok_json(&serde_json::json!({ "secret": body })))
}

/// The project named by a request: v4 `projectId`, v3 `workspaceId` or
/// `workspaceSlug`.
struct ProjectRef<'a> {
    id: Option<&'a str>,
    slug: Option<&'a str>,
}

impl<'a> ProjectRef<'a> {
    fn given(&self) -> bool {
        self.id.is_some() || self.slug.is_some()
    }

    fn resolve<'d>(
        &self,
        data: &'d VaultData,
        generation: Generation,
    ) -> Result<&'d Project, ApiError> {
        data.project_by_id_or_slug(self.id, self.slug)
            .ok_or_else(|| project_not_found(generation, self.id.or(self.slug).unwrap_or_default()))
    }
}

fn project_params<'a>(q: &mut Query<'a>, api: Api) -> ProjectRef<'a> {
    match api {
        Api::V4 => ProjectRef {
            id: q.string("projectId"),
            slug: None,
        },
        _ => ProjectRef {
            id: q.string("workspaceId"),
            slug: q.string("workspaceSlug"),
        },
    }
}

/// The secrets routes' path handling: trimmed, trailing slashes removed, but
/// no leading slash added (so `app` stays `app` and matches no `/…` glob).
fn secrets_path(raw: Option<&str>) -> String {
    let Some(raw) = raw else {
        return "/".to_owned();
    };
    let trimmed = raw.trim();
    match trimmed.trim_end_matches('/') {
        "" if !trimmed.is_empty() => "/".to_owned(),
        p => p.to_owned(),
    }
}

fn folder_at<'p>(
    project: &'p Project,
    environment: &str,
    path: &str,
) -> Option<(&'p Environment, &'p Folder)> {
    let env = project.env(environment)?;
    env.folders.get(path).map(|f| (env, f))
}

fn describe_denied(ability: &Ability<'_>) -> ApiError {
    ApiError::permission_denied(
        "describeSecret",
        ability.details_for(Action::DescribeSecret),
    )
}

fn secret_not_found(generation: Generation, name: &str) -> ApiError {
    match generation {
        Generation::Current => {
            ApiError::not_found("NotFound", format!("Secret with name '{name}' not found"))
        }
        Generation::Legacy => ApiError::not_found("NotFound", "Secret not found"),
    }
}

/// Values are trimmed on write, but one trailing newline survives.
fn stored_value(value: &str) -> String {
    let trimmed = value.trim();
    if value.ends_with('\n') && !trimmed.is_empty() {
        format!("{trimmed}\n")
    } else {
        trimmed.to_owned()
    }
}

fn expander<'a>(
    ability: &'a Ability<'a>,
    project: &'a Project,
    generation: Generation,
    legacy_mode: OnForbidden,
) -> Expander<'a, impl Fn(&str, &str) -> bool + 'a> {
    let current = generation == Generation::Current;
    Expander {
        project,
        can_read: move |env: &str, path: &str| {
            if current {
                ability.can(Action::DescribeSecret, env, path)
                    && ability.can(Action::ReadValue, env, path)
            } else {
                ability.can_read_legacy(env, path)
            }
        },
        on_forbidden: if current {
            OnForbidden::Fail
        } else {
            legacy_mode
        },
    }
}

fn shown_value<F: Fn(&str, &str) -> bool>(
    view_value: bool,
    expand: bool,
    expander: &Expander<'_, F>,
    secret: &Secret,
    environment: &str,
    path: &str,
) -> Result<String, Forbidden> {
    if !view_value {
        Ok(HIDDEN_VALUE.to_owned())
    } else if expand {
        expander.expand(&secret.value, environment, path)
    } else {
        Ok(secret.value.clone())
    }
}

/// The imports of the requested folder, each reduced to what the caller may
/// see; an import the caller cannot see at all is dropped.
fn folder_imports<'a, F: Fn(&str, &str) -> bool>(
    view: &View<'a>,
    ability: &Ability<'_>,
    env: &'a Environment,
    path: &str,
    view_value: bool,
    expand: bool,
    expander: &Expander<'_, F>,
) -> Result<Vec<ImportJson<'a>>, Forbidden> {
    let current = view.generation == Generation::Current;
    let Some(folder) = env.folders.get(path) else {
        return Ok(Vec::new());
    };
    let mut out = Vec::new();
    for import in &folder.imports {
        let readable = |p: &str| {
            if current {
                ability.can(Action::DescribeSecret, &import.environment, p)
                    && (!view_value || ability.can(Action::ReadValue, &import.environment, p))
            } else {
                ability.can_read_legacy(&import.environment, p)
            }
        };
        let Some((_, source)) = folder_at(view.project, &import.environment, &import.path) else {
            continue;
        };
        if !readable(&import.path) {
            continue;
        }
        let mut secrets = Vec::new();
        for secret in &source.secrets {
            let value = shown_value(
                view_value,
                expand,
                expander,
                secret,
                &import.environment,
                &import.path,
            )?;
            secrets.push(view.imported(secret, &import.environment, value, !view_value));
        }
        out.push(ImportJson {
            secret_path: import.path.clone(),
            environment: import.environment.clone(),
            folder_id: source.id.clone(),
            secrets,
        });
    }
    Ok(out)
}

fn find_in_imports<'p>(
    ability: &Ability<'_>,
    env: &Environment,
    project: &'p Project,
    path: &str,
    name: &str,
    current: bool,
) -> Option<(String, String, &'p Secret)> {
    let folder = env.folders.get(path)?;
    folder.imports.iter().find_map(|import| {
        let allowed = if current {
            ability.can(Action::DescribeSecret, &import.environment, &import.path)
        } else {
            ability.can_read_legacy(&import.environment, &import.path)
        };
        let (_, source) = folder_at(project, &import.environment, &import.path)?;
        let secret = source.secret(name).filter(|_| allowed)?;
        Some((import.environment.clone(), import.path.clone(), secret))
    })
}

/// Renders secrets in the generation's response shape.
struct View<'a> {
    generation: Generation,
    project: &'a Project,
}

impl<'a> View<'a> {
    fn new(generation: Generation, project: &'a Project) -> Self {
        View {
            generation,
            project,
        }
    }

    fn secret<'s>(
        &self,
        secret: &'s Secret,
        environment: &'s str,
        secret_path: Option<&'s str>,
        value: String,
        hidden: bool,
    ) -> SecretJson<'s>
    where
        'a: 's,
    {
        let current = self.generation == Generation::Current;
        SecretJson {
            id: &secret.id,
            underscore_id: &secret.id,
            workspace: &self.project.id,
            environment,
            version: secret.version,
            kind: "shared",
            secret_key: &secret.key,
            secret_value: value,
            secret_comment: &secret.comment,
            secret_reminder_note: None,
            secret_reminder_repeat_days: None,
            skip_multiline_encoding: secret.skip_multiline_encoding,
            created_at: &secret.created_at,
            updated_at: &secret.updated_at,
            is_rotated_secret: current.then_some(false),
            rotation_id: current.then_some(Value::Null),
            secret_path,
            secret_value_hidden: current.then_some(hidden),
            secret_metadata: Vec::new(),
            tags: secret
                .tags
                .iter()
                .map(|t| TagJson {
                    id: &t.id,
                    slug: &t.slug,
                    color: &t.color,
                    name: &t.name,
                })
                .collect(),
        }
    }

    fn imported(
        &self,
        secret: &'a Secret,
        environment: &str,
        value: String,
        hidden: bool,
    ) -> ImportedSecretJson<'a> {
        ImportedSecretJson {
            id: &secret.id,
            underscore_id: &secret.id,
            workspace: &self.project.id,
            environment: environment.to_owned(),
            version: secret.version,
            kind: "shared",
            secret_key: &secret.key,
            secret_value: value,
            secret_comment: &secret.comment,
            secret_value_hidden: (self.generation == Generation::Current).then_some(hidden),
        }
    }
}

#[derive(Serialize)]
struct ListBody<'a> {
    secrets: Vec<SecretJson<'a>>,
    imports: Vec<ImportJson<'a>>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct SecretJson<'a> {
    id: &'a str,
    #[serde(rename = "_id")]
    underscore_id: &'a str,
    workspace: &'a str,
    environment: &'a str,
    version: u32,
    #[serde(rename = "type")]
    kind: &'static str,
    secret_key: &'a str,
    secret_value: String,
    secret_comment: &'a str,
    secret_reminder_note: Option<&'a str>,
    secret_reminder_repeat_days: Option<u32>,
    skip_multiline_encoding: bool,
    created_at: &'a str,
    updated_at: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    is_rotated_secret: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    rotation_id: Option<Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    secret_path: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    secret_value_hidden: Option<bool>,
    secret_metadata: Vec<Value>,
    tags: Vec<TagJson<'a>>,
}

#[derive(Serialize)]
struct TagJson<'a> {
    id: &'a str,
    slug: &'a str,
    color: &'a str,
    name: &'a str,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ImportJson<'a> {
    secret_path: String,
    environment: String,
    folder_id: String,
    secrets: Vec<ImportedSecretJson<'a>>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ImportedSecretJson<'a> {
    id: &'a str,
    #[serde(rename = "_id")]
    underscore_id: &'a str,
    workspace: &'a str,
    environment: String,
    version: u32,
    #[serde(rename = "type")]
    kind: &'static str,
    secret_key: &'a str,
    secret_value: String,
    secret_comment: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    secret_value_hidden: Option<bool>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secret_paths_are_trimmed_not_prefixed() {
        assert_eq!(secrets_path(None), "/");
        assert_eq!(secrets_path(Some("/a/b/")), "/a/b");
        assert_eq!(secrets_path(Some(" /a/b// ")), "/a/b");
        assert_eq!(secrets_path(Some("a")), "a");
        assert_eq!(secrets_path(Some("//")), "/");
        assert_eq!(secrets_path(Some("")), "");
        assert_eq!(stored_value("  v \n"), "v\n");
        assert_eq!(stored_value(" v "), "v");
    }
}
