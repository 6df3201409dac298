//! The Infisical client: typed reads over the [`http`] transport, with the
//! [`auth`] session's token, re-login on a refused token, and a fall-back from
//! the current routes (v4 secrets, v2 folders) to the ones an older
//! self-hosted vault still has (v3 raw, v1 folders).

pub(crate) mod auth;
mod cause;
mod error;
pub(crate) mod http;
mod reuse;
mod types;

use std::sync::atomic::{AtomicBool, Ordering};

use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};
use reqwest::StatusCode;
use secrecy::SecretString;
use serde::de::DeserializeOwned;
use tokio::time::Instant;

pub use cause::Misconfiguration;
pub use error::VaultError;
pub use reuse::CachePolicy;
pub use types::{
    Folder, Import, ImportEnvironment, Location, ReadOptions, Secret, SecretImport, SecretList, Status, Tag,
};

use crate::config::{Credentials, VaultSettings};
use crate::scope::SecretPath;
use http::{Answer, ApiError, Request, Transport, gateway_error};
use types::{FolderList, ImportList, SingleSecret};

/// How long folder metadata is reused: long enough that a burst of
/// get-secret calls in one folder reads it once, short enough that a new
/// expiry date shows within a minute.
const METADATA_POLICY: CachePolicy = CachePolicy {
    ttl: Some(std::time::Duration::from_secs(60)),
    max_stale: std::time::Duration::from_secs(60),
    max_entries: 256,
    max_bytes: 1024 * 1024,
};

/// Every key name [`VaultClient::probe_delete`] accepts starts with this.
pub const PROBE_PREFIX: &str = "DOCTOR_PROBE_";

/// Characters left as they are in a secret name placed in a URL path.
const NAME_SAFE: &AsciiSet = &NON_ALPHANUMERIC.remove(b'-').remove(b'_').remove(b'.');

/// Which generation of a route family the vault has answered to. Starts at
/// the current routes and moves to the older ones at most once.
#[derive(Default)]
struct Routes {
    legacy_secrets: AtomicBool,
    legacy_folders: AtomicBool,
    /// Both generations share the project route; kept so that a 404 there
    /// can never move another family to its older routes.
    legacy_projects: AtomicBool,
    legacy_imports: AtomicBool,
}

#[derive(Clone, Copy)]
enum Family {
    Secrets,
    Folders,
    Projects,
    Imports,
}

impl Routes {
    fn flag(&self, family: Family) -> &AtomicBool {
        match family {
            Family::Secrets => &self.legacy_secrets,
            Family::Folders => &self.legacy_folders,
            Family::Projects => &self.legacy_projects,
            Family::Imports => &self.legacy_imports,
        }
    }
}

/// One listing option set, on top of [`ReadOptions`].
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct ListOptions {
    pub read: ReadOptions,
    pub recursive: bool,
    /// Ask the vault for values. Without it, a build that can hide them
    /// (`viewSecretValue=false`) sends none; a build that cannot sends them
    /// anyway, and every value but the metadata companions' (see
    /// [`is_metadata_key`]) is wiped before the answer is cached or returned.
    pub with_values: bool,
}

/// A key whose value describes another secret rather than being one:
/// `<KEY>__EXPIRES_AT` and `<KEY>__SCOPES` (the taxonomy's metadata
/// companions). `<KEY>__CLIENT_ID` is a credential and is not among them.
pub fn is_metadata_key(key: &str) -> bool {
    key.rsplit_once("__").is_some_and(|(parent, suffix)| {
        !parent.is_empty() && (suffix == crate::taxonomy::EXPIRES_AT || suffix == crate::taxonomy::SCOPES)
    })
}

/// Replaces every value the caller did not ask for with an empty one; the
/// old value is zeroised when it drops.
fn wipe_unrequested_values(list: &mut SecretList) {
    let secrets = list
        .secrets
        .iter_mut()
        .chain(list.imports.iter_mut().flat_map(|i| i.secrets.iter_mut()));
    for secret in secrets {
        if !secret.secret_value_hidden && !is_metadata_key(&secret.secret_key) {
            secret.secret_value = SecretString::default();
            secret.secret_value_hidden = true;
        }
    }
}

/// One read, as the reuse layer tells them apart.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
enum ReadKey {
    Secret(Location, String, ReadOptions),
    Secrets(Location, ListOptions),
    Folders(Location, bool),
    Imports(Location),
}

#[derive(Debug, Clone)]
enum ReadValue {
    Secret(Box<Secret>),
    Secrets(SecretList),
    Folders(Vec<Folder>),
    Imports(Vec<SecretImport>),
}

fn secret_weight(s: &Secret) -> usize {
    use secrecy::ExposeSecret;
    s.secret_key.len()
        + s.secret_value.expose_secret().len()
        + s.secret_comment.as_ref().map_or(0, String::len)
        + s.tags.iter().map(|t| t.slug.len()).sum::<usize>()
        + 64
}

impl reuse::Weigh for ReadValue {
    fn weight(&self) -> usize {
        match self {
            Self::Secret(s) => secret_weight(s),
            Self::Secrets(list) => {
                list.secrets.iter().map(secret_weight).sum::<usize>()
                    + list
                        .imports
                        .iter()
                        .flat_map(|i| i.secrets.iter())
                        .map(secret_weight)
                        .sum::<usize>()
            }
            Self::Folders(folders) => folders.iter().map(|f| f.name.len() + 32).sum(),
            Self::Imports(imports) => imports
                .iter()
                .map(|i| i.import_path.len() + i.import_env.slug.len() + 32)
                .sum(),
        }
    }
}

/// The one kind of value a read asked for; any other is a bug in the keys.
fn narrow<T>(
    served: Served<ReadValue>,
    pick: impl FnOnce(ReadValue) -> Option<T>,
) -> Result<Served<T>, VaultError> {
    let cached_age = served.cached_age;
    pick(served.value)
        .map(|value| Served { value, cached_age })
        .ok_or_else(|| VaultError::Client("the read cache returned the wrong kind of value".into()))
}

/// A value and, when it came from the cache, how old it is.
#[derive(Debug, Clone)]
pub struct Served<T> {
    pub value: T,
    pub cached_age: Option<std::time::Duration>,
}

pub struct VaultClient {
    transport: Transport,
    session: auth::Session,
    routes: Routes,
    flight: reuse::SingleFlight<ReadKey, Result<ReadValue, VaultError>>,
    cache: reuse::Cache<ReadKey, ReadValue>,
    /// Folder metadata (names, tags, expiry and scopes companions) for
    /// [`Self::read_metadata`]: always on, briefly, holding no other value.
    metadata: reuse::Cache<Location, ReadValue>,
    /// Folders' import lists, kept as briefly: which folders a folder
    /// imports is structure, not a value, and changes rarely.
    imports: reuse::Cache<Location, ReadValue>,
    /// Set when the vault says "rate limited": until then, calls fail fast
    /// (or are answered from the cache) instead of adding to the pile.
    rate_limited_until: std::sync::Mutex<Option<Instant>>,
}

fn flag(value: bool) -> String {
    value.to_string()
}

/// A folder path as Infisical's secrets routes expect it: `/` or `/a/b`.
fn path_param(path: &SecretPath) -> String {
    path.as_str().to_string()
}

/// fastify's answer for a route that does not exist, as opposed to a
/// resource that does not: only that one means "older vault, fall back".
fn is_missing_route(answer: &Answer, error: &ApiError) -> bool {
    answer.status == StatusCode::NOT_FOUND
        && error.error.as_deref() == Some("Not Found")
        && error.text().starts_with("Route ")
}

/// Infisical answers a bad or expired token with 401, or with 403 and
/// `error: "TokenError"`.
fn is_token_refusal(answer: &Answer, error: &ApiError) -> bool {
    answer.status == StatusCode::UNAUTHORIZED
        || (answer.status == StatusCode::FORBIDDEN && error.error.as_deref() == Some("TokenError"))
}

fn classify(answer: &Answer, error: ApiError) -> VaultError {
    let message = error.text();
    match answer.status {
        StatusCode::FORBIDDEN => VaultError::PermissionDenied { message },
        StatusCode::NOT_FOUND => VaultError::NotFound { message },
        StatusCode::TOO_MANY_REQUESTS => VaultError::RateLimited {
            retry_after: answer.retry_after(),
        },
        s if s.is_client_error() => VaultError::BadRequest {
            status: s.as_u16(),
            message,
        },
        s => VaultError::Server {
            status: s.as_u16(),
            message: if message.is_empty() {
                s.to_string()
            } else {
                message
            },
        },
    }
}

impl VaultClient {
    pub fn new(settings: &VaultSettings, credentials: Credentials) -> Result<Self, VaultError> {
        Ok(Self {
            transport: Transport::new(settings)?,
            session: auth::Session::new(credentials),
            routes: Routes::default(),
            flight: reuse::SingleFlight::new(),
            cache: reuse::Cache::new(CachePolicy::default()),
            metadata: reuse::Cache::new(METADATA_POLICY),
            imports: reuse::Cache::new(METADATA_POLICY),
            rate_limited_until: std::sync::Mutex::new(None),
        })
    }

    /// Answers repeated reads from memory as `policy` allows.
    pub fn with_cache(mut self, policy: CachePolicy) -> Self {
        self.cache = reuse::Cache::new(policy);
        self
    }

    fn rate_limit_left(&self) -> Option<std::time::Duration> {
        let until = (*self.rate_limited_until.lock().ok()?)?;
        let left = until.saturating_duration_since(Instant::now());
        (!left.is_zero()).then_some(left)
    }

    fn note_rate_limit(&self, retry_after: Option<std::time::Duration>) {
        if let (Some(wait), Ok(mut until)) = (retry_after, self.rate_limited_until.lock()) {
            // A `retry-after` is the vault's number: capped, so that no
            // answer can push the clock past what it can represent.
            let wait = wait.min(std::time::Duration::from_secs(3600));
            *until = Instant::now().checked_add(wait);
        }
    }

    /// Every read goes through here: cache, rate-limit fast path, then one
    /// shared upstream request for identical concurrent reads.
    async fn reuse<F, Fut>(&self, key: ReadKey, fetch: F) -> Result<Served<ReadValue>, VaultError>
    where
        F: Fn() -> Fut,
        Fut: std::future::Future<Output = Result<ReadValue, VaultError>>,
    {
        let stale = match self.cache.get(&key) {
            reuse::Lookup::Fresh(value, age) => {
                return Ok(Served {
                    value,
                    cached_age: Some(age),
                });
            }
            reuse::Lookup::Stale(value, age) => Some(Served {
                value,
                cached_age: Some(age),
            }),
            reuse::Lookup::Miss => None,
        };
        if let Some(left) = self.rate_limit_left() {
            return stale.ok_or(VaultError::RateLimited {
                retry_after: Some(left),
            });
        }
        match self.flight.run(key.clone(), fetch).await {
            Ok(value) => {
                if self.cache.enabled() {
                    self.cache.put(key, value.clone());
                }
                Ok(Served {
                    value,
                    cached_age: None,
                })
            }
            Err(VaultError::RateLimited { retry_after }) => {
                self.note_rate_limit(retry_after);
                stale.ok_or(VaultError::RateLimited { retry_after })
            }
            Err(e) => Err(e),
        }
    }

    pub async fn read_secret(
        &self,
        at: &Location,
        name: &str,
        options: ReadOptions,
    ) -> Result<Served<Secret>, VaultError> {
        let key = ReadKey::Secret(at.clone(), name.to_string(), options);
        let served = self
            .reuse(key, || async {
                Ok(ReadValue::Secret(Box::new(
                    self.fetch_secret(at, name, options).await?,
                )))
            })
            .await?;
        narrow(served, |value| match value {
            ReadValue::Secret(secret) => Some(*secret),
            _ => None,
        })
    }

    /// [`Self::read_secret`] never answered from the cache, for a caller
    /// that has been told the value it holds is stale (the broker, after an
    /// upstream refused it); the fresh value replaces the cached one.
    pub async fn read_secret_fresh(
        &self,
        at: &Location,
        name: &str,
        options: ReadOptions,
    ) -> Result<Secret, VaultError> {
        let key = ReadKey::Secret(at.clone(), name.to_string(), options);
        let value = self
            .flight
            .run(key.clone(), || async {
                Ok(ReadValue::Secret(Box::new(
                    self.fetch_secret(at, name, options).await?,
                )))
            })
            .await?;
        if self.cache.enabled() {
            self.cache.put(key, value.clone());
        }
        let served = Served {
            value,
            cached_age: None,
        };
        narrow(served, |value| match value {
            ReadValue::Secret(secret) => Some(*secret),
            _ => None,
        })
        .map(|s| s.value)
    }

    pub async fn read_secrets(
        &self,
        at: &Location,
        options: ListOptions,
    ) -> Result<Served<SecretList>, VaultError> {
        let key = ReadKey::Secrets(at.clone(), options);
        let served = self
            .reuse(key, || async {
                Ok(ReadValue::Secrets(self.fetch_secrets(at, options).await?))
            })
            .await?;
        narrow(served, |value| match value {
            ReadValue::Secrets(list) => Some(list),
            _ => None,
        })
    }

    pub async fn read_folders(
        &self,
        at: &Location,
        recursive: bool,
    ) -> Result<Served<Vec<Folder>>, VaultError> {
        let key = ReadKey::Folders(at.clone(), recursive);
        let served = self
            .reuse(key, || async {
                Ok(ReadValue::Folders(self.fetch_folders(at, recursive).await?))
            })
            .await?;
        narrow(served, |value| match value {
            ReadValue::Folders(folders) => Some(folders),
            _ => None,
        })
    }

    /// The secret imports of the folder at `at`, in the order Infisical
    /// applies them (by `position`), replicated imports left out.
    ///
    /// Kept for a minute, like folder metadata: a listing with imports would
    /// otherwise cost a second request per folder on every call.
    pub async fn read_imports(&self, at: &Location) -> Result<Served<Vec<SecretImport>>, VaultError> {
        if let reuse::Lookup::Fresh(ReadValue::Imports(imports), _) = self.imports.get(at) {
            return Ok(Served {
                value: imports,
                cached_age: None,
            });
        }
        let key = ReadKey::Imports(at.clone());
        let served = self
            .reuse(key, || async {
                Ok(ReadValue::Imports(self.fetch_imports(at).await?))
            })
            .await?;
        self.imports.put(at.clone(), served.value.clone());
        narrow(served, |value| match value {
            ReadValue::Imports(imports) => Some(imports),
            _ => None,
        })
    }

    /// The folders at or below `at` that `scope` allows, found by walking
    /// folder names (which Infisical does not guard) only where the scope
    /// leads, so no folder outside it is ever listed for secrets. Stops
    /// after `max_listings` folder listings; the flag says it stopped early.
    pub async fn scoped_folders(
        &self,
        at: &Location,
        scope: &crate::scope::Scope,
        max_listings: usize,
    ) -> Result<(Vec<SecretPath>, bool), VaultError> {
        let mut allowed = Vec::new();
        let mut queue = std::collections::VecDeque::from([at.path.clone()]);
        let mut listings = 0;
        while let Some(dir) = queue.pop_front() {
            if scope.allows(&at.environment, &dir) {
                allowed.push(dir.clone());
            }
            if listings == max_listings {
                return Ok((allowed, true));
            }
            listings += 1;
            let here = Location {
                path: dir.clone(),
                ..at.clone()
            };
            for folder in self.read_folders(&here, false).await?.value {
                if let Ok(path) = dir.join(&folder.name)
                    && scope.leads_into(&at.environment, &path)
                {
                    queue.push_back(path);
                }
            }
        }
        Ok((allowed, false))
    }

    /// A folder's secrets with only their metadata: names, tags, comments,
    /// versions, and the values of the metadata companions
    /// ([`is_metadata_key`]). No other value is requested where the vault can
    /// hide them; where it cannot, they are wiped on arrival. A build that
    /// hides values also hides the companions', so those are then read one
    /// by one (by name, in the same folder) — unless the last read of this
    /// folder, under a minute old, holds the same version.
    ///
    /// `fresh` lists the folder again whatever the last read; without it a
    /// read under a minute old is reused as it is (get-secret's metadata,
    /// which must not cost a second request per call).
    pub async fn read_metadata(&self, at: &Location, fresh: bool) -> Result<Served<SecretList>, VaultError> {
        let previous = match self.metadata.get(at) {
            reuse::Lookup::Fresh(ReadValue::Secrets(list), _) => Some(list),
            _ => None,
        };
        if let (false, Some(list)) = (fresh, &previous) {
            return Ok(Served {
                value: list.clone(),
                cached_age: None,
            });
        }
        let names_only = ListOptions {
            read: ReadOptions {
                expand_references: false,
                include_imports: false,
            },
            recursive: false,
            with_values: false,
        };
        let mut served = self.read_secrets(at, names_only).await?;
        let known = |secret: &Secret| {
            previous.as_ref().and_then(|list| {
                list.secrets
                    .iter()
                    .find(|p| {
                        p.secret_key == secret.secret_key
                            && p.version == secret.version
                            && !p.secret_value_hidden
                    })
                    .map(|p| p.secret_value.clone())
            })
        };
        let mut hidden = Vec::new();
        for (i, secret) in served.value.secrets.iter_mut().enumerate() {
            if !(secret.secret_value_hidden && is_metadata_key(&secret.secret_key)) {
                continue;
            }
            match known(secret) {
                Some(value) => {
                    secret.secret_value = value;
                    secret.secret_value_hidden = false;
                }
                None => hidden.push(i),
            }
        }
        let raw = ReadOptions {
            expand_references: false,
            include_imports: false,
        };
        let reads = hidden.iter().map(|&i| {
            let name = served.value.secrets[i].secret_key.clone();
            async move { (i, self.read_secret(at, &name, raw).await) }
        });
        let mut all_read = true;
        for (i, read) in futures_util::future::join_all(reads).await {
            all_read &= read.is_ok();
            match read {
                Ok(companion) => {
                    let secret = &mut served.value.secrets[i];
                    secret.secret_value = companion.value.secret_value;
                    secret.secret_value_hidden = companion.value.secret_value_hidden;
                }
                // Metadata is best effort: a companion that vanished or is
                // refused stays hidden, and the secret shows no expiry.
                Err(e) => tracing::debug!(kind = e.kind(), "metadata companion not read"),
            }
        }
        // A companion that failed is asked again next time, not kept hidden
        // for a minute.
        if all_read {
            self.metadata
                .put(at.clone(), ReadValue::Secrets(served.value.clone()));
        }
        Ok(served)
    }

    pub async fn get_secret(
        &self,
        at: &Location,
        name: &str,
        options: ReadOptions,
    ) -> Result<Secret, VaultError> {
        self.read_secret(at, name, options).await.map(|s| s.value)
    }

    pub async fn list_secrets(&self, at: &Location, options: ListOptions) -> Result<SecretList, VaultError> {
        self.read_secrets(at, options).await.map(|s| s.value)
    }

    /// Folders directly under `at.path`, or all below it with `recursive`
    /// (then each carries its `relative_path`).
    pub async fn list_folders(&self, at: &Location, recursive: bool) -> Result<Vec<Folder>, VaultError> {
        self.read_folders(at, recursive).await.map(|s| s.value)
    }

    /// The environment slugs of a project, in the vault's order
    /// (`GET /api/v1/workspace/{id}`, the route both generations and the
    /// current CLI use).
    pub async fn project_environments(&self, project_id: &str) -> Result<Vec<String>, VaultError> {
        let encoded = utf8_percent_encode(project_id, NAME_SAFE).to_string();
        let answer: types::ProjectAnswer = self
            .call(Family::Projects, |_| {
                Request::get(format!("/api/v1/workspace/{encoded}"), Vec::new())
            })
            .await?;
        Ok(answer
            .workspace
            .environments
            .into_iter()
            .map(|e| e.slug)
            .collect())
    }

    /// Universal-auth logins made so far (for tests, benchmarks and the doctor).
    pub fn login_count(&self) -> u64 {
        self.session.login_count()
    }

    /// Logs in (or checks the pre-issued token exists) without reading anything.
    pub async fn authenticate(&self) -> Result<(), VaultError> {
        let deadline = Instant::now() + self.transport.call_timeout();
        self.session.token(&self.transport, deadline).await.map(|_| ())
    }

    /// `GET /api/status`: reachability through Cloudflare, no credentials.
    pub async fn status(&self) -> Result<Status, VaultError> {
        let deadline = Instant::now() + self.transport.call_timeout();
        let request = Request::get("/api/status", Vec::new());
        let answer = self.transport.execute(&request, None, deadline).await?;
        let url = self.transport.url(&request.path);
        if let Some(e) = gateway_error(&url, &answer) {
            return Err(e);
        }
        if !answer.is_success() {
            return Err(classify(&answer, answer.api_error()));
        }
        parse(&url, &answer)
    }

    async fn fetch_secret(
        &self,
        at: &Location,
        name: &str,
        options: ReadOptions,
    ) -> Result<Secret, VaultError> {
        let encoded = utf8_percent_encode(name, NAME_SAFE).to_string();
        let single: SingleSecret = self
            .call(Family::Secrets, |legacy| {
                let (route, project_key) = if legacy {
                    (format!("/api/v3/secrets/raw/{encoded}"), "workspaceId")
                } else {
                    (format!("/api/v4/secrets/{encoded}"), "projectId")
                };
                Request::get(
                    route,
                    vec![
                        (project_key, at.project_id.clone()),
                        ("environment", at.environment.clone()),
                        ("secretPath", path_param(&at.path)),
                        ("type", "shared".into()),
                        ("viewSecretValue", "true".into()),
                        ("expandSecretReferences", flag(options.expand_references)),
                        // Older routes read the snake_case key, newer ones the
                        // camelCase one; each ignores the other.
                        ("include_imports", flag(options.include_imports)),
                        ("includeImports", flag(options.include_imports)),
                    ],
                )
            })
            .await?;
        Ok(single.secret)
    }

    async fn fetch_secrets(&self, at: &Location, options: ListOptions) -> Result<SecretList, VaultError> {
        let mut list: SecretList = self
            .call(Family::Secrets, |legacy| {
                let (route, project_key) = if legacy {
                    ("/api/v3/secrets/raw", "workspaceId")
                } else {
                    ("/api/v4/secrets", "projectId")
                };
                Request::get(
                    route,
                    vec![
                        (project_key, at.project_id.clone()),
                        ("environment", at.environment.clone()),
                        ("secretPath", path_param(&at.path)),
                        ("recursive", flag(options.recursive)),
                        ("viewSecretValue", flag(options.with_values)),
                        ("expandSecretReferences", flag(options.read.expand_references)),
                        ("include_imports", flag(options.read.include_imports)),
                        ("includeImports", flag(options.read.include_imports)),
                        ("includePersonalOverrides", "false".into()),
                    ],
                )
            })
            .await?;
        if !options.with_values {
            wipe_unrequested_values(&mut list);
        }
        Ok(list)
    }

    async fn fetch_imports(&self, at: &Location) -> Result<Vec<SecretImport>, VaultError> {
        let list: ImportList = self
            .call(Family::Imports, |legacy| {
                let (route, project_key) = if legacy {
                    ("/api/v1/secret-imports", "workspaceId")
                } else {
                    ("/api/v2/secret-imports", "projectId")
                };
                Request::get(
                    route,
                    vec![
                        (project_key, at.project_id.clone()),
                        ("environment", at.environment.clone()),
                        ("path", path_param(&at.path)),
                    ],
                )
            })
            .await?;
        let mut imports: Vec<SecretImport> = list
            .secret_imports
            .into_iter()
            .filter(|i| !i.is_replication)
            .collect();
        imports.sort_by_key(|i| i.position);
        Ok(imports)
    }

    async fn fetch_folders(&self, at: &Location, recursive: bool) -> Result<Vec<Folder>, VaultError> {
        let list: FolderList = self
            .call(Family::Folders, |legacy| {
                let mut query = vec![
                    ("environment", at.environment.clone()),
                    ("path", path_param(&at.path)),
                    ("recursive", flag(recursive)),
                ];
                if legacy {
                    query.push(("workspaceId", at.project_id.clone()));
                    query.push(("directory", path_param(&at.path)));
                    Request::get("/api/v1/folders", query)
                } else {
                    query.push(("projectId", at.project_id.clone()));
                    Request::get("/api/v2/folders", query)
                }
            })
            .await?;
        Ok(list.folders)
    }

    /// The doctor's write probe: asks the vault to delete `name` at `at`, a key
    /// that does not exist, and hands back the vault's verdict. `Ok(())` means
    /// the vault accepted the delete. Only names starting with
    /// [`PROBE_PREFIX`] are sent, so this can never be pointed at a real key
    /// by mistake; the request is never retried.
    ///
    /// Which refusal comes first differs between builds: current Infisical
    /// (`secret-v2-bridge-service.ts`, `deleteSecret`) looks the secret up and
    /// answers 404 before it checks the delete permission, so a 404 alone does
    /// not say whether the identity could delete. The doctor calibrates with
    /// a second probe where the identity has no permission at all.
    pub async fn probe_delete(&self, at: &Location, name: &str) -> Result<(), VaultError> {
        if !name.starts_with(PROBE_PREFIX) || name.len() <= PROBE_PREFIX.len() {
            return Err(VaultError::Client(format!(
                "probe_delete only sends {PROBE_PREFIX}<random> names"
            )));
        }
        let encoded = utf8_percent_encode(name, NAME_SAFE).to_string();
        let _: serde_json::Value = self
            .call(Family::Secrets, |legacy| {
                let (route, project_key) = if legacy {
                    (format!("/api/v3/secrets/raw/{encoded}"), "workspaceId")
                } else {
                    (format!("/api/v4/secrets/{encoded}"), "projectId")
                };
                let mut body = serde_json::Map::new();
                body.insert(project_key.into(), at.project_id.clone().into());
                body.insert("environment".into(), at.environment.clone().into());
                body.insert("secretPath".into(), path_param(&at.path).into());
                body.insert("type".into(), "shared".into());
                Request {
                    method: reqwest::Method::DELETE,
                    path: route,
                    query: Vec::new(),
                    body: serde_json::to_vec(&body).ok(),
                    idempotent: false,
                }
            })
            .await?;
        Ok(())
    }

    /// One authenticated read: fresh token, one re-login if the vault refuses
    /// it, one fall-back to the older route if the route itself is missing.
    async fn call<T: DeserializeOwned>(
        &self,
        family: Family,
        build: impl Fn(bool) -> Request,
    ) -> Result<T, VaultError> {
        let deadline = Instant::now() + self.transport.call_timeout();
        let mut logged_in_again = false;
        loop {
            let legacy = self.routes.flag(family).load(Ordering::Relaxed);
            let request = build(legacy);
            let (token, generation): (SecretString, u64) =
                self.session.token(&self.transport, deadline).await?;
            let answer = self.transport.execute(&request, Some(&token), deadline).await?;
            drop(token);
            let url = self.transport.url(&request.path);
            if let Some(e) = gateway_error(&url, &answer) {
                return Err(e);
            }
            if answer.is_success() {
                return parse(&url, &answer);
            }
            let error = answer.api_error();
            if !legacy && is_missing_route(&answer, &error) {
                tracing::info!(route = %request.path, "route missing: older vault, using the previous API generation");
                self.routes.flag(family).store(true, Ordering::Relaxed);
                continue;
            }
            if is_token_refusal(&answer, &error) {
                let message = error.text();
                if self.session.is_pre_issued() {
                    return Err(VaultError::TokenRejected {
                        message,
                        pre_issued: true,
                    });
                }
                if logged_in_again {
                    return Err(VaultError::TokenRejected {
                        message,
                        pre_issued: false,
                    });
                }
                tracing::info!(
                    status = answer.status.as_u16(),
                    "access token refused; logging in again"
                );
                self.session.invalidate(generation).await;
                logged_in_again = true;
                continue;
            }
            if is_missing_route(&answer, &error) {
                return Err(VaultError::UnexpectedResponse {
                    url,
                    status: 404,
                    detail: "the vault has neither the current nor the older route; is this Infisical?"
                        .into(),
                });
            }
            return Err(classify(&answer, error));
        }
    }
}

fn parse<T: DeserializeOwned>(url: &str, answer: &Answer) -> Result<T, VaultError> {
    serde_json::from_slice(&answer.body).map_err(|e| VaultError::UnexpectedResponse {
        url: url.to_string(),
        status: answer.status.as_u16(),
        detail: format!("not the JSON Infisical sends ({})", json_problem(&e)),
    })
}

/// What kind of JSON problem it was; never the offending bytes, which may
/// hold a value.
fn json_problem(e: &serde_json::Error) -> &'static str {
    match e.classify() {
        serde_json::error::Category::Io => "I/O error",
        serde_json::error::Category::Syntax => "malformed JSON",
        serde_json::error::Category::Data => "unexpected fields",
        serde_json::error::Category::Eof => "truncated JSON",
    }
}
