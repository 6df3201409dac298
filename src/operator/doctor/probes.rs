//! The vault steps, in the runbook's order: reachability, `/api/status`
//! through Cloudflare Access, login, an in-scope read, an out-of-scope read
//! the vault must refuse, and a write probe it must refuse (its judgement is
//! in `write_probe.rs`). Reads never ask
//! for more than key names; probes name keys that do not exist
//! (`DOCTOR_PROBE_<random>`), so nothing is ever changed.

use crate::config::Credentials;
use crate::scope::SecretPath;
use crate::vault::{ListOptions, Location, Misconfiguration, PROBE_PREFIX, ReadOptions, VaultError};

use super::modes::{
    FIX_B, FIX_B_WAF, FIX_C, FIX_C_TOKEN, FIX_D_IN_SCOPE, FIX_D_OVER_PRIVILEGED, FIX_VAULT_DOWN, FailureMode,
    fix_a,
};
use super::net::{self, NetFailure};
use super::report::Step;
use super::{
    CREDENTIAL_STORE, IN_SCOPE, LOGIN, OUT_OF_SCOPE, Prepared, REACHABLE, STATUS, WRITE_PROBE, timed,
};

const PLAIN: ReadOptions = ReadOptions {
    expand_references: false,
    include_imports: false,
};

pub(super) fn probe_name() -> String {
    format!("{PROBE_PREFIX}{:016X}", rand::random::<u64>())
}

pub(super) fn at(location: &Location) -> String {
    format!("{}:{}", location.environment, location.path)
}

/// A folder's absolute path from a listing of `parent`.
fn child_path(parent: &SecretPath, folder: &crate::vault::Folder) -> Option<SecretPath> {
    match folder.relative_path.as_deref() {
        Some(rel) if parent.is_root() && rel.starts_with('/') => SecretPath::parse(rel).ok(),
        Some(rel) => SecretPath::parse(&format!(
            "{}/{}",
            parent.as_str().trim_end_matches('/'),
            rel.trim_start_matches('/')
        ))
        .ok(),
        None => parent.join(&folder.name).ok(),
    }
}

pub(super) struct Doctor<'a> {
    pub(super) p: &'a Prepared,
    port: u16,
}

/// What the in-scope step found, for the steps after it.
#[derive(Default)]
pub(super) struct Found {
    /// The environment the reads use, once known.
    environment: Option<String>,
    project: Option<String>,
    /// The in-scope folder, when the read there worked.
    pub(super) readable: Option<Location>,
    /// A folder outside the scope that the vault refused.
    pub(super) refused: Option<Location>,
}

pub(super) async fn vault_steps(p: &Prepared, steps: &mut Vec<Step>) {
    let (_, port) = net::host_and_port(&p.config.vault.base_url);
    let d = Doctor { p, port };
    let reach = timed(d.reachable()).await;
    let ok = reach.passed();
    steps.push(reach);
    if !ok {
        skip_from(steps, STATUS, "the host is not reachable");
        return;
    }
    let status = timed(d.status()).await;
    let ok = status.passed();
    steps.push(status);
    if !ok {
        skip_from(steps, LOGIN, "needs a passing status check");
        return;
    }
    let login = timed(d.login()).await;
    let ok = login.passed();
    steps.push(login);
    if !ok {
        skip_from(steps, IN_SCOPE, "needs a working login");
        return;
    }
    let mut found = Found::default();
    steps.push(timed(d.in_scope(&mut found)).await);
    if found.environment.is_none() {
        skip_from(
            steps,
            OUT_OF_SCOPE,
            "needs a concrete environment and project (see in-scope-read)",
        );
        return;
    }
    steps.push(timed(d.out_of_scope(&mut found)).await);
    steps.push(if found.readable.is_some() {
        timed(d.write_probe(&found)).await
    } else {
        Step::skip(WRITE_PROBE, "needs an in-scope folder that could be read")
    });
    steps.push(match (&found.project, &found.environment) {
        (Some(project), Some(environment)) => {
            timed(super::store::check(
                &p.client,
                project,
                std::slice::from_ref(environment),
            ))
            .await
        }
        _ => Step::skip(CREDENTIAL_STORE, "needs a concrete environment and project"),
    });
}

/// Every probe from `first` on, skipped `because` an earlier step failed.
pub(super) fn skip_from(steps: &mut Vec<Step>, first: &'static str, because: &str) {
    let order = [
        REACHABLE,
        STATUS,
        LOGIN,
        IN_SCOPE,
        OUT_OF_SCOPE,
        WRITE_PROBE,
        CREDENTIAL_STORE,
    ];
    let start = order.iter().position(|n| *n == first).unwrap_or(order.len());
    for name in &order[start..] {
        steps.push(Step::skip(name, because));
    }
}

impl Doctor<'_> {
    /// Any vault error, mapped to the runbook's failure mode and fix.
    pub(super) fn failure(&self, name: &'static str, e: &VaultError) -> Step {
        let proxy = self.p.proxy;
        let detail = e.to_string();
        if e.misconfiguration().is_some() {
            return Step::fail(name, detail).fix(e.hint());
        }
        match e {
            VaultError::CloudflareAccessRejected { .. } => {
                let detail = if proxy {
                    format!(
                        "the proxy is up but passed Cloudflare's rejection through: {detail} (the proxy's own CF_ACCESS_CLIENT_ID / _SECRET)"
                    )
                } else if self.p.config.vault.cf_access.is_none() {
                    format!(
                        "{detail}; no service token is configured (CF_ACCESS_CLIENT_ID / CF_ACCESS_CLIENT_SECRET unset)"
                    )
                } else {
                    detail
                };
                Step::fail(name, detail).mode(FailureMode::B).fix(FIX_B)
            }
            VaultError::CloudflareBotBlocked => Step::fail(name, detail).mode(FailureMode::B).fix(FIX_B_WAF),
            VaultError::BadCredentials { .. } => Step::fail(name, format!("401 — {detail}"))
                .mode(FailureMode::C)
                .fix(FIX_C),
            VaultError::TokenRejected { pre_issued, .. } => Step::fail(name, detail)
                .mode(FailureMode::C)
                .fix(if *pre_issued { FIX_C_TOKEN } else { FIX_C }),
            VaultError::Unreachable { .. } if proxy => Step::fail(
                name,
                format!(
                    "something is listening on port {} but does not answer like the proxy: {detail}",
                    self.port
                ),
            )
            .mode(FailureMode::A)
            .fix(fix_a(self.port)),
            VaultError::UnexpectedResponse { .. } if proxy => Step::fail(
                name,
                format!(
                    "something else is on port {}, not this binary's proxy: {detail}",
                    self.port
                ),
            )
            .mode(FailureMode::A)
            .fix(fix_a(self.port)),
            VaultError::Server { status, .. } if proxy && (502..=504).contains(status) => Step::fail(
                name,
                format!("{status} — proxy is running but the vault is unreachable ({detail})"),
            )
            .fix(FIX_VAULT_DOWN),
            VaultError::Unreachable { .. } | VaultError::Timeout(_) => {
                Step::fail(name, detail).fix(format!("{} {}", e.hint(), FIX_VAULT_DOWN))
            }
            VaultError::Server { status, .. } if (500..=599).contains(status) => {
                Step::fail(name, detail).fix(FIX_VAULT_DOWN)
            }
            _ => Step::fail(name, detail).fix(e.hint()),
        }
    }

    /// Through the proxy a 403 may be the proxy's own write or scope policy
    /// (ProxyWriteRefused / ProxyScopeRefused), not the vault's RBAC.
    pub(super) fn proxy_note(&self) -> &'static str {
        if self.p.proxy {
            " (through the proxy, whose own write/scope policy may be what refused: run doctor without \
             --proxy-url to test the identity's RBAC)"
        } else {
            ""
        }
    }

    async fn reachable(&self) -> Step {
        let settings = &self.p.config.vault;
        match net::check(settings).await {
            Ok(r) => Step::pass(
                REACHABLE,
                format!("DNS: {} · TCP: {} · TLS: {}", r.dns, r.tcp, r.tls),
            ),
            Err((r, failure)) => {
                let so_far = if r.dns.is_empty() {
                    String::new()
                } else {
                    format!(" (DNS: {})", r.dns)
                };
                match failure {
                    NetFailure::Dns(d) => Step::fail(REACHABLE, format!("DNS: {d}")).fix(
                        "check the host name in INFISICAL_HOST_URL (or --proxy-url) and this machine's DNS",
                    ),
                    NetFailure::Refused(d) if self.p.proxy => {
                        Step::fail(REACHABLE, format!("TCP: {d}{so_far} — proxy not running"))
                            .mode(FailureMode::A)
                            .fix(fix_a(self.port))
                    }
                    NetFailure::Refused(d) | NetFailure::Tcp(d) => {
                        Step::fail(REACHABLE, format!("TCP: {d}{so_far}")).fix(FIX_VAULT_DOWN)
                    }
                    NetFailure::Tls(d) if Misconfiguration::plain_http_detail(&d) => {
                        Step::fail(REACHABLE, format!("TLS: {d}{so_far}; TCP: {}", r.tcp))
                            .fix(Misconfiguration::PlainHttpServer.hint())
                    }
                    NetFailure::Tls(d) => Step::fail(REACHABLE, format!("TLS: {d}{so_far}; TCP: {}", r.tcp)).fix(
                        "the TLS setup does not verify: check that INFISICAL_HOST_URL's host name matches the \
                         certificate; a TLS-inspecting proxy needs its CA in the system store",
                    ),
                }
            }
        }
    }

    async fn status(&self) -> Step {
        let through = if self.p.proxy {
            "proxy + CF Access + Infisical all reachable"
        } else if self.p.config.vault.cf_access.is_some() {
            "CF Access + Infisical reachable"
        } else {
            "Infisical reachable"
        };
        match self.p.client.status().await {
            Ok(s) if s.message.as_deref() == Some("Ok") => {
                Step::pass(STATUS, format!("200 {{\"message\": \"Ok\"}} — {through}"))
            }
            Ok(_) => {
                let e = VaultError::UnexpectedResponse {
                    url: format!(
                        "{}/api/status",
                        self.p.config.vault.base_url.as_str().trim_end_matches('/')
                    ),
                    status: 200,
                    detail: "JSON without Infisical's {\"message\": \"Ok\"}".into(),
                };
                self.failure(STATUS, &e)
            }
            Err(e) => self.failure(STATUS, &e),
        }
    }

    async fn login(&self) -> Step {
        if matches!(self.p.config.credentials, Credentials::AccessToken(_)) {
            return Step::pass(
                LOGIN,
                "pre-issued INFISICAL_TOKEN: no login needed (the reads below check the token)",
            );
        }
        match self.p.client.authenticate().await {
            Ok(()) => Step::pass(LOGIN, "universal-auth login: 200, token present: true"),
            Err(e) => self.failure(LOGIN, &e),
        }
    }

    /// Where the in-scope read goes: `--probe`, else the first scope entry
    /// made concrete (its literal prefix, or the first folder under it that
    /// the scope allows).
    async fn in_scope_target(&self, found: &mut Found) -> Result<(Location, Option<String>), Step> {
        let config = &self.p.config;
        let Some(project) = config.defaults.project_id.clone() else {
            return Err(
                Step::fail(IN_SCOPE, "no project: INFISICAL_PROJECT_ID is not set")
                    .fix("set INFISICAL_PROJECT_ID (or --project-id) to the project the agents read"),
            );
        };
        found.project = Some(project.clone());
        if let Some(probe) = &self.p.probe {
            found.environment = Some(probe.environment.clone());
            let location = Location {
                project_id: project,
                environment: probe.environment.clone(),
                path: probe.path.clone(),
            };
            return Ok((location, probe.key.clone()));
        }
        let Some(entry) = config.scope.entries().first() else {
            return Err(Step::warn(IN_SCOPE, "no scope entry to read").fix("pass --probe ENV:PATH"));
        };
        let environment = match entry.environment() {
            "*" => config.defaults.environment.clone().ok_or_else(|| {
                Step::warn(
                    IN_SCOPE,
                    format!("scope entry {entry} names no environment and INFISICAL_ENVIRONMENT is unset"),
                )
                .fix("set INFISICAL_ENVIRONMENT, or pass --probe ENV:PATH")
            })?,
            env => env.to_string(),
        };
        found.environment = Some(environment.clone());
        let prefix = entry.glob().literal_prefix();
        let mut location = Location {
            project_id: project,
            environment: environment.clone(),
            path: prefix.clone(),
        };
        if config.scope.allows(&environment, &prefix) {
            return Ok((location, None));
        }
        let folders = self
            .p
            .client
            .list_folders(&location, false)
            .await
            .map_err(|e| self.failure(IN_SCOPE, &e))?;
        let child = folders
            .iter()
            .filter_map(|f| child_path(&prefix, f))
            .find(|p| config.scope.allows(&environment, p));
        match child {
            Some(path) => {
                location.path = path;
                Ok((location, None))
            }
            None => Err(Step::warn(
                IN_SCOPE,
                format!("no folder under {environment}:{prefix} matches the scope entry {entry}"),
            )
            .fix("pass --probe ENV:PATH with a folder inside the scope")),
        }
    }

    async fn in_scope(&self, found: &mut Found) -> Step {
        let (location, key) = match self.in_scope_target(found).await {
            Ok(t) => t,
            Err(step) => return step,
        };
        let note = if self.p.config.scope.allows(&location.environment, &location.path) {
            ""
        } else {
            " (note: outside the client-side scope)"
        };
        let outcome = match &key {
            Some(name) => self.p.client.get_secret(&location, name, PLAIN).await.map(|s| {
                format!(
                    "read {} at {} (version {}; value not shown){note}",
                    s.secret_key,
                    at(&location),
                    s.version
                )
            }),
            None => {
                let options = ListOptions {
                    read: PLAIN,
                    recursive: false,
                    with_values: false,
                };
                match self.p.client.list_secrets(&location, options).await {
                    Ok(list) if list.secrets.is_empty() => {
                        found.readable = Some(location.clone());
                        return Step::warn(
                            IN_SCOPE,
                            format!(
                                "0 keys at {}{note}: the folder is empty, or the identity cannot see its keys \
                                 (current Infisical filters a listing silently instead of answering 403)",
                                at(&location)
                            ),
                        )
                        .mode(FailureMode::D)
                        .fix(format!(
                            "pass --probe ENV:PATH:KEY with a key that exists for a definite answer. {FIX_D_IN_SCOPE}"
                        ));
                    }
                    other => other.map(|list| {
                        let n = list.secrets.len();
                        format!(
                            "{n} key{} at {} (names only, no values){note}",
                            if n == 1 { "" } else { "s" },
                            at(&location)
                        )
                    }),
                }
            }
        };
        match outcome {
            Ok(detail) => {
                found.readable = Some(location);
                Step::pass(IN_SCOPE, detail)
            }
            Err(VaultError::PermissionDenied { message }) => Step::fail(
                IN_SCOPE,
                format!("403 for an in-scope path {}: {message}", at(&location)),
            )
            .mode(FailureMode::D)
            .fix(FIX_D_IN_SCOPE),
            Err(e @ VaultError::NotFound { .. }) if e.misconfiguration().is_some() => {
                Step::fail(IN_SCOPE, format!("404 at {}: {e}", at(&location))).fix(e.hint())
            }
            Err(VaultError::NotFound { message }) => Step::fail(
                IN_SCOPE,
                format!("404 at {}: {message}", at(&location)),
            )
            .fix("the folder or key does not exist there: check INFISICAL_SCOPE / --scope, or pass --probe ENV:PATH[:KEY]"),
            Err(e) => self.failure(IN_SCOPE, &e),
        }
    }

    /// A folder that exists and lies outside every scope entry: `/` when the
    /// scope does not allow it, else the first listed folder it does not allow.
    async fn out_of_scope_target(&self, found: &Found) -> Result<Option<Location>, Step> {
        let (Some(environment), Some(project)) = (found.environment.clone(), found.project.clone()) else {
            return Ok(None);
        };
        let scope = &self.p.config.scope;
        let root = SecretPath::root();
        let mut location = Location {
            project_id: project,
            environment: environment.clone(),
            path: root.clone(),
        };
        if !scope.allows(&environment, &root) {
            return Ok(Some(location));
        }
        let folders = self
            .p
            .client
            .list_folders(&location, true)
            .await
            .map_err(|e| self.failure(OUT_OF_SCOPE, &e))?;
        let outside = folders
            .iter()
            .filter_map(|f| child_path(&root, f))
            .find(|p| !scope.allows(&environment, p));
        Ok(outside.map(|path| {
            location.path = path;
            location
        }))
    }

    async fn out_of_scope(&self, found: &mut Found) -> Step {
        let location = match self.out_of_scope_target(found).await {
            Ok(Some(l)) => l,
            Ok(None) => {
                return Step::warn(
                    OUT_OF_SCOPE,
                    "the scope covers every folder of the environment: nothing outside it to test",
                );
            }
            Err(step) => return step,
        };
        let name = probe_name();
        match self.p.client.get_secret(&location, &name, PLAIN).await {
            Err(VaultError::PermissionDenied { .. }) => {
                let by = if self.p.proxy { "" } else { " by the vault" };
                let detail = format!("{} refused{by} (403), as it must be{}", at(&location), self.proxy_note());
                found.refused = Some(location);
                Step::pass(OUT_OF_SCOPE, detail)
            }
            Err(e) if e.misconfiguration() == Some(Misconfiguration::FolderNotFound) => Step::warn(
                OUT_OF_SCOPE,
                format!("{} does not exist, so the vault's refusal cannot be tested there", at(&location)),
            )
            .fix("pass --probe with an environment whose folders exist outside the scope"),
            // The project or environment does not exist: nothing was read, so
            // this says nothing about the identity's privileges.
            Err(e) if e.misconfiguration().is_some() => Step::fail(
                OUT_OF_SCOPE,
                format!("{} cannot be tested: {e}", at(&location)),
            )
            .fix(e.hint()),
            Err(VaultError::NotFound { .. }) => Step::fail(
                OUT_OF_SCOPE,
                format!(
                    "the vault looked for a key at {} instead of refusing (404, not 403): the identity can read outside the scope",
                    at(&location)
                ),
            )
            .mode(FailureMode::D)
            .fix(FIX_D_OVER_PRIVILEGED),
            Ok(secret) => Step::fail(
                OUT_OF_SCOPE,
                format!(
                    "the vault returned a secret ({}) at {}, outside the scope: the identity is over-privileged",
                    secret.secret_key,
                    at(&location)
                ),
            )
            .mode(FailureMode::D)
            .fix(FIX_D_OVER_PRIVILEGED),
            Err(e) => self.failure(OUT_OF_SCOPE, &e),
        }
    }
}
