//! What each tool does: resolve the arguments against the defaults and
//! check the scope before anything leaves the machine (`place.rs`), call the
//! vault, filter what comes back to the scope, and shape the result.

use std::collections::{BTreeMap, VecDeque};

use secrecy::{ExposeSecret, SecretString};

use super::checks::{check_secret_name, near_misses};
use super::companions::{Found, companions_of, split_companions, tag_labels, unread_companions};
use super::error::ToolError;
use super::guidance;
use super::resolve::{self, ReferenceReads};
use super::tools::{
    FolderAccess, FolderListOutput, FolderSummary, GetSecretArgs, ListFoldersArgs, ListSecretsArgs, Metadata,
    SecretListOutput, SecretOutput, SecretSummary,
};
use crate::audit::Target;
use crate::config::Defaults;
use crate::scope::{Scope, SecretPath};
use crate::taxonomy;
use crate::vault::{ListOptions, Location, SecretList, Served, VaultClient, VaultError};

const DEFAULT_PAGE: usize = 100;
const MAX_PAGE: usize = 500;
/// A recursive folder walk makes one request per folder; this keeps it well
/// under an unlicensed vault's per-minute limit.
const MAX_FOLDER_REQUESTS: usize = 40;
const MAX_FOLDERS: usize = 1000;

/// Everything a tool call needs, shared by all calls.
pub struct Context {
    pub vault: VaultClient,
    pub defaults: Defaults,
    pub scope: Scope,
    pub list_values: bool,
    /// How close an `__EXPIRES_AT` makes a secret "expiring".
    pub expiry_warning: std::time::Duration,
}

impl Context {
    /// What companions and tags say about a secret. `show_values` governs the
    /// `__CLIENT_ID` companion, which is a value like any other; expiry and
    /// scopes are metadata and always shown.
    fn metadata(
        &self,
        companions: Option<&Vec<(String, SecretString)>>,
        tags: &[String],
        show_values: bool,
    ) -> Metadata {
        let companion = |suffix: &str| {
            companions
                .and_then(|c| c.iter().find(|(s, _)| s == suffix))
                .map(|(_, v)| v.expose_secret().trim().to_string())
                .filter(|v| !v.is_empty())
        };
        let expires_at = companion(taxonomy::EXPIRES_AT);
        Metadata {
            expiry_status: taxonomy::expiry_status(
                expires_at.as_deref(),
                time::OffsetDateTime::now_utc(),
                self.expiry_warning,
            ),
            expires_at,
            scopes: companion(taxonomy::SCOPES),
            client_id: if show_values {
                companion(taxonomy::CLIENT_ID)
            } else {
                None
            },
            companions: companions
                .map(|c| c.iter().map(|(s, _)| s.clone()).collect())
                .unwrap_or_default(),
            tag_groups: taxonomy::group_tags(tags.iter().map(String::as_str)),
        }
    }

    pub async fn get_secret(
        &self,
        args: GetSecretArgs,
        target: &mut Target,
    ) -> Result<SecretOutput, ToolError> {
        target.key = Some(args.secret_name.chars().take(256).collect());
        let place = (args.project_id, args.environment_slug, args.secret_path);
        let at = self.locate(target, place, "secretPath")?;
        check_secret_name(&args.secret_name)?;
        if !self.scope.allows(&at.environment, &at.path) {
            return Err(self.out_of_scope(&at, "get-secret"));
        }
        let expand = args.expand_secret_references.unwrap_or(true);
        let include_imports = args.include_imports.unwrap_or(true);
        // The folder's metadata (expiry and scopes companions) is read
        // alongside and reused for a minute: one vault request per call on
        // the hot path. Its failure only costs the metadata.
        let (found, folder_metadata) = tokio::join!(
            self.find_secret(&at, &args.secret_name, include_imports),
            self.vault.read_metadata(&at, false)
        );
        let found = match found {
            Err(ToolError::NotFoundInScope {
                key,
                location,
                skipped,
                ..
            }) => {
                // The folder's names-only listing is already here: offer close names.
                let names = folder_metadata
                    .as_ref()
                    .map(|m| {
                        m.value
                            .secrets
                            .iter()
                            .map(|s| s.secret_key.as_str())
                            .collect::<Vec<_>>()
                    })
                    .unwrap_or_default();
                let similar = near_misses(&key, &names);
                return Err(ToolError::NotFoundInScope {
                    key,
                    location,
                    skipped,
                    similar,
                });
            }
            other => other?,
        };
        // The resolver reads nowhere else; checked again so that no future
        // change to it can hand out a value from outside the scope.
        if !self.scope.allows(&found.at.environment, &found.at.path) {
            return Err(self.out_of_scope(&found.at, "get-secret"));
        }
        let metadata = if found.chain.is_empty() {
            folder_metadata
        } else {
            self.vault.read_metadata(&found.at, false).await
        };
        // The value was read: metadata that could not be is named in a
        // note, never a reason to fail the call.
        let mut notes = found.notes;
        let companions = match metadata {
            Ok(m) => {
                let unread = unread_companions(&found.secret.secret_key, &m.value.secrets);
                if !unread.is_empty() {
                    notes.push(format!(
                        "{} could not be read, so {} not shown",
                        unread.join(" and "),
                        if unread.len() == 1 { "it is" } else { "they are" }
                    ));
                }
                companions_of(&found.secret.secret_key, &m.value.secrets)
            }
            Err(e) => {
                notes.push(format!(
                    "the folder's metadata could not be read ({}), so expiry and scopes are not shown",
                    e.kind()
                ));
                Vec::new()
            }
        };
        let secret = found.secret;
        let value = if expand {
            self.expand_references(
                secret.secret_value.expose_secret(),
                &found.at,
                &secret.secret_key,
                secret.skip_multiline_encoding.unwrap_or(false),
                &mut ReferenceReads::new(),
            )
            .await?
        } else {
            secret.secret_value.expose_secret().to_string()
        };
        let tags: Vec<String> = secret.tags.iter().map(|t| t.slug.clone()).collect();
        let labels = tag_labels(&secret.tags);
        let imported = !found.chain.is_empty();
        Ok(SecretOutput {
            metadata: self.metadata(Some(&companions).filter(|c| !c.is_empty()), &labels, false),
            cached_age_seconds: found.cached_age.map(|d| d.as_secs()),
            secret_key: secret.secret_key.clone(),
            secret_value: value,
            project_id: at.project_id,
            environment: found.at.environment.clone(),
            secret_path: found.at.path.to_string(),
            version: secret.version,
            comment: secret.secret_comment.clone().unwrap_or_default(),
            tags,
            imported_from: imported.then(|| format!("{}:{}", found.at.environment, found.at.path)),
            import_chain: found.chain,
            notes,
        })
    }

    /// The folders a listing reads: `at` when the scope allows it, and with
    /// `recursive` every folder below it that the scope allows, found by
    /// walking folder names (which the vault does not guard) only where the
    /// scope leads. A recursive listing is never asked of the vault: it would
    /// return secrets, and on older builds values, from outside the scope.
    async fn folders_to_list(
        &self,
        at: &Location,
        recursive: bool,
        notes: &mut Vec<String>,
    ) -> Result<Vec<SecretPath>, ToolError> {
        let mut folders = Vec::new();
        if !recursive {
            if self.scope.allows(&at.environment, &at.path) {
                folders.push(at.path.clone());
            }
            return Ok(folders);
        }
        let (folders, truncated) = self
            .vault
            .scoped_folders(at, &self.scope, MAX_FOLDER_REQUESTS)
            .await?;
        if truncated {
            notes.push(format!(
                "the recursive walk stopped after {MAX_FOLDER_REQUESTS} folder listings; list a deeper path to see the rest"
            ));
        }
        Ok(folders)
    }

    /// One folder's secrets as a listing shows them: with values only under
    /// --list-values, otherwise names and metadata.
    async fn read_folder(&self, at: &Location) -> Result<Served<SecretList>, VaultError> {
        // A listing is always read again (a new secret shows at once); only
        // unchanged companions are reused.
        if !self.list_values {
            return self.vault.read_metadata(at, true).await;
        }
        let options = ListOptions {
            read: resolve::RAW,
            recursive: false,
            with_values: true,
        };
        match self.vault.read_secrets(at, options).await {
            // An identity that may describe but not read values: names only.
            Err(VaultError::PermissionDenied { message }) if message.contains("readValue") => {
                self.vault.read_metadata(at, true).await
            }
            other => other,
        }
    }

    pub async fn list_secrets(
        &self,
        args: ListSecretsArgs,
        target: &mut Target,
    ) -> Result<SecretListOutput, ToolError> {
        let place = (args.project_id, args.environment_slug, args.secret_path);
        let at = self.locate(target, place, "secretPath")?;
        if !self.scope.leads_into(&at.environment, &at.path) {
            return Err(self.out_of_scope(&at, "list-secrets"));
        }
        let above_scope = !self.scope.allows(&at.environment, &at.path);
        let recursive = args.recursive.unwrap_or(false);
        let include_imports = args.include_imports.unwrap_or(true);
        // Expansion only changes values; without --list-values none are shown.
        let expand = self.list_values && args.expand_secret_references.unwrap_or(true);

        let mut notes = Vec::new();
        let mut entries: Vec<Found> = Vec::new();
        let mut oldest: Option<std::time::Duration> = None;
        for dir in self.folders_to_list(&at, recursive, &mut notes).await? {
            let here = Location {
                path: dir,
                ..at.clone()
            };
            let listing = match self.read_folder(&here).await {
                Ok(listing) => listing,
                // Below the requested folder the vault's own refusal is
                // reported and the rest still listed.
                Err(VaultError::PermissionDenied { .. }) if here.path != at.path => {
                    notes.push(format!(
                        "the vault refused {}:{}; it is not listed",
                        here.environment, here.path
                    ));
                    continue;
                }
                Err(e) => return Err(e.into()),
            };
            oldest = oldest.max(listing.cached_age);
            entries.extend(listing.value.secrets.into_iter().map(|secret| Found {
                secret,
                environment: here.environment.clone(),
                path: here.path.clone(),
                imported_from: None,
            }));
            if !include_imports {
                continue;
            }
            for source in self.import_sources(&here, &mut notes).await? {
                let listing = match self.read_folder(&source.at).await {
                    Ok(listing) => listing,
                    Err(VaultError::PermissionDenied { .. } | VaultError::NotFound { .. }) => {
                        notes.push(format!(
                            "the vault refused the import {}",
                            source.chain.join(" → ")
                        ));
                        continue;
                    }
                    Err(e) => return Err(e.into()),
                };
                oldest = oldest.max(listing.cached_age);
                let from = format!("{}:{}", source.at.environment, source.at.path);
                entries.extend(listing.value.secrets.into_iter().map(|secret| Found {
                    secret,
                    environment: source.at.environment.clone(),
                    path: source.at.path.clone(),
                    imported_from: Some(from.clone()),
                }));
            }
        }

        let (entries, companions) = split_companions(entries);
        let mut reads = ReferenceReads::new();
        let mut summaries: Vec<SecretSummary> = Vec::with_capacity(entries.len());
        for (found, base) in entries {
            let key = (found.environment.clone(), found.path.clone(), base);
            let secret = found.secret;
            let labels = tag_labels(&secret.tags);
            let tags: Vec<String> = secret.tags.into_iter().map(|t| t.slug).collect();
            let mut secret_value = (self.list_values && !secret.secret_value_hidden)
                .then(|| secret.secret_value.expose_secret().to_string());
            if let Some(raw) = secret_value.as_deref().filter(|_| expand)
                && !resolve::references(raw).is_empty()
            {
                let home = Location {
                    project_id: at.project_id.clone(),
                    environment: found.environment.clone(),
                    path: found.path.clone(),
                };
                let skip_multiline = secret.skip_multiline_encoding.unwrap_or(false);
                secret_value = match self
                    .expand_references(raw, &home, &secret.secret_key, skip_multiline, &mut reads)
                    .await
                {
                    Ok(expanded) => Some(expanded),
                    Err(e) => {
                        notes.push(format!(
                            "value of {} in {}:{} withheld: {e}",
                            secret.secret_key, found.environment, found.path
                        ));
                        None
                    }
                };
            }
            summaries.push(SecretSummary {
                metadata: self.metadata(companions.get(&key), &labels, self.list_values),
                secret_value,
                secret_key: secret.secret_key,
                secret_path: found.path.to_string(),
                environment: found.environment,
                version: secret.version,
                comment: secret.secret_comment.unwrap_or_default(),
                tags,
                imported_from: found.imported_from,
            });
        }
        summaries.sort_by(|a, b| {
            (a.imported_from.is_some(), &a.secret_path, &a.secret_key).cmp(&(
                b.imported_from.is_some(),
                &b.secret_path,
                &b.secret_key,
            ))
        });

        let total = summaries.len();
        let offset = args.offset.unwrap_or(0).min(total);
        let limit = args.limit.unwrap_or(DEFAULT_PAGE).clamp(1, MAX_PAGE);
        let secrets: Vec<SecretSummary> = summaries.into_iter().skip(offset).take(limit).collect();
        let next_offset = (offset + secrets.len() < total).then_some(offset + secrets.len());
        let note = guidance::paging(total, offset, secrets.len(), next_offset);
        let scope_note = guidance::list_scope(
            &at.environment,
            at.path.as_str(),
            above_scope,
            recursive,
            &self.scope_for(&at.environment),
        );
        Ok(SecretListOutput {
            cached_age_seconds: oldest.map(|d| d.as_secs()),
            project_id: at.project_id,
            environment: at.environment,
            secret_path: at.path.to_string(),
            recursive,
            values_included: self.list_values,
            total,
            offset,
            secrets,
            next_offset,
            note,
            scope_note,
            notes,
        })
    }

    /// Walks folders itself rather than trusting a recursive listing: it only
    /// descends where the scope leads, so out-of-scope trees are never read,
    /// and it works the same on vaults that cannot list recursively.
    pub async fn list_folders(
        &self,
        args: ListFoldersArgs,
        target: &mut Target,
    ) -> Result<FolderListOutput, ToolError> {
        // Folders start from the root by default: navigation begins at the
        // top, and the note shows which folders lead into the scope.
        let path = args.path.or_else(|| Some("/".into()));
        let at = self.locate(target, (args.project_id, args.environment_slug, path), "path")?;
        if !self.scope.leads_into(&at.environment, &at.path) {
            return Err(self.out_of_scope(&at, "list-folders"));
        }
        let recursive = args.recursive.unwrap_or(false);
        let mut found: BTreeMap<String, FolderSummary> = BTreeMap::new();
        let mut queue = VecDeque::from([at.path.clone()]);
        let mut requests = 0;
        let mut truncated = false;
        let mut oldest: Option<std::time::Duration> = None;
        while let Some(dir) = queue.pop_front() {
            if requests == MAX_FOLDER_REQUESTS || found.len() >= MAX_FOLDERS {
                truncated = true;
                break;
            }
            requests += 1;
            let here = Location {
                path: dir.clone(),
                ..at.clone()
            };
            let served = self.vault.read_folders(&here, false).await?;
            oldest = oldest.max(served.cached_age);
            let folders = served.value;
            for folder in folders {
                let Ok(path) = dir.join(&folder.name) else {
                    continue;
                };
                if !self.scope.leads_into(&at.environment, &path) {
                    continue;
                }
                if recursive {
                    queue.push_back(path.clone());
                }
                found.insert(
                    path.to_string(),
                    FolderSummary {
                        name: folder.name,
                        readable: self.scope.allows(&at.environment, &path),
                        access: FolderAccess::of(self.scope.allows(&at.environment, &path)),
                        path: path.to_string(),
                    },
                );
            }
        }
        let folders: Vec<FolderSummary> = found.into_values().collect();
        let note = guidance::folders(&folders, &self.scope_for(&at.environment), recursive, truncated);
        Ok(FolderListOutput {
            project_id: at.project_id,
            environment: at.environment,
            path: at.path.to_string(),
            recursive,
            folders,
            truncated,
            note,
            cached_age_seconds: oldest.map(|d| d.as_secs()),
        })
    }
}
