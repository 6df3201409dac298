//! `provision` / `deprovision`: the seed-001 runbook's onboarding of a
//! read-only agent identity, automated and verified.
//!
//! In the runbook's order: project (org id), a machine identity with org role
//! `no-access`, universal auth, one client secret that goes from the vault's
//! answer straight into the vault (`PFX_CLIENT_ID` / `PFX_CLIENT_SECRET` at
//! the store path), project membership `no-access`, one read-only privilege
//! per `--glob`; then a verification like `doctor`'s, as the new identity.
//! A failure undoes what the run made. Re-running completes what is missing.
//!
//! How an identity is recognised as made here: Infisical does not keep
//! names unique, so a same-named identity counts as ours only when its
//! universal-auth client id equals the `PFX_CLIENT_ID` stored at the store
//! path. Its privileges are recognised by their slug, `<name>-read-<hash of
//! env:glob>`.
//!
//! Sub-modules: `api` (the identity-management calls, both API generations),
//! `plan` (names and glob guard rails), `report` (the output).

mod api;
mod plan;
mod report;

use std::time::Instant;

use clap::Args;
use rand::Rng;
use secrecy::{ExposeSecret, SecretString};

pub use plan::DEFAULT_STORE_ROOT;
pub use report::{EXIT_CONFIG, EXIT_FAILED, EXIT_OK, Export, Line, Outcome, Status};

use crate::config::{ConfigError, Credentials, EnvSource, VaultArgs, VaultSettings};
use crate::scope::{Glob, SecretPath};
use crate::vault::{ListOptions, Location, ReadOptions, VaultClient, VaultError};
use api::{AdminApi, NewClientSecret, PrivilegeInfo, ProjectInfo, SecretAt, UniversalAuth};

/// Flags of `provision`.
#[derive(Debug, Clone, Args)]
pub struct ProvisionArgs {
    /// Name of the machine identity; it also names its credentials folder.
    pub name: String,

    #[command(flatten)]
    pub vault: VaultArgs,

    /// Project the identity joins (also INFISICAL_PROJECT_ID).
    #[arg(long, env = "INFISICAL_PROJECT_ID", value_name = "ID")]
    pub project_id: Option<String>,

    /// Environment slug the privileges apply to (e.g. prod).
    #[arg(long, value_name = "SLUG")]
    pub environment: Option<String>,

    /// secretPath glob the agent may read (read only), repeatable: one
    /// privilege each. `/**` needs --allow-broad; a glob that can reach the
    /// credential store is refused.
    #[arg(long = "glob", value_name = "GLOB")]
    pub globs: Vec<String>,

    /// Environment of the stored credentials (default: --environment).
    #[arg(long, value_name = "SLUG")]
    pub store_environment: Option<String>,

    /// Folder of the stored credentials (default: /MooseQuest/identities/NAME).
    #[arg(long, value_name = "PATH")]
    pub store_path: Option<String>,

    /// Prefix of the stored keys PFX_CLIENT_ID / PFX_CLIENT_SECRET (default:
    /// NAME in upper snake case).
    #[arg(long, value_name = "PFX")]
    pub store_prefix: Option<String>,

    /// Access-token TTL in seconds.
    #[arg(long, default_value_t = 3600, value_name = "SECS")]
    pub ttl: u64,

    /// Access-token max TTL in seconds (renewals end there).
    #[arg(long, default_value_t = 7200, value_name = "SECS")]
    pub max_ttl: u64,

    /// Address or CIDR allowed to log in and use tokens, repeatable
    /// (default: 0.0.0.0/0 and ::/0, as the runbook).
    #[arg(long = "trusted-ip", value_name = "CIDR")]
    pub trusted_ips: Vec<String>,

    /// Allow a glob that grants the whole environment (e.g. /**).
    #[arg(long)]
    pub allow_broad: bool,

    /// Issue a new client secret, store it, verify a login with it, then
    /// revoke the old ones.
    #[arg(long)]
    pub rotate_secret: bool,

    /// Print the plan; write nothing.
    #[arg(long)]
    pub dry_run: bool,

    /// One JSON document instead of the report.
    #[arg(long)]
    pub json: bool,
}

/// Flags of `deprovision`.
#[derive(Debug, Clone, Args)]
pub struct DeprovisionArgs {
    /// Name of the machine identity made by `provision`.
    pub name: String,

    #[command(flatten)]
    pub vault: VaultArgs,

    /// Project the identity is a member of (also INFISICAL_PROJECT_ID).
    #[arg(long, env = "INFISICAL_PROJECT_ID", value_name = "ID")]
    pub project_id: Option<String>,

    /// Environment of the stored credentials (as --store-environment, or
    /// --environment, of provision).
    #[arg(long, visible_alias = "store-environment", value_name = "SLUG")]
    pub environment: Option<String>,

    /// Folder of the stored credentials (default: /MooseQuest/identities/NAME).
    #[arg(long, value_name = "PATH")]
    pub store_path: Option<String>,

    /// Prefix of the stored keys (default: NAME in upper snake case).
    #[arg(long, value_name = "PFX")]
    pub store_prefix: Option<String>,

    /// Leave the stored PFX_CLIENT_ID / PFX_CLIENT_SECRET in place.
    #[arg(long)]
    pub keep_stored: bool,

    /// Print what would be removed; remove nothing.
    #[arg(long)]
    pub dry_run: bool,

    /// One JSON document instead of the report.
    #[arg(long)]
    pub json: bool,
}

/// Everything a run needs once the flags and variables are valid.
struct Setup {
    settings: VaultSettings,
    credentials: Credentials,
    project_id: String,
    name: String,
    environment: String,
    store_env: String,
    store: SecretPath,
    store_root: SecretPath,
    prefix: String,
    globs: Vec<Glob>,
}

impl Setup {
    fn id_key(&self) -> String {
        format!("{}_CLIENT_ID", self.prefix)
    }

    fn secret_key(&self) -> String {
        format!("{}_CLIENT_SECRET", self.prefix)
    }

    fn at<'a>(&'a self, key: &'a str) -> SecretAt<'a> {
        SecretAt {
            project_id: &self.project_id,
            environment: &self.store_env,
            path: self.store.as_str(),
            key,
        }
    }

    fn stored(&self, key: &str) -> String {
        format!(
            "{}:{}/{key}",
            self.store_env,
            self.store.as_str().trim_end_matches('/')
        )
    }
}

struct Common<'a> {
    name: &'a str,
    vault: &'a VaultArgs,
    project_id: Option<&'a str>,
    environment: Option<&'a str>,
    store_environment: Option<&'a str>,
    store_path: Option<&'a str>,
    store_prefix: Option<&'a str>,
}

fn setup(c: &Common<'_>, globs: &[String], env: &dyn EnvSource) -> Result<Setup, ConfigError> {
    plan::check_name(c.name)
        .map_err(|why| ConfigError::new("NAME", why, "pick a name such as mcp-main-loop"))?;
    let settings = c.vault.settings(env)?;
    let credentials = c.vault.credentials(env)?;
    let project_id = c
        .project_id
        .map(str::trim)
        .filter(|p| !p.is_empty())
        .ok_or_else(|| {
            ConfigError::new(
                "INFISICAL_PROJECT_ID (--project-id)",
                "is not set",
                "export INFISICAL_PROJECT_ID with the project's id (Project Settings in Infisical)",
            )
        })?
        .to_owned();
    let environment = c.environment.map(str::trim).unwrap_or("").to_owned();
    let store_env = c
        .store_environment
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .unwrap_or(&environment)
        .to_owned();
    if store_env.is_empty() {
        return Err(ConfigError::new(
            "--environment",
            "is not set",
            "pass --environment SLUG (e.g. prod); the credentials are stored there unless --store-environment says otherwise",
        ));
    }
    let raw_store = c
        .store_path
        .map(str::to_owned)
        .unwrap_or_else(|| format!("{DEFAULT_STORE_ROOT}/{}", c.name));
    let store = SecretPath::parse(&raw_store).map_err(|e| {
        ConfigError::new(
            "--store-path",
            e.to_string(),
            "give a folder path such as /MooseQuest/identities/NAME",
        )
    })?;
    let store_root = store.parent().unwrap_or_else(SecretPath::root);
    let prefix = c
        .store_prefix
        .map(str::to_owned)
        .unwrap_or_else(|| plan::default_prefix(c.name));
    plan::check_prefix(&prefix)
        .map_err(|why| ConfigError::new("--store-prefix", why, "e.g. --store-prefix MCP_MAIN_LOOP"))?;
    let mut parsed = Vec::new();
    for raw in globs {
        parsed.push(
            plan::parse_glob(raw)
                .map_err(|r| ConfigError::new("--glob", r.to_string(), "e.g. --glob '/apps/agent/**'"))?,
        );
    }
    Ok(Setup {
        settings,
        credentials,
        project_id,
        name: c.name.to_owned(),
        environment,
        store_env,
        store,
        store_root,
        prefix,
        globs: parsed,
    })
}

fn config_failure(mut outcome: Outcome, e: &ConfigError) -> Outcome {
    outcome.result = format!("configuration error: {}: {}", e.var, e.problem);
    outcome.notes.push(format!("fix: {}", e.fix));
    outcome.exit = EXIT_CONFIG;
    outcome
}

fn fail(outcome: &mut Outcome, name: &str, started: Instant, what: &str, e: &VaultError) {
    outcome.steps.push(Line::new(
        name,
        Status::Fail,
        started,
        format!("{what}: {e} (fix: {})", e.hint()),
    ));
}

fn valid_cidr(raw: &str) -> bool {
    let (address, prefix) = match raw.split_once('/') {
        Some((a, p)) => (a, Some(p)),
        None => (raw, None),
    };
    match address.parse::<std::net::IpAddr>() {
        Ok(ip) => {
            let max = if ip.is_ipv4() { 32 } else { 128 };
            prefix.is_none_or(|p| p.parse::<u8>().is_ok_and(|p| p <= max))
        }
        Err(_) => false,
    }
}

/// What was made by this run, in order, so that a failure can undo it.
enum Made {
    Identity(String),
    ClientSecret {
        identity: String,
        id: String,
    },
    Folder {
        parent: String,
        name: String,
    },
    Secret(String),
    Membership(String),
    Privilege {
        identity: String,
        privilege: PrivilegeInfo,
    },
}

struct Run<'a> {
    setup: &'a Setup,
    api: AdminApi,
    project: ProjectInfo,
    outcome: Outcome,
    made: Vec<Made>,
}

/// What the vault holds under `NAME`.
enum Found {
    None,
    Ours { id: String, ua: UniversalAuth },
    Conflict(String),
}

async fn connect(setup: &Setup, outcome: &mut Outcome) -> Result<(AdminApi, ProjectInfo), ()> {
    let started = Instant::now();
    let api = match AdminApi::new(&setup.settings, setup.credentials.clone()) {
        Ok(a) => a,
        Err(e) => {
            fail(outcome, "connect", started, "cannot set up the vault client", &e);
            return Err(());
        }
    };
    match api.project(&setup.project_id).await {
        Ok(project) => {
            outcome.steps.push(Line::new(
                "project",
                Status::Pass,
                started,
                format!(
                    "{} (slug {}), org {}; environments {}",
                    project.id,
                    project.slug,
                    project.org_id,
                    project.environments.join(", ")
                ),
            ));
            Ok((api, project))
        }
        Err(e) => {
            fail(
                outcome,
                "project",
                started,
                "cannot read the project as the admin identity",
                &e,
            );
            Err(())
        }
    }
}

async fn find(run: &mut Run<'_>) -> Result<Found, VaultError> {
    let started = Instant::now();
    let setup = run.setup;
    let ids = run.api.identities_named(&run.project.org_id, &setup.name).await?;
    let id_key = setup.id_key();
    let stored = run.api.read_secret(&setup.at(&id_key)).await?;
    let mut ours = Vec::new();
    let mut strangers = Vec::new();
    for id in ids {
        let ua = run.api.universal_auth(&id).await?;
        match (ua, &stored) {
            (Some(ua), Some(s)) if ua.client_id == s.expose_secret().trim() => ours.push((id, ua)),
            _ => strangers.push(id),
        }
    }
    let found = match (ours.len(), strangers.is_empty()) {
        (0, true) => Found::None,
        (1, true) => {
            let Some((id, ua)) = ours.pop() else {
                return Ok(Found::None);
            };
            Found::Ours { id, ua }
        }
        (_, false) => Found::Conflict(format!(
            "an identity named {} exists that provision did not make (id {}): its universal-auth client id is not the one stored at {}. \
             Infisical does not keep names unique, so this run will not create a second one; pick another NAME, or remove that identity in Infisical first",
            setup.name,
            strangers.join(", "),
            setup.stored(&id_key)
        )),
        _ => Found::Conflict(format!(
            "{} identities named {} match the stored client id; remove the extra ones in Infisical first",
            ours.len(),
            setup.name
        )),
    };
    let detail = match &found {
        Found::None => format!("no identity named {} yet", setup.name),
        Found::Ours { id, .. } => format!(
            "{id} exists and was made by provision (its client id is the one stored at {})",
            setup.stored(&id_key)
        ),
        Found::Conflict(why) => why.clone(),
    };
    let status = if matches!(found, Found::Conflict(_)) {
        Status::Fail
    } else {
        Status::Pass
    };
    run.outcome
        .steps
        .push(Line::new("lookup", status, started, detail));
    Ok(found)
}

/// Folders holding `*_CLIENT_SECRET` in the store environment, as far as the
/// admin identity sees them.
async fn companions(run: &Run<'_>) -> Vec<String> {
    match run
        .api
        .secret_keys(&run.setup.project_id, &run.setup.store_env, "/", true)
        .await
    {
        Ok(keys) => {
            let mut paths: Vec<String> = keys
                .into_iter()
                .filter(|(_, k)| k.ends_with("_CLIENT_SECRET"))
                .map(|(p, _)| p)
                .collect();
            paths.sort();
            paths.dedup();
            paths
        }
        Err(e) => {
            tracing::debug!(error = %e, "could not list the store environment for client secrets");
            Vec::new()
        }
    }
}

/// The glob guard rails; `Err` holds the refusal.
async fn check_globs(run: &mut Run<'_>, allow_broad: bool) -> Result<(), String> {
    let setup = run.setup;
    for glob in &setup.globs {
        if plan::is_broad(glob) && !allow_broad {
            return Err(plan::GlobRefusal::Broad {
                glob: glob.as_str().to_owned(),
            }
            .to_string());
        }
        run.outcome.warnings.extend(plan::pitfalls(glob));
    }
    if setup.environment != setup.store_env {
        return Ok(());
    }
    let known = companions(run).await;
    for glob in &setup.globs {
        if let Some(example) = plan::store_exposure(glob, &setup.store, &setup.store_root, &known) {
            let prefix = glob.literal_prefix();
            let names = run
                .api
                .folder_names(&setup.project_id, &setup.environment, prefix.as_str())
                .await
                .unwrap_or_default();
            let suggestions = names
                .iter()
                .filter_map(|n| prefix.join(n).ok())
                .filter(|p| {
                    !setup.store.is_at_or_below(p)
                        && plan::store_exposure(
                            &Glob::new(&format!("{}/**", p.as_str())).unwrap_or_else(|_| glob.clone()),
                            &setup.store,
                            &setup.store_root,
                            &known,
                        )
                        .is_none()
                })
                .map(|p| format!("--glob '{}/**'", p.as_str()))
                .take(5)
                .collect();
            return Err(plan::GlobRefusal::CoversStore {
                glob: glob.as_str().to_owned(),
                store: format!("{}:{}", setup.store_env, setup.store_root.as_str()),
                example,
                suggestions,
            }
            .to_string());
        }
    }
    Ok(())
}

fn exports(run: &mut Run<'_>) {
    let s = run.setup;
    let id_key = s.id_key();
    let secret_key = s.secret_key();
    let outcome = &mut run.outcome;
    outcome.export = vec![
        Export {
            variable: id_key.clone(),
            from: format!("vault {}", s.stored(&id_key)),
        },
        Export {
            variable: secret_key.clone(),
            from: format!("vault {}", s.stored(&secret_key)),
        },
        Export {
            variable: "INFISICAL_PROJECT_ID".into(),
            from: s.project_id.clone(),
        },
    ];
    if s.settings.cf_access.is_some() {
        for var in [crate::config::CF_ID_VAR, crate::config::CF_SECRET_VAR] {
            outcome.export.push(Export {
                variable: var.into(),
                from: "the Cloudflare Access service token used here".into(),
            });
        }
    }
    let scopes: Vec<String> = s
        .globs
        .iter()
        .map(|g| format!("--scope '{}:{}'", s.environment, g.as_str()))
        .collect();
    let scopes = if scopes.is_empty() {
        // --rotate-secret is given no globs: the operator knows them.
        "--scope 'ENV:GLOB' (one per --glob of the agent)".to_owned()
    } else {
        scopes.join(" ")
    };
    let environment = if s.environment.is_empty() {
        &s.store_env
    } else {
        &s.environment
    };
    outcome.mcp_config = Some(format!(
        "infisical-mcp-rs mcp-config --client-id-var {id_key} --client-secret-var {secret_key} --environment {environment} {scopes} --write"
    ));
}

/// `provision`: the onboarding, its re-run, `--rotate-secret`, `--dry-run`.
pub async fn provision(args: &ProvisionArgs, env: &dyn EnvSource) -> Outcome {
    let command = if args.rotate_secret {
        "provision --rotate-secret"
    } else {
        "provision"
    };
    let outcome = Outcome::new(command, &args.name, args.dry_run);
    let common = Common {
        name: &args.name,
        vault: &args.vault,
        project_id: args.project_id.as_deref(),
        environment: args.environment.as_deref(),
        store_environment: args.store_environment.as_deref(),
        store_path: args.store_path.as_deref(),
        store_prefix: args.store_prefix.as_deref(),
    };
    let setup = match setup(&common, &args.globs, env) {
        Ok(s) => s,
        Err(e) => return config_failure(outcome, &e),
    };
    if !args.rotate_secret {
        let problem = if setup.environment.is_empty() {
            Some(ConfigError::new(
                "--environment",
                "is not set",
                "pass --environment SLUG (e.g. prod)",
            ))
        } else if setup.globs.is_empty() {
            Some(ConfigError::new(
                "--glob",
                "is not given",
                "pass --glob with the narrowest secretPath glob the agent needs, e.g. --glob '/apps/agent/**'",
            ))
        } else if args.ttl == 0 || args.ttl > args.max_ttl {
            Some(ConfigError::new(
                "--ttl",
                format!("{} is not within 1..=--max-ttl ({})", args.ttl, args.max_ttl),
                "e.g. --ttl 3600 --max-ttl 7200",
            ))
        } else {
            args.trusted_ips.iter().find(|ip| !valid_cidr(ip)).map(|ip| {
                ConfigError::new(
                    "--trusted-ip",
                    format!("'{ip}' is not an address or CIDR"),
                    "e.g. --trusted-ip 203.0.113.0/24",
                )
            })
        };
        if let Some(e) = problem {
            return config_failure(outcome, &e);
        }
    }
    let mut outcome = outcome;
    outcome.target = format!("vault {}", setup.settings.base_url);
    let Ok((api, project)) = connect(&setup, &mut outcome).await else {
        outcome.result = "failed".into();
        outcome.exit = EXIT_FAILED;
        return outcome;
    };
    for (flag, slug) in [
        ("--environment", &setup.environment),
        ("--store-environment", &setup.store_env),
    ] {
        if !slug.is_empty() && !project.environments.contains(slug) {
            let e = ConfigError::new(
                flag,
                format!("'{slug}' is not an environment of project {}", project.id),
                format!("use one of: {}", project.environments.join(", ")),
            );
            return config_failure(outcome, &e);
        }
    }
    let mut run = Run {
        setup: &setup,
        api,
        project,
        outcome,
        made: Vec::new(),
    };
    if !args.rotate_secret
        && let Err(why) = check_globs(&mut run, args.allow_broad).await
    {
        let mut outcome = run.outcome;
        outcome.result = format!("refused: {why}");
        outcome.exit = EXIT_CONFIG;
        return outcome;
    }
    let found = match find(&mut run).await {
        Ok(f) => f,
        Err(e) => {
            fail(
                &mut run.outcome,
                "lookup",
                Instant::now(),
                "cannot look the identity up",
                &e,
            );
            return finish(run, "failed", EXIT_FAILED);
        }
    };
    let done = match (found, args.rotate_secret) {
        (Found::Conflict(_), _) => return finish(run, "refused", EXIT_FAILED),
        (Found::None, true) => {
            run.outcome.notes.push(format!(
                "no identity {} made by provision was found; run provision without --rotate-secret first",
                setup.name
            ));
            return finish(run, "failed", EXIT_FAILED);
        }
        (Found::Ours { id, ua }, true) => rotate(&mut run, &id, &ua, args.dry_run).await,
        (Found::None, false) => create(&mut run, args).await,
        (Found::Ours { id, ua }, false) => complete(&mut run, &id, &ua, args.dry_run).await,
    };
    run.outcome.api_generation = Some(
        if run.api.legacy() {
            "2024 build (v1 privilege routes)"
        } else {
            "current (v2 privilege routes)"
        }
        .into(),
    );
    match done {
        Ok(result) => {
            if !args.dry_run {
                exports(&mut run);
            }
            finish(run, &result, EXIT_OK)
        }
        Err(()) => {
            undo(&mut run).await;
            finish(run, "failed", EXIT_FAILED)
        }
    }
}

fn finish(run: Run<'_>, result: &str, exit: u8) -> Outcome {
    let mut outcome = run.outcome;
    outcome.result = result.to_owned();
    outcome.exit = exit;
    outcome.ok = exit == EXIT_OK;
    outcome
}

fn plan_fresh(run: &mut Run<'_>, args: &ProvisionArgs) {
    let s = run.setup;
    let ips = trusted_ips(args).join(", ");
    let lines = [
        (
            "identity",
            format!("create machine identity {} (org role no-access)", s.name),
        ),
        (
            "universal-auth",
            format!(
                "attach universal auth: TTL {} s, max TTL {} s, trusted IPs {ips}",
                args.ttl, args.max_ttl
            ),
        ),
        (
            "client-secret",
            "create one client secret (no expiry, no use limit); its value goes straight into the vault"
                .into(),
        ),
        (
            "folder",
            format!("create {}:{} if missing", s.store_env, s.store.as_str()),
        ),
        (
            "store",
            format!(
                "store {} and {}",
                s.stored(&s.id_key()),
                s.stored(&s.secret_key())
            ),
        ),
        (
            "membership",
            format!("add it to project {} with role no-access", s.project_id),
        ),
    ];
    for (name, detail) in lines {
        run.outcome.steps.push(Line::plan(name, detail));
    }
    for g in &s.globs {
        run.outcome.steps.push(Line::plan(
            "privilege",
            format!(
                "{}: read only on {}:{}",
                plan::privilege_slug(&s.name, &s.environment, g.as_str()),
                s.environment,
                g.as_str()
            ),
        ));
    }
    run.outcome.steps.push(Line::plan(
        "verify",
        "log in as it; in-scope listing; out-of-scope read and a write must be refused",
    ));
}

fn trusted_ips(args: &ProvisionArgs) -> Vec<String> {
    if args.trusted_ips.is_empty() {
        vec!["0.0.0.0/0".into(), "::/0".into()]
    } else {
        args.trusted_ips.clone()
    }
}

/// Runs one write step, recording its line; `Err(())` after a failure line.
macro_rules! step {
    ($run:expr, $name:expr, $what:expr, $call:expr) => {{
        let started = Instant::now();
        match $call.await {
            Ok(v) => (v, started),
            Err(e) => {
                fail(&mut $run.outcome, $name, started, $what, &e);
                return Err(());
            }
        }
    }};
}

fn pass(run: &mut Run<'_>, name: &str, started: Instant, detail: impl Into<String>) {
    run.outcome
        .steps
        .push(Line::new(name, Status::Pass, started, detail));
}

/// The fresh onboarding, in the runbook's order.
async fn create(run: &mut Run<'_>, args: &ProvisionArgs) -> Result<String, ()> {
    let s = run.setup;
    if args.dry_run {
        plan_fresh(run, args);
        return Ok("plan".into());
    }
    let (identity, t) = step!(
        run,
        "identity",
        "cannot create the identity",
        run.api.create_identity(&run.project.org_id, &s.name)
    );
    run.made.push(Made::Identity(identity.clone()));
    run.outcome.identity_id = Some(identity.clone());
    pass(
        run,
        "identity",
        t,
        format!("created {identity} (org role no-access)"),
    );

    let ips = trusted_ips(args);
    let (ua, t) = step!(
        run,
        "universal-auth",
        "cannot attach universal auth",
        run.api
            .attach_universal_auth(&identity, args.ttl, args.max_ttl, &ips)
    );
    run.outcome.client_id = Some(ua.client_id.clone());
    pass(
        run,
        "universal-auth",
        t,
        format!(
            "client id {}, TTL {} s, max TTL {} s, trusted IPs {}",
            ua.client_id,
            ua.ttl,
            ua.max_ttl,
            ips.join(", ")
        ),
    );

    let secret = new_secret(run, &identity).await?;
    ensure_folder(run).await?;
    let client_id = SecretString::from(ua.client_id.clone());
    store(run, &s.id_key(), &client_id).await?;
    store(run, &s.secret_key(), &secret.secret).await?;

    let ((), t) = step!(
        run,
        "membership",
        "cannot add the identity to the project",
        run.api.create_membership(&s.project_id, &identity)
    );
    run.made.push(Made::Membership(identity.clone()));
    pass(
        run,
        "membership",
        t,
        format!("member of project {} with role no-access", s.project_id),
    );

    add_privileges(run, &identity, &[]).await?;
    verify(run, &ua.client_id, &secret.secret).await?;
    Ok("provisioned".into())
}

/// Creates a client secret; the value is only ever in `NewClientSecret`.
async fn new_secret(run: &mut Run<'_>, identity: &str) -> Result<NewClientSecret, ()> {
    let description = format!("infisical-mcp-rs provision {}", today());
    let (secret, t) = step!(
        run,
        "client-secret",
        "cannot create a client secret",
        run.api.create_client_secret(identity, &description)
    );
    run.made.push(Made::ClientSecret {
        identity: identity.to_owned(),
        id: secret.id.clone(),
    });
    pass(
        run,
        "client-secret",
        t,
        format!(
            "created (id {}); the value goes straight into the vault",
            secret.id
        ),
    );
    Ok(secret)
}

fn today() -> String {
    let format = time::macros::format_description!("[year]-[month]-[day]");
    time::OffsetDateTime::now_utc()
        .format(&format)
        .unwrap_or_default()
}

/// Creates the store folder when missing; remembers the highest folder this
/// run made, so that an undo removes exactly that.
async fn ensure_folder(run: &mut Run<'_>) -> Result<(), ()> {
    let s = run.setup;
    let started = Instant::now();
    let Some(parent) = s.store.parent() else {
        pass(run, "folder", started, "the store is the root folder");
        return Ok(());
    };
    let mut current = SecretPath::root();
    let mut first_missing = None;
    for segment in s.store.segments() {
        let names = match run
            .api
            .folder_names(&s.project_id, &s.store_env, current.as_str())
            .await
        {
            Ok(n) => n,
            Err(e) => {
                fail(&mut run.outcome, "folder", started, "cannot list folders", &e);
                return Err(());
            }
        };
        if !names.iter().any(|n| n == segment) {
            first_missing = Some((current.as_str().to_owned(), segment.to_owned()));
            break;
        }
        let Ok(next) = current.join(segment) else { break };
        current = next;
    }
    let Some((top_parent, top_name)) = first_missing else {
        pass(
            run,
            "folder",
            started,
            format!("{}:{} exists", s.store_env, s.store.as_str()),
        );
        return Ok(());
    };
    let last = s.store.segments().last().unwrap_or_default().to_owned();
    if let Err(e) = run
        .api
        .create_folder(&s.project_id, &s.store_env, parent.as_str(), &last)
        .await
    {
        fail(
            &mut run.outcome,
            "folder",
            started,
            "cannot create the credentials folder",
            &e,
        );
        return Err(());
    }
    let top = if top_parent == "/" {
        format!("/{top_name}")
    } else {
        format!("{top_parent}/{top_name}")
    };
    run.made.push(Made::Folder {
        parent: top_parent,
        name: top_name,
    });
    pass(
        run,
        "folder",
        started,
        format!("created {}:{} (from {top} down)", s.store_env, s.store.as_str()),
    );
    Ok(())
}

/// Stores `value` under `key` at the store path; an existing key (left by
/// an identity since deleted) is overwritten.
async fn store(run: &mut Run<'_>, key: &str, value: &SecretString) -> Result<(), ()> {
    let s = run.setup;
    let started = Instant::now();
    let at = s.at(key);
    match run.api.create_secret(&at, value).await {
        Ok(()) => {
            run.made.push(Made::Secret(key.to_owned()));
            pass(run, "store", started, format!("stored {}", s.stored(key)));
            Ok(())
        }
        Err(VaultError::BadRequest { status: 400, .. }) => match run.api.update_secret(&at, value).await {
            Ok(()) => {
                pass(
                    run,
                    "store",
                    started,
                    format!("replaced the stale {}", s.stored(key)),
                );
                Ok(())
            }
            Err(e) => {
                fail(
                    &mut run.outcome,
                    "store",
                    started,
                    &format!("cannot store {}", s.stored(key)),
                    &e,
                );
                Err(())
            }
        },
        Err(e) => {
            fail(
                &mut run.outcome,
                "store",
                started,
                &format!("cannot store {}", s.stored(key)),
                &e,
            );
            Err(())
        }
    }
}

/// Creates the privileges of every `--glob` not among `existing`.
async fn add_privileges(run: &mut Run<'_>, identity: &str, existing: &[PrivilegeInfo]) -> Result<usize, ()> {
    let s = run.setup;
    let mut added = 0;
    for glob in &s.globs {
        let slug = plan::privilege_slug(&s.name, &s.environment, glob.as_str());
        let started = Instant::now();
        if existing.iter().any(|p| p.slug == slug) {
            pass(
                run,
                "privilege",
                started,
                format!("{slug} exists (read on {}:{})", s.environment, glob.as_str()),
            );
            continue;
        }
        let project = run.project.clone();
        let (privilege, t) = step!(
            run,
            "privilege",
            &format!(
                "cannot add the read privilege on {}:{}",
                s.environment,
                glob.as_str()
            ),
            run.api
                .create_privilege(&project, identity, &slug, &s.environment, glob.as_str())
        );
        run.made.push(Made::Privilege {
            identity: identity.to_owned(),
            privilege: privilege.clone(),
        });
        added += 1;
        pass(
            run,
            "privilege",
            t,
            format!(
                "{}: read only on {}:{}",
                privilege.slug,
                s.environment,
                glob.as_str()
            ),
        );
    }
    Ok(added)
}

/// Re-run on an identity made here: creates only what is missing.
async fn complete(
    run: &mut Run<'_>,
    identity: &str,
    ua: &UniversalAuth,
    dry_run: bool,
) -> Result<String, ()> {
    let s = run.setup;
    run.outcome.identity_id = Some(identity.to_owned());
    run.outcome.client_id = Some(ua.client_id.clone());
    let started = Instant::now();
    let secret_key = s.secret_key();
    let stored = match run.api.read_secret(&s.at(&secret_key)).await {
        Ok(v) => v,
        Err(e) => {
            fail(
                &mut run.outcome,
                "store",
                started,
                &format!("cannot read {}", s.stored(&secret_key)),
                &e,
            );
            return Err(());
        }
    };
    let member = match run.api.membership_exists(&s.project_id, identity).await {
        Ok(m) => m,
        Err(e) => {
            fail(
                &mut run.outcome,
                "membership",
                started,
                "cannot read the project membership",
                &e,
            );
            return Err(());
        }
    };
    let existing = if member {
        let project = run.project.clone();
        match run.api.privileges(&project, identity).await {
            Ok(p) => p,
            Err(e) => {
                fail(
                    &mut run.outcome,
                    "privilege",
                    started,
                    "cannot list the identity's privileges",
                    &e,
                );
                return Err(());
            }
        }
    } else {
        Vec::new()
    };
    let missing_globs: Vec<&Glob> = s
        .globs
        .iter()
        .filter(|g| {
            !existing
                .iter()
                .any(|p| p.slug == plan::privilege_slug(&s.name, &s.environment, g.as_str()))
        })
        .collect();
    if dry_run {
        let mut nothing = true;
        if stored.is_none() {
            nothing = false;
            run.outcome.steps.push(Line::plan(
                "client-secret",
                format!(
                    "{} is missing: create a client secret and store it",
                    s.stored(&secret_key)
                ),
            ));
        }
        if !member {
            nothing = false;
            run.outcome.steps.push(Line::plan(
                "membership",
                format!("add it to project {} with role no-access", s.project_id),
            ));
        }
        for g in &missing_globs {
            nothing = false;
            run.outcome.steps.push(Line::plan(
                "privilege",
                format!("add read only on {}:{}", s.environment, g.as_str()),
            ));
        }
        if nothing {
            run.outcome
                .steps
                .push(Line::plan("nothing", "already provisioned: nothing to create"));
        }
        return Ok("plan".into());
    }
    let mut changed = false;
    let secret = match stored {
        Some(v) => {
            pass(
                run,
                "store",
                started,
                format!("{} is stored", s.stored(&secret_key)),
            );
            v
        }
        None => {
            changed = true;
            let fresh = new_secret(run, identity).await?;
            store(run, &secret_key, &fresh.secret).await?;
            fresh.secret
        }
    };
    if member {
        pass(
            run,
            "membership",
            Instant::now(),
            format!("member of project {}", s.project_id),
        );
    } else {
        changed = true;
        let ((), t) = step!(
            run,
            "membership",
            "cannot add the identity to the project",
            run.api.create_membership(&s.project_id, identity)
        );
        run.made.push(Made::Membership(identity.to_owned()));
        pass(
            run,
            "membership",
            t,
            format!("member of project {} with role no-access", s.project_id),
        );
    }
    if add_privileges(run, identity, &existing).await? > 0 {
        changed = true;
    }
    verify(run, &ua.client_id, &secret).await?;
    Ok(if changed {
        "provisioned (completed what was missing)".into()
    } else {
        "already provisioned".into()
    })
}

/// `--rotate-secret`: new secret stored and proven by a login before the
/// old ones are revoked.
async fn rotate(run: &mut Run<'_>, identity: &str, ua: &UniversalAuth, dry_run: bool) -> Result<String, ()> {
    let s = run.setup;
    run.outcome.identity_id = Some(identity.to_owned());
    run.outcome.client_id = Some(ua.client_id.clone());
    let secret_key = s.secret_key();
    let (old_ids, _) = step!(
        run,
        "client-secrets",
        "cannot list the client secrets",
        run.api.client_secret_ids(identity)
    );
    if dry_run {
        run.outcome
            .steps
            .push(Line::plan("client-secret", "create a new client secret"));
        run.outcome
            .steps
            .push(Line::plan("store", format!("replace {}", s.stored(&secret_key))));
        run.outcome
            .steps
            .push(Line::plan("login", "log in with the new secret"));
        run.outcome.steps.push(Line::plan(
            "revoke",
            format!("revoke the {} old client secret(s)", old_ids.len()),
        ));
        return Ok("plan".into());
    }
    let (previous, _) = step!(
        run,
        "store",
        "cannot read the stored client secret",
        run.api.read_secret(&s.at(&secret_key))
    );
    let fresh = new_secret(run, identity).await?;
    let started = Instant::now();
    let stored = match &previous {
        Some(_) => run.api.update_secret(&s.at(&secret_key), &fresh.secret).await,
        None => run.api.create_secret(&s.at(&secret_key), &fresh.secret).await,
    };
    if let Err(e) = stored {
        fail(
            &mut run.outcome,
            "store",
            started,
            &format!("cannot store {}", s.stored(&secret_key)),
            &e,
        );
        return Err(());
    }
    pass(
        run,
        "store",
        started,
        format!("stored the new secret at {}", s.stored(&secret_key)),
    );
    let started = Instant::now();
    let login = match agent_client(s, &ua.client_id, &fresh.secret) {
        Ok(client) => client.authenticate().await,
        Err(e) => Err(e),
    };
    if let Err(e) = login {
        fail(
            &mut run.outcome,
            "login",
            started,
            "the new client secret does not log in",
            &e,
        );
        restore(run, previous.as_ref()).await;
        return Err(());
    }
    pass(run, "login", started, "logged in with the new client secret");
    // The new secret works: from here nothing is undone.
    run.made.clear();
    let started = Instant::now();
    let mut revoked = 0;
    for id in old_ids.iter().filter(|id| **id != fresh.id) {
        match run.api.revoke_client_secret(identity, id).await {
            Ok(()) => revoked += 1,
            Err(e) => {
                fail(
                    &mut run.outcome,
                    "revoke",
                    started,
                    &format!("cannot revoke the old client secret {id}"),
                    &e,
                );
                run.outcome.remains.push(format!(
                    "old client secret {id} of identity {identity} (revoke it in Infisical)"
                ));
                return Ok("rotated (an old secret is still live)".into());
            }
        }
    }
    pass(
        run,
        "revoke",
        started,
        format!("revoked {revoked} old client secret(s)"),
    );
    run.outcome.notes.push(format!(
        "revoking a client secret does not end access tokens already issued with it: each stays valid for up to {} s (its TTL) and can be renewed until {} s after its login (the max TTL)",
        ua.ttl, ua.max_ttl
    ));
    Ok("rotated".into())
}

/// Puts the previous stored secret back after a failed rotation.
async fn restore(run: &mut Run<'_>, previous: Option<&SecretString>) {
    let s = run.setup;
    let key = s.secret_key();
    let started = Instant::now();
    let result = match previous {
        Some(old) => run.api.update_secret(&s.at(&key), old).await,
        None => run.api.delete_secret(&s.at(&key)).await.map(|_| ()),
    };
    match result {
        Ok(()) => run.outcome.undo.push(Line::new(
            "store",
            Status::Pass,
            started,
            format!("restored {}", s.stored(&key)),
        )),
        Err(e) => {
            run.outcome.undo.push(Line::new(
                "store",
                Status::Fail,
                started,
                format!("cannot restore {}: {e}", s.stored(&key)),
            ));
            run.outcome
                .remains
                .push(format!("{} holds the new, failing client secret", s.stored(&key)));
        }
    }
}

fn agent_client(s: &Setup, client_id: &str, secret: &SecretString) -> Result<VaultClient, VaultError> {
    VaultClient::new(
        &s.settings,
        Credentials::UniversalAuth {
            client_id: client_id.to_owned(),
            client_secret: secret.clone(),
        },
    )
}

/// Like `doctor`, as the new identity: login, in-scope listing, an
/// out-of-scope read (its own stored secret) and a write must be refused.
async fn verify(run: &mut Run<'_>, client_id: &str, secret: &SecretString) -> Result<(), ()> {
    let s = run.setup;
    let mut failed = false;
    let mut line = |run: &mut Run<'_>, name: &str, status: Status, started: Instant, detail: String| {
        failed |= status == Status::Fail;
        run.outcome
            .verification
            .push(Line::new(name, status, started, detail));
    };
    let started = Instant::now();
    let agent = match agent_client(s, client_id, secret) {
        Ok(c) => c,
        Err(e) => {
            line(run, "login", Status::Fail, started, format!("{e}"));
            return Err(());
        }
    };
    if let Err(e) = agent.authenticate().await {
        line(
            run,
            "login",
            Status::Fail,
            started,
            format!("login as the new identity failed: {e}"),
        );
        return Err(());
    }
    line(
        run,
        "login",
        Status::Pass,
        started,
        format!("logged in as the new identity (client id {client_id})"),
    );

    for glob in &s.globs {
        let started = Instant::now();
        let prefix = glob.literal_prefix();
        let at = Location {
            project_id: s.project_id.clone(),
            environment: s.environment.clone(),
            path: prefix.clone(),
        };
        let options = ListOptions {
            read: ReadOptions {
                expand_references: false,
                include_imports: false,
            },
            recursive: true,
            with_values: false,
        };
        match agent.list_secrets(&at, options).await {
            Ok(list) => line(
                run,
                "in-scope",
                Status::Pass,
                started,
                format!(
                    "listed {}:{} for {}: {} key(s)",
                    s.environment,
                    prefix.as_str(),
                    glob.as_str(),
                    list.secrets.len()
                ),
            ),
            Err(VaultError::NotFound { .. }) => line(
                run,
                "in-scope",
                Status::Warn,
                started,
                format!("{}:{} does not exist yet", s.environment, prefix.as_str()),
            ),
            Err(e) => line(
                run,
                "in-scope",
                Status::Fail,
                started,
                format!("listing {}:{} failed: {e}", s.environment, prefix.as_str()),
            ),
        }
    }

    let started = Instant::now();
    let secret_key = s.secret_key();
    let own = Location {
        project_id: s.project_id.clone(),
        environment: s.store_env.clone(),
        path: s.store.clone(),
    };
    let options = ReadOptions {
        expand_references: false,
        include_imports: false,
    };
    match agent.get_secret(&own, &secret_key, options).await {
        Err(VaultError::PermissionDenied { .. }) => line(
            run,
            "out-of-scope",
            Status::Pass,
            started,
            format!("403 on its own stored secret {}", s.stored(&secret_key)),
        ),
        Ok(_) => line(
            run,
            "out-of-scope",
            Status::Fail,
            started,
            format!("it can read {}: the store is in its scope", s.stored(&secret_key)),
        ),
        Err(e) => line(
            run,
            "out-of-scope",
            Status::Fail,
            started,
            format!("expected 403 on {}, got: {e}", s.stored(&secret_key)),
        ),
    }

    let started = Instant::now();
    let probe_key = format!("PROVISION_PROBE_{:08X}", rand::rng().random::<u32>());
    let folder = s
        .globs
        .first()
        .map(Glob::literal_prefix)
        .unwrap_or_else(SecretPath::root);
    let probe_at = SecretAt {
        project_id: &s.project_id,
        environment: &s.environment,
        path: folder.as_str(),
        key: &probe_key,
    };
    let written = match AdminApi::new(
        &s.settings,
        Credentials::UniversalAuth {
            client_id: client_id.to_owned(),
            client_secret: secret.clone(),
        },
    ) {
        Ok(as_agent) => {
            as_agent
                .create_secret(&probe_at, &SecretString::from("probe"))
                .await
        }
        Err(e) => Err(e),
    };
    match written {
        Err(VaultError::PermissionDenied { .. }) => line(
            run,
            "write-refused",
            Status::Pass,
            started,
            format!(
                "403 on creating {probe_key} at {}:{}",
                s.environment,
                folder.as_str()
            ),
        ),
        Ok(()) => {
            let cleaned = run.api.delete_secret(&probe_at).await.is_ok();
            line(
                run,
                "write-refused",
                Status::Fail,
                started,
                format!(
                    "it could create {probe_key} at {}:{} ({})",
                    s.environment,
                    folder.as_str(),
                    if cleaned {
                        "deleted again"
                    } else {
                        "delete it by hand"
                    }
                ),
            );
        }
        Err(e) => line(
            run,
            "write-refused",
            Status::Fail,
            started,
            format!("expected 403 on a write, got: {e}"),
        ),
    }
    if failed { Err(()) } else { Ok(()) }
}

/// Removes what this run made, newest first; says what could not be removed.
async fn undo(run: &mut Run<'_>) {
    let s = run.setup;
    let made = std::mem::take(&mut run.made);
    let identity_made = made.iter().any(|m| matches!(m, Made::Identity(_)));
    for item in made.into_iter().rev() {
        let started = Instant::now();
        let project = run.project.clone();
        let (name, what, result) = match &item {
            Made::Privilege { identity, privilege } => (
                "privilege",
                format!("privilege {} of identity {identity}", privilege.slug),
                run.api
                    .delete_privilege(&project, identity, privilege)
                    .await
                    .map(|_| ()),
            ),
            Made::Membership(identity) => (
                "membership",
                format!("project membership of identity {identity} in {}", s.project_id),
                run.api
                    .delete_membership(&s.project_id, identity)
                    .await
                    .map(|_| ()),
            ),
            Made::Secret(key) => (
                "store",
                format!("stored secret {}", s.stored(key)),
                run.api.delete_secret(&s.at(key)).await.map(|_| ()),
            ),
            Made::Folder { parent, name } => (
                "folder",
                format!("folder {}:{}/{name}", s.store_env, parent.trim_end_matches('/')),
                run.api
                    .delete_folder(&s.project_id, &s.store_env, parent, name)
                    .await
                    .map(|_| ()),
            ),
            // Deleting the identity takes its secrets along.
            Made::ClientSecret { .. } if identity_made => continue,
            Made::ClientSecret { identity, id } => (
                "client-secret",
                format!("client secret {id} of identity {identity}"),
                run.api.revoke_client_secret(identity, id).await,
            ),
            Made::Identity(id) => (
                "identity",
                format!(
                    "identity {} ({id}) with its universal auth and client secret",
                    s.name
                ),
                run.api.delete_identity(id).await.map(|_| ()),
            ),
        };
        match result {
            Ok(()) => {
                run.outcome
                    .undo
                    .push(Line::new(name, Status::Pass, started, format!("removed {what}")))
            }
            Err(e) => {
                run.outcome.undo.push(Line::new(
                    name,
                    Status::Fail,
                    started,
                    format!("cannot remove {what}: {e}"),
                ));
                run.outcome.remains.push(what);
            }
        }
    }
}

/// `deprovision`: secrets revoked, privileges, membership and identity
/// removed, stored credentials deleted (unless `--keep-stored`); idempotent.
pub async fn deprovision(args: &DeprovisionArgs, env: &dyn EnvSource) -> Outcome {
    let outcome = Outcome::new("deprovision", &args.name, args.dry_run);
    let common = Common {
        name: &args.name,
        vault: &args.vault,
        project_id: args.project_id.as_deref(),
        environment: args.environment.as_deref(),
        store_environment: None,
        store_path: args.store_path.as_deref(),
        store_prefix: args.store_prefix.as_deref(),
    };
    let setup = match setup(&common, &[], env) {
        Ok(s) => s,
        Err(e) => return config_failure(outcome, &e),
    };
    let mut outcome = outcome;
    outcome.target = format!("vault {}", setup.settings.base_url);
    let Ok((api, project)) = connect(&setup, &mut outcome).await else {
        outcome.result = "failed".into();
        outcome.exit = EXIT_FAILED;
        return outcome;
    };
    let mut run = Run {
        setup: &setup,
        api,
        project,
        outcome,
        made: Vec::new(),
    };
    let found = match find(&mut run).await {
        Ok(f) => f,
        Err(e) => {
            fail(
                &mut run.outcome,
                "lookup",
                Instant::now(),
                "cannot look the identity up",
                &e,
            );
            return finish(run, "failed", EXIT_FAILED);
        }
    };
    let result = match found {
        Found::Conflict(_) => return finish(run, "refused", EXIT_FAILED),
        Found::Ours { id, .. } => remove_identity(&mut run, &id, args.dry_run).await.map(|()| true),
        Found::None => Ok(false),
    };
    let Ok(removed_identity) = result else {
        return finish(run, "failed", EXIT_FAILED);
    };
    let removed_stored = if args.keep_stored {
        run.outcome.notes.push(format!(
            "--keep-stored: {} and {} are left in place",
            setup.stored(&setup.id_key()),
            setup.stored(&setup.secret_key())
        ));
        false
    } else {
        match remove_stored(&mut run, args.dry_run).await {
            Ok(any) => any,
            Err(()) => return finish(run, "failed", EXIT_FAILED),
        }
    };
    let result = if args.dry_run {
        "plan"
    } else if removed_identity || removed_stored {
        "deprovisioned"
    } else {
        "nothing to remove"
    };
    run.outcome.api_generation = Some(
        if run.api.legacy() {
            "2024 build (v1 privilege routes)"
        } else {
            "current (v2 privilege routes)"
        }
        .into(),
    );
    finish(run, result, EXIT_OK)
}

async fn remove_identity(run: &mut Run<'_>, identity: &str, dry_run: bool) -> Result<(), ()> {
    let s = run.setup;
    run.outcome.identity_id = Some(identity.to_owned());
    let remains = |run: &mut Run<'_>| {
        run.outcome.remains.push(format!(
            "identity {} ({identity}): run deprovision again, or delete it in Infisical",
            s.name
        ));
    };
    if dry_run {
        for (name, detail) in [
            ("client-secrets", "revoke every client secret"),
            ("privileges", "remove its additional privileges"),
            ("membership", "remove its project membership"),
            ("identity", "delete the identity"),
        ] {
            run.outcome.steps.push(Line::plan(name, detail));
        }
        return Ok(());
    }
    let started = Instant::now();
    let ids = match run.api.client_secret_ids(identity).await {
        Ok(ids) => ids,
        Err(e) => {
            fail(
                &mut run.outcome,
                "client-secrets",
                started,
                "cannot list the client secrets",
                &e,
            );
            remains(run);
            return Err(());
        }
    };
    for id in &ids {
        if let Err(e) = run.api.revoke_client_secret(identity, id).await {
            fail(
                &mut run.outcome,
                "client-secrets",
                started,
                &format!("cannot revoke client secret {id}"),
                &e,
            );
            remains(run);
            return Err(());
        }
    }
    pass(
        run,
        "client-secrets",
        started,
        format!("revoked {} client secret(s)", ids.len()),
    );

    let started = Instant::now();
    let project = run.project.clone();
    let member = run.api.membership_exists(&s.project_id, identity).await;
    let privileges = match member {
        Ok(true) => run.api.privileges(&project, identity).await,
        Ok(false) => Ok(Vec::new()),
        Err(e) => Err(e),
    };
    let privileges = match privileges {
        Ok(p) => p,
        Err(e) => {
            fail(
                &mut run.outcome,
                "privileges",
                started,
                "cannot list the privileges",
                &e,
            );
            remains(run);
            return Err(());
        }
    };
    for p in &privileges {
        if let Err(e) = run.api.delete_privilege(&project, identity, p).await {
            fail(
                &mut run.outcome,
                "privileges",
                started,
                &format!("cannot remove privilege {}", p.slug),
                &e,
            );
            remains(run);
            return Err(());
        }
    }
    pass(
        run,
        "privileges",
        started,
        format!("removed {} privilege(s)", privileges.len()),
    );

    let started = Instant::now();
    match run.api.delete_membership(&s.project_id, identity).await {
        Ok(true) => pass(
            run,
            "membership",
            started,
            format!("removed from project {}", s.project_id),
        ),
        Ok(false) => pass(run, "membership", started, "was not a member (already removed)"),
        Err(e) => {
            fail(
                &mut run.outcome,
                "membership",
                started,
                "cannot remove the project membership",
                &e,
            );
            remains(run);
            return Err(());
        }
    }
    let started = Instant::now();
    match run.api.delete_identity(identity).await {
        Ok(_) => pass(
            run,
            "identity",
            started,
            format!("deleted {identity}; its tokens stop working at once"),
        ),
        Err(e) => {
            fail(
                &mut run.outcome,
                "identity",
                started,
                "cannot delete the identity",
                &e,
            );
            remains(run);
            return Err(());
        }
    }
    Ok(())
}

/// Deletes the stored credentials, then the store folder if that left it
/// empty. `Ok(true)` when something was there.
async fn remove_stored(run: &mut Run<'_>, dry_run: bool) -> Result<bool, ()> {
    let s = run.setup;
    let mut any = false;
    for key in [s.id_key(), s.secret_key()] {
        let started = Instant::now();
        if dry_run {
            run.outcome.steps.push(Line::plan(
                "store",
                format!("delete {} if present", s.stored(&key)),
            ));
            continue;
        }
        match run.api.delete_secret(&s.at(&key)).await {
            Ok(true) => {
                any = true;
                pass(run, "store", started, format!("deleted {}", s.stored(&key)));
            }
            Ok(false) => pass(run, "store", started, format!("{} is not there", s.stored(&key))),
            Err(e) => {
                fail(
                    &mut run.outcome,
                    "store",
                    started,
                    &format!("cannot delete {}", s.stored(&key)),
                    &e,
                );
                run.outcome
                    .remains
                    .push(format!("stored secret {}", s.stored(&key)));
                return Err(());
            }
        }
    }
    let (Some(parent), false) = (s.store.parent(), dry_run) else {
        return Ok(any);
    };
    let started = Instant::now();
    let keys = run
        .api
        .secret_keys(&s.project_id, &s.store_env, s.store.as_str(), true)
        .await;
    let folders = run
        .api
        .folder_names(&s.project_id, &s.store_env, s.store.as_str())
        .await;
    let last = s.store.segments().last().unwrap_or_default().to_owned();
    let listed_in_parent = run
        .api
        .folder_names(&s.project_id, &s.store_env, parent.as_str())
        .await
        .is_ok_and(|names| names.contains(&last));
    if let (Ok(k), Ok(f), true) = (&keys, &folders, listed_in_parent) {
        if k.is_empty() && f.is_empty() {
            match run
                .api
                .delete_folder(&s.project_id, &s.store_env, parent.as_str(), &last)
                .await
            {
                Ok(_) => {
                    any = true;
                    pass(
                        run,
                        "folder",
                        started,
                        format!("deleted the empty folder {}:{}", s.store_env, s.store.as_str()),
                    );
                }
                Err(e) => run.outcome.steps.push(Line::new(
                    "folder",
                    Status::Warn,
                    started,
                    format!(
                        "the empty folder {}:{} is left: {e}",
                        s.store_env,
                        s.store.as_str()
                    ),
                )),
            }
        } else {
            run.outcome.steps.push(Line::new(
                "folder",
                Status::Pass,
                started,
                format!(
                    "{}:{} still holds other things; left in place",
                    s.store_env,
                    s.store.as_str()
                ),
            ));
        }
    }
    Ok(any)
}
