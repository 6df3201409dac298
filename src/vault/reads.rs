//! The client's reads: secrets, secret lists, folders and imports, each
//! through the reuse layer (cache, rate-limit fast path, one upstream
//! request for identical concurrent reads) and built on the current route
//! generation with a fall-back to the 2024 build's.

use secrecy::SecretString;
use tokio::time::Instant;

use super::call::Family;
use super::error::VaultError;
use super::types::{FolderList, ImportList, SingleSecret};
use super::{
    Folder, ListOptions, Location, ReadOptions, Secret, SecretImport, SecretList, Served, VaultClient, reuse,
};

/// One read, as the reuse layer tells them apart.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(crate) enum ReadKey {
    Secret(Location, String, ReadOptions),
    Secrets(Location, ListOptions),
    Folders(Location, bool),
    Imports(Location),
}

#[derive(Debug, Clone)]
pub(crate) enum ReadValue {
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

/// Replaces every value the caller did not ask for with an empty one; the
/// old value is zeroised when it drops.
fn wipe_unrequested_values(list: &mut SecretList) {
    let secrets = list
        .secrets
        .iter_mut()
        .chain(list.imports.iter_mut().flat_map(|i| i.secrets.iter_mut()));
    for secret in secrets {
        if !secret.secret_value_hidden && !super::is_metadata_key(&secret.secret_key) {
            secret.secret_value = SecretString::default();
            secret.secret_value_hidden = true;
        }
    }
}

fn flag(value: bool) -> String {
    value.to_string()
}

impl VaultClient {
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

    pub(crate) async fn fetch_secret(
        &self,
        at: &Location,
        name: &str,
        options: ReadOptions,
    ) -> Result<Secret, VaultError> {
        let single: SingleSecret = self
            .call(Family::Secrets, |legacy| {
                Family::Secrets.scoped(
                    legacy,
                    Some(name),
                    at,
                    "secretPath",
                    vec![
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

    pub(crate) async fn fetch_secrets(
        &self,
        at: &Location,
        options: ListOptions,
    ) -> Result<SecretList, VaultError> {
        let mut list: SecretList = self
            .call(Family::Secrets, |legacy| {
                Family::Secrets.scoped(
                    legacy,
                    None,
                    at,
                    "secretPath",
                    vec![
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
                Family::Imports.scoped(legacy, None, at, "path", Vec::new())
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

    pub(crate) async fn fetch_folders(
        &self,
        at: &Location,
        recursive: bool,
    ) -> Result<Vec<Folder>, VaultError> {
        let list: FolderList = self
            .call(Family::Folders, |legacy| {
                let mut extra = vec![("recursive", flag(recursive))];
                if legacy {
                    // The v1 route names the folder `directory`.
                    extra.push(("directory", at.path.as_str().to_string()));
                }
                Family::Folders.scoped(legacy, None, at, "path", extra)
            })
            .await?;
        Ok(list.folders)
    }
}
