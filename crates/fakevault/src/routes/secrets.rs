//! Secrets: list and get-by-name on v4 (`projectId`) and v3 raw
//! (`workspaceId|workspaceSlug`), with Infisical's permission order
//! (docs/vault-api.md, "Secrets"): list filters per secret on the current
//! build and 403s on the 2024 one; get checks permission before existence, so a forbidden path
//! never reveals whether a secret exists.

use hyper::StatusCode;
use serde_json::Value;

use std::collections::HashSet;

use super::super::data::{Environment, Folder, Project, Secret, SecretImport, VaultData};
use super::super::errors::{ApiError, Reply, ok_json};
use super::super::permissions::{Ability, Action};
use super::super::references::{Expander, Forbidden, OnForbidden};
use super::super::{Generation, Shared, input, read};
use super::projects::project_not_found;
use super::secret_json::{ImportJson, ListBody, View};
use super::{Api, Ctx, Query, authenticate};

/// What Infisical puts in `secretValue` when the value is not shown.
const HIDDEN_VALUE: &str = "<hidden-by-infisical>";

pub(super) fn list(shared: &Shared, ctx: &Ctx<'_>, api: Api) -> Result<Reply, ApiError> {
    let caller = authenticate(shared, ctx)?;
    let generation = shared.generation;
    let current = generation == Generation::Current;
    let mut q = Query::new(ctx);
    let project_ref = project_params(&mut q, api);
    let environment = q.string("environment").map(input::name);
    let secret_path = q.string("secretPath");
    // Keys the 2024 build does not know are stripped by zod, not validated.
    let view_value = !current || q.boolean("viewSecretValue", true);
    // v4 expands references and lists imports unless told not to.
    let expand = q.boolean("expandSecretReferences", api == Api::V4);
    let recursive = q.boolean("recursive", false);
    // v4 reads only `includeImports`; v3 only `include_imports`.
    let snake_imports = api != Api::V4 && q.boolean("include_imports", false);
    let camel_imports = api == Api::V4 && q.boolean("includeImports", true);
    if current {
        q.boolean("includePersonalOverrides", false);
    }
    let tag_slugs: Vec<&str> = q
        .string("tagSlugs")
        .map(|t| t.split(',').map(str::trim).filter(|s| !s.is_empty()).collect())
        .unwrap_or_default();
    q.string("metadataFilter");
    q.finish(generation)?;

    let (Some(environment), true) = (environment, project_ref.given()) else {
        return Err(ApiError::bad_request(match generation {
            Generation::Current => "Missing project id or environment",
            Generation::Legacy => "Missing workspace id or environment",
        }));
    };
    let data = read(&shared.data);
    let project = project_ref.resolve(&data, generation)?;
    // Permission checks and the secrets' `secretPath` see the path as read;
    // the folder lookup ignores empty segments.
    let path = input::secret_path(secret_path);
    let key = input::folder_key(&path);
    if current && !input::is_valid_secret_path(&path) {
        return Err(invalid_secret_path());
    }
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
                    "Find by secret path",
                    "Something went wrong",
                ));
            }
            if recursive && project.env(environment).is_none() {
                return Err(ApiError::internal());
            }
            // A missing folder inside the scope is an empty list on this build.
            folder_at(project, environment, &path)
        }
    };
    let Some((env, _)) = folder else {
        return Ok(ok_json(&ListBody {
            secrets: Vec::new(),
            imports: (current || !recursive).then(Vec::new),
        }));
    };

    let folders: Vec<(&String, &Folder)> = if recursive {
        env.subtree(&key).collect()
    } else {
        env.folders.get_key_value(&key).into_iter().collect()
    };
    let mut visible: Vec<(&str, &Secret)> = Vec::new();
    for (folder_key, folder) in folders {
        // The requested folder is known by the path as given.
        let folder_path = if *folder_key == key {
            path.as_str()
        } else {
            folder_key.as_str()
        };
        for secret in &folder.secrets {
            if !tag_slugs.is_empty() && !secret.tags.iter().any(|t| tag_slugs.contains(&t.slug.as_str())) {
                continue;
            }
            if current {
                if !ability.can(Action::DescribeSecret, environment, folder_path) {
                    continue;
                }
                if view_value && !ability.can(Action::ReadValue, environment, folder_path) {
                    // Fatal in the requested folder, silently dropped below it.
                    if *folder_key == key {
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
        let value = shown_value(view_value, expand, &expander, secret, environment, folder_path);
        match value {
            Ok(value) => {
                let json = view.secret(secret, environment, Some(folder_path), value, !view_value);
                secrets.push(if current || tag_slugs.is_empty() {
                    json
                } else {
                    json.narrow_tags(&tag_slugs)
                });
            }
            Err(forbidden) if current => {
                refused.push(forbidden.message_for(&secret.key, environment, folder_path));
            }
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
        // The 2024 build gathers the imports of every visible folder of a
        // recursive listing.
        let importers: Vec<&str> = if recursive && !current {
            env.subtree(&key)
                .filter(|(p, _)| ability.can_read_legacy(environment, p))
                .map(|(p, _)| p.as_str())
                .collect()
        } else {
            vec![key.as_str()]
        };
        let mut all = Vec::new();
        for importer in importers {
            let imports = folder_imports(&view, &ability, env, importer, view_value, expand, &expander);
            all.extend(imports.map_err(|f| {
                ApiError::forbidden("Failed to expand one or more secret references")
                    .with_details(Value::from(vec![f.message()]))
            })?);
        }
        Some(all)
    } else {
        current.then(Vec::new)
    };
    Ok(ok_json(&ListBody { secrets, imports }))
}

pub(super) fn get(shared: &Shared, ctx: &Ctx<'_>, api: Api, name: &str) -> Result<Reply, ApiError> {
    let caller = authenticate(shared, ctx)?;
    let generation = shared.generation;
    let current = generation == Generation::Current;
    let mut q = Query::new(ctx);
    let project_ref = project_params(&mut q, api);
    let environment = q.string("environment").map(input::name);
    let secret_path = q.string("secretPath");
    let version = q.number("version");
    let kind = q.one_of("type", &["shared", "personal"]).unwrap_or("shared");
    let view_value = !current || q.boolean("viewSecretValue", true);
    let expand = q.boolean("expandSecretReferences", api == Api::V4);
    let snake_imports = api != Api::V4 && q.boolean("include_imports", false);
    let camel_imports = api == Api::V4 && q.boolean("includeImports", true);
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
    let path = input::secret_path(secret_path);
    if current && !input::is_valid_secret_path(&path) {
        return Err(invalid_secret_path());
    }
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
            // Sic: this build's get reuses the create path's folder error.
            folder_at(project, environment, &path).ok_or_else(|| {
                ApiError::not_found(
                    "Create secret",
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
    let from_import = secret_env != environment || secret_path != path;
    // The 2024 build ignores `version` here: any number answers the current one.
    let value = match version.filter(|_| current) {
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
            .map_err(|f| {
                ApiError::forbidden(if current {
                    f.message_for(name, &secret_env, &secret_path)
                } else {
                    f.message()
                })
            })?
    } else {
        value
    };
    // The 2024 build's single-secret body has no `secretPath`.
    let shown_path = current.then_some(secret_path.as_str());
    let mut body = view.secret(secret, &secret_env, shown_path, value, !view_value);
    if from_import && !current {
        body = body.without_tags();
    }
    Ok(ok_json(&serde_json::json!({ "secret": body })))
}

/// The project named by a request: v4 `projectId`, v3 `workspaceId` or
/// `workspaceSlug`.
pub(super) struct ProjectRef<'a> {
    pub(super) id: Option<&'a str>,
    pub(super) slug: Option<&'a str>,
}

impl<'a> ProjectRef<'a> {
    pub(super) fn given(&self) -> bool {
        self.id.is_some() || self.slug.is_some()
    }

    pub(super) fn resolve<'d>(
        &self,
        data: &'d VaultData,
        generation: Generation,
    ) -> Result<&'d Project, ApiError> {
        data.project_by_id_or_slug(self.id, self.slug).ok_or_else(|| {
            if generation == Generation::Legacy && self.id.is_none() {
                return ApiError::new(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "Failed to find project by slug",
                    "Something went wrong",
                );
            }
            project_not_found(generation, self.id.or(self.slug).unwrap_or_default())
        })
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

/// The current build's answer to a path [`input::is_valid_secret_path`] refuses.
pub(super) fn invalid_secret_path() -> ApiError {
    ApiError::bad_request(
        "Invalid secret path. Only alphanumeric characters, dashes, and underscores are allowed.",
    )
}

/// The folder a path names, empty segments ignored as the vault's lookup
/// does.
pub(super) fn folder_at<'p>(
    project: &'p Project,
    environment: &str,
    path: &str,
) -> Option<(&'p Environment, &'p Folder)> {
    let env = project.env(environment)?;
    env.folders.get(&input::folder_key(path)).map(|f| (env, f))
}

fn describe_denied(ability: &Ability<'_>) -> ApiError {
    ApiError::permission_denied("describeSecret", ability.details_for(Action::DescribeSecret))
}

pub(super) fn secret_not_found(generation: Generation, name: &str) -> ApiError {
    match generation {
        Generation::Current => {
            ApiError::not_found("NotFound", format!("Secret with name '{name}' not found"))
        }
        Generation::Legacy => ApiError::not_found("NotFound", "Secret not found"),
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
                ability.can(Action::DescribeSecret, env, path) && ability.can(Action::ReadValue, env, path)
            } else {
                ability.can_read_legacy(env, path)
            }
        },
        on_forbidden: if current { OnForbidden::Fail } else { legacy_mode },
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
    let Some(folder) = env.folders.get(&input::folder_key(path)) else {
        return Ok(Vec::new());
    };
    let mut out = Vec::new();
    for (first, source, secrets) in imported_secrets(ability, view.project, folder, current, view_value) {
        let mut shown = Vec::with_capacity(secrets.len());
        // Infisical expands every imported value as if it lived in the
        // first hop's folder, whichever folder of the chain it came from.
        for (secret_env, secret) in secrets {
            let value = shown_value(
                view_value,
                expand,
                expander,
                secret,
                &first.environment,
                &first.path,
            )?;
            shown.push(view.imported(secret, secret_env, value, !view_value));
        }
        out.push(ImportJson {
            secret_path: first.path.clone(),
            environment: first.environment.clone(),
            folder_id: source.id.clone(),
            secrets: shown,
        });
    }
    Ok(out)
}

/// One first-level import, its folder, and every secret it brings in with
/// the environment that secret lives in.
type ImportedSecrets<'p> = (&'p SecretImport, &'p Folder, Vec<(&'p str, &'p Secret)>);

/// How many import hops below a folder Infisical follows.
const IMPORT_LEVEL_BREAK: usize = 10;

/// A folder's imports as Infisical resolves them: each first-level import
/// the caller may read, with the secrets of its folder followed by those of
/// the folders it imports in turn (level by level, each folder once), all
/// labelled with the first hop. The first hop is permission-checked; deeper
/// hops are checked on the current build only — the 2024 build lets a chain
/// of imports reach a folder the caller may not read (docs/vault-api.md).
fn imported_secrets<'p>(
    ability: &Ability<'_>,
    project: &'p Project,
    folder: &'p Folder,
    current: bool,
    view_value: bool,
) -> Vec<ImportedSecrets<'p>> {
    let readable = |environment: &str, path: &str| {
        if current {
            ability.can(Action::DescribeSecret, environment, path)
                && (!view_value || ability.can(Action::ReadValue, environment, path))
        } else {
            ability.can_read_legacy(environment, path)
        }
    };
    let mut seen: HashSet<(&str, &str)> = HashSet::new();
    let mut out = Vec::new();
    for first in &folder.imports {
        let Some((first_env, source)) = folder_at(project, &first.environment, &first.path) else {
            continue;
        };
        if !readable(&first.environment, &first.path) {
            // The current build still lists the import, without its secrets.
            if current {
                out.push((first, source, Vec::new()));
            }
            continue;
        }
        let mut secrets: Vec<(&str, &Secret)> = Vec::new();
        let mut level: Vec<(&Environment, &str, &Folder)> = vec![(first_env, first.path.as_str(), source)];
        let mut depth = 0;
        while !level.is_empty() && depth <= IMPORT_LEVEL_BREAK {
            let mut next = Vec::new();
            for (hop_env, hop_path, hop) in level {
                if !seen.insert((hop_env.slug.as_str(), hop_path)) {
                    continue;
                }
                if depth == 0 || !current || readable(&hop_env.slug, hop_path) {
                    secrets.extend(hop.secrets.iter().map(|s| (hop_env.slug.as_str(), s)));
                }
                for deeper in &hop.imports {
                    if let Some((deeper_env, deeper_folder)) =
                        folder_at(project, &deeper.environment, &deeper.path)
                    {
                        next.push((deeper_env, deeper.path.as_str(), deeper_folder));
                    }
                }
            }
            level = next;
            depth += 1;
        }
        out.push((first, source, secrets));
    }
    out
}

/// Get-by-name through imports: the last import first, and in each the
/// first secret of that name; answered as living in the first hop.
fn find_in_imports<'p>(
    ability: &Ability<'_>,
    env: &'p Environment,
    project: &'p Project,
    path: &str,
    name: &str,
    current: bool,
) -> Option<(String, String, &'p Secret)> {
    let folder = env.folders.get(&input::folder_key(path))?;
    imported_secrets(ability, project, folder, current, false)
        .into_iter()
        .rev()
        .find_map(|(first, _, secrets)| {
            let (_, secret) = secrets.into_iter().find(|(_, s)| s.key == name)?;
            Some((first.environment.clone(), first.path.clone(), secret))
        })
}
