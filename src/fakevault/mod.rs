//! A fake Infisical vault: an in-process HTTP server that answers with the
//! routes, bodies, status codes and permission behaviour of a real Infisical
//! (docs/vault-api.md), in either of two generations, optionally
//! behind a fake Cloudflare Access gate, with injectable faults.
//!
//! It backs the integration tests and the shipped `demo` command, so it is
//! part of the library. Sub-modules: `data` (content + builder), `fixed_ids`
//! (builder calls pinning recorded ids), `sample` (the demo dataset),
//! `permissions` (identities, rules, glob), `tokens` (token lifecycle),
//! `references` (`${…}` expansion), `gate` (Cloudflare edge), `faults`,
//! `ratelimit` (the 2024 build's limiter, opt-in), `reqlog`, `errors` (body
//! shapes), `server` (listener + request pipeline), `routes`.

mod data;
mod errors;
mod faults;
mod fixed_ids;
mod gate;
mod org;
mod permissions;
mod ratelimit;
mod references;
mod reqlog;
mod routes;
mod sample;
mod server;
mod tokens;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, RwLock, RwLockReadGuard, RwLockWriteGuard};

use tokio::net::TcpListener;

pub use data::{SecretEntry, Tag, VaultData};
pub use faults::Faults;
pub use gate::{CfGate, FAKE_ACCESS_TEAM};
pub use org::ManagedIdentityView;
pub use permissions::{Action, DEFAULT_TOKEN_TTL, Identity, PermissionRule, glob_matches};
pub use reqlog::RecordedRequest;
pub use sample::{
    DEMO_AUDITOR_CLIENT_ID, DEMO_AUDITOR_CLIENT_SECRET, DEMO_CF_CLIENT_ID, DEMO_CF_CLIENT_SECRET,
    DEMO_CLIENT_ID, DEMO_CLIENT_SECRET, DEMO_PROJECT_ID, DEMO_PROJECT_SLUG, demo_auditor, demo_gate,
    demo_identity,
};

/// Which Infisical build the fake behaves like.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Generation {
    /// Current source: v4 secrets, v2 folders, plus the v3 raw / v1 routes.
    #[default]
    Current,
    /// The 2024 self-hosted build (docs/vault-api.md): no v4 secrets or
    /// v2 folders, parent-path lists 403, its own error texts and shapes.
    Legacy,
}

/// A configured, not yet running, fake vault.
#[derive(Clone, Debug)]
pub struct FakeVault {
    data: VaultData,
    generation: Generation,
    gate: CfGate,
    identities: Vec<Identity>,
    block_default_user_agents: bool,
    login_lockout: Option<bool>,
    rate_limits: bool,
}

impl FakeVault {
    /// A vault serving `data`, current generation, no gate, no identities.
    pub fn new(data: VaultData) -> Self {
        FakeVault {
            data,
            generation: Generation::Current,
            gate: CfGate::Off,
            identities: Vec::new(),
            block_default_user_agents: false,
            login_lockout: None,
            rate_limits: false,
        }
    }

    pub fn generation(mut self, generation: Generation) -> Self {
        self.generation = generation;
        self
    }

    pub fn gate(mut self, gate: CfGate) -> Self {
        self.gate = gate;
        self
    }

    /// Adds an identity; an identity with the same client id is replaced.
    pub fn identity(mut self, identity: Identity) -> Self {
        self.identities.retain(|i| i.client_id != identity.client_id);
        self.identities.push(identity);
        self
    }

    /// Model Cloudflare's WAF / Bot Fight Mode: an empty or scripted-default
    /// User-Agent gets 403 "error code: 1010". Off by default.
    pub fn block_default_user_agents(mut self, block: bool) -> Self {
        self.block_default_user_agents = block;
        self
    }

    /// Universal-auth lockout (3 failed logins in 30 s lock the identity for
    /// 300 s). Defaults to on for `Current` and off for `Legacy`, whose build
    /// predates it.
    pub fn login_lockout(mut self, enabled: bool) -> Self {
        self.login_lockout = Some(enabled);
        self
    }

    /// Count requests as the recorded 2024 build's limiter does (per method,
    /// route and client IP, first `X-Forwarded-For` entry) and refuse those
    /// over the limit. Off by default: tests share one client address.
    pub fn rate_limits(mut self, enabled: bool) -> Self {
        self.rate_limits = enabled;
        self
    }

    /// Starts serving on `listener`; returns once the server accepts
    /// connections, and serves until [`RunningVault::shutdown`].
    pub async fn start(self, listener: TcpListener) -> std::io::Result<RunningVault> {
        let addr = listener.local_addr()?;
        let lockout = self
            .login_lockout
            .unwrap_or(self.generation == Generation::Current);
        let shared = Arc::new(Shared {
            generation: self.generation,
            data: RwLock::new(self.data),
            identities: RwLock::new(self.identities),
            tokens: Mutex::new(tokens::TokenStore::default()),
            edge: Mutex::new(gate::Edge::new(self.gate, self.block_default_user_agents)),
            faults: Faults::default(),
            log: reqlog::RequestLog::default(),
            logins: AtomicUsize::new(0),
            arrivals: AtomicUsize::new(0),
            login_lockout: lockout,
            org: org::OrgStore::default(),
            limiter: self.rate_limits.then(ratelimit::Limiter::default),
        });
        let server = server::spawn(listener, Arc::clone(&shared));
        Ok(RunningVault {
            base_url: format!("http://{addr}"),
            shared,
            server: Arc::new(server),
        })
    }
}

/// State shared by the server tasks and every [`RunningVault`] handle.
pub(crate) struct Shared {
    pub(crate) generation: Generation,
    pub(crate) data: RwLock<VaultData>,
    pub(crate) identities: RwLock<Vec<Identity>>,
    pub(crate) tokens: Mutex<tokens::TokenStore>,
    pub(crate) edge: Mutex<gate::Edge>,
    pub(crate) faults: Faults,
    pub(crate) log: reqlog::RequestLog,
    pub(crate) logins: AtomicUsize,
    /// Requests received, counted on arrival (the log records them when
    /// answered, after any injected latency).
    pub(crate) arrivals: AtomicUsize,
    pub(crate) login_lockout: bool,
    /// Identities made through the identity-management routes.
    pub(crate) org: org::OrgStore,
    pub(crate) limiter: Option<ratelimit::Limiter>,
}

impl Shared {
    pub(crate) fn identity(&self, client_id: &str) -> Option<Identity> {
        read(&self.identities)
            .iter()
            .find(|i| i.client_id == client_id)
            .cloned()
            .or_else(|| self.org.identity(client_id))
    }
}

/// A handle on a running fake vault; clones share the same server.
#[derive(Clone)]
pub struct RunningVault {
    base_url: String,
    shared: Arc<Shared>,
    server: Arc<server::ServerHandle>,
}

impl RunningVault {
    /// `http://127.0.0.1:PORT`, without `/api`.
    pub fn base_url(&self) -> String {
        self.base_url.clone()
    }

    pub fn generation(&self) -> Generation {
        self.shared.generation
    }

    /// Every request seen so far, including those rejected at the edge.
    pub fn requests(&self) -> Vec<RecordedRequest> {
        self.shared.log.snapshot()
    }

    pub fn clear_requests(&self) {
        self.shared.log.clear();
    }

    /// Requests that have arrived, answered or not yet (e.g. held by latency).
    pub fn arrivals(&self) -> usize {
        self.shared.arrivals.load(Ordering::SeqCst)
    }

    /// Universal-auth login attempts that reached the vault, failed or not.
    pub fn login_count(&self) -> usize {
        self.shared.logins.load(Ordering::SeqCst)
    }

    /// Every token issued so far answers 403 TokenError "expired" from now on.
    pub fn expire_tokens(&self) {
        lock(&self.shared.tokens).expire_all();
    }

    /// Every token issued so far answers 401 "No identity access token found".
    pub fn revoke_tokens(&self) {
        lock(&self.shared.tokens).revoke_all();
    }

    pub fn set_gate(&self, gate: CfGate) {
        lock(&self.shared.edge).set_gate(gate);
    }

    pub fn set_block_default_user_agents(&self, block: bool) {
        lock(&self.shared.edge).block_default_user_agents = block;
    }

    pub fn faults(&self) -> &Faults {
        &self.shared.faults
    }

    /// Adds (or replaces) an identity while running.
    pub fn add_identity(&self, identity: Identity) {
        let mut ids = write(&self.shared.identities);
        ids.retain(|i| i.client_id != identity.client_id);
        ids.push(identity);
    }

    /// A valid access token minted directly, as if `client_id` had logged in
    /// (no login is counted). An unknown client id gets a token that
    /// authenticates but has no permissions.
    pub fn issue_token(&self, client_id: &str) -> String {
        let (ttl, max_ttl) = self
            .shared
            .identity(client_id)
            .map(|i| (i.access_token_ttl, i.access_token_max_ttl))
            .unwrap_or((DEFAULT_TOKEN_TTL, DEFAULT_TOKEN_TTL));
        lock(&self.shared.tokens).issue(client_id, ttl, max_ttl).token
    }

    /// Stops accepting, lets in-flight requests finish, and waits for that.
    pub async fn shutdown(self) {
        self.server.shutdown().await;
    }
}

impl std::fmt::Debug for RunningVault {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RunningVault")
            .field("base_url", &self.base_url)
            .field("generation", &self.shared.generation)
            .finish_non_exhaustive()
    }
}

// A panic while holding a lock cannot leave these structures half-updated in
// a way that matters to a fake, so poisoning is ignored rather than spread.
pub(crate) fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

pub(crate) fn read<T>(m: &RwLock<T>) -> RwLockReadGuard<'_, T> {
    m.read().unwrap_or_else(std::sync::PoisonError::into_inner)
}

pub(crate) fn write<T>(m: &RwLock<T>) -> RwLockWriteGuard<'_, T> {
    m.write().unwrap_or_else(std::sync::PoisonError::into_inner)
}
