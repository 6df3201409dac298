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
//! `plan` (names and glob guard rails), `lookup`, `steps`, `verify`,
//! `rotate`, `undo`, `remove` (the flows), `report` (the output).

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

mod api;
mod lookup;
mod plan;
mod remove;
mod report;
mod rotate;
mod steps;
mod undo;
mod verify;

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
use lookup::{Found, check_globs, find_or_record};
use remove::{remove_identity, remove_stored};
use rotate::rotate;
use steps::{complete, create, new_secret};
use undo::undo;
use verify::{agent_client, verify};

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
    let mut outcome = Outcome::new(command, &args.name, args.dry_run);
    outcome.warnings.extend(crate::config::credential_choice(
        args.vault.client_id.as_ref(),
        env,
    ));
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
    let Some(found) = find_or_record(&mut run).await else {
        return finish(run, "failed", EXIT_FAILED);
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

fn pass(run: &mut Run<'_>, name: &str, started: Instant, detail: impl Into<String>) {
    run.outcome
        .steps
        .push(Line::new(name, Status::Pass, started, detail));
}

/// `deprovision`: secrets revoked, privileges, membership and identity
/// removed, stored credentials deleted (unless `--keep-stored`); idempotent.
pub async fn deprovision(args: &DeprovisionArgs, env: &dyn EnvSource) -> Outcome {
    let mut outcome = Outcome::new("deprovision", &args.name, args.dry_run);
    outcome.warnings.extend(crate::config::credential_choice(
        args.vault.client_id.as_ref(),
        env,
    ));
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
    let Some(found) = find_or_record(&mut run).await else {
        return finish(run, "failed", EXIT_FAILED);
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
