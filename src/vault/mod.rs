//! The Infisical client every command uses: typed reads and the admin calls
//! of `provision` / `deprovision`, over the [`http`] transport (Cloudflare
//! Access headers, User-Agent, bounded bodies, retries), with the [`auth`]
//! session's token, one re-login on a refused token, and a fall-back from
//! the current routes to the ones an older self-hosted vault still has
//! (see `call`).
//!
//! Files: `call` (one authenticated exchange, refusal rules, route
//! generations), `reads` and `metadata` (cached reads), `admin` (identities,
//! universal auth, client secrets, memberships, privileges, the credential
//! store), `reuse` (cache and single flight), `types` (the vault's JSON).

pub mod admin;
pub(crate) mod auth;
mod call;
mod cause;
mod error;
pub(crate) mod http;
mod metadata;
mod reads;
mod reuse;
mod types;

use tokio::time::Instant;

pub use cause::Misconfiguration;
pub use error::VaultError;
pub use reuse::CachePolicy;
pub use types::{
    Folder, Import, ImportEnvironment, Location, ReadOptions, Secret, SecretImport, SecretList, Status, Tag,
};

use crate::config::{Credentials, VaultSettings};
use call::Family;
use http::{Request, Transport, gateway_error};
use reads::{ReadKey, ReadValue};

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

impl ListOptions {
    /// Keys and metadata of the folder (and below it with `recursive`), as
    /// stored, without values.
    pub const fn names_only(recursive: bool) -> Self {
        Self {
            read: ReadOptions::RAW,
            recursive,
            with_values: false,
        }
    }
}

/// A key whose value describes another secret rather than being one:
/// `<KEY>__EXPIRES_AT` and `<KEY>__SCOPES` (the taxonomy's metadata
/// companions). `<KEY>__CLIENT_ID` is a credential and is not among them.
pub fn is_metadata_key(key: &str) -> bool {
    key.rsplit_once("__").is_some_and(|(parent, suffix)| {
        !parent.is_empty() && (suffix == crate::taxonomy::EXPIRES_AT || suffix == crate::taxonomy::SCOPES)
    })
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
    routes: call::Routes,
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

impl VaultClient {
    pub fn new(settings: &VaultSettings, credentials: Credentials) -> Result<Self, VaultError> {
        Ok(Self {
            transport: Transport::new(settings)?,
            session: auth::Session::new(credentials),
            routes: call::Routes::default(),
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

    /// The environment slugs of a project, in the vault's order
    /// (`GET /api/v1/workspace/{id}`, the route both generations and the
    /// current CLI use).
    pub async fn project_environments(&self, project_id: &str) -> Result<Vec<String>, VaultError> {
        Ok(self.project(project_id).await?.environments)
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
            return Err(call::classify(&answer, &answer.api_error()));
        }
        call::parse(&url, &answer)
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
        self.call_unit(Family::Secrets, |legacy| {
            // The delete takes the read's location as a JSON body.
            let read = Family::Secrets.scoped(
                legacy,
                Some(name),
                at,
                "secretPath",
                vec![("type", "shared".into())],
            );
            let body: serde_json::Map<String, serde_json::Value> = read
                .query
                .iter()
                .map(|(k, v)| ((*k).to_string(), v.clone().into()))
                .collect();
            call::with_body(reqwest::Method::DELETE, read.path.clone(), Some(&body.into()))
        })
        .await
    }
}
