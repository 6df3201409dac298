//! `provision` / `deprovision`: onboarding of a read-only agent identity,
//! automated and verified.
//!
//! In order: project (org id), a machine identity with org role
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
//! The vault calls are the shared client's admin methods
//! ([`crate::vault::admin`]). Sub-modules: `plan` (names and glob guard
//! rails), `lookup`, `steps`, `verify`, `rotate`, `undo`, `remove` (the
//! flows), `report` (the output).

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

mod lookup;
mod plan;
mod remove;
mod report;
mod rotate;
mod setup;
mod steps;
mod undo;
mod verify;

use std::time::Instant;

use rand::Rng;
use secrecy::{ExposeSecret, SecretString};

pub use plan::DEFAULT_STORE_ROOT;
pub use report::{EXIT_CONFIG, EXIT_FAILED, EXIT_OK, Export, Line, Outcome, Status};

use crate::config::{ConfigError, Credentials, EnvSource};
use crate::scope::{Glob, SecretPath};
use crate::vault::admin::{NewClientSecret, PrivilegeInfo, ProjectInfo, SecretAt, UniversalAuth};
use crate::vault::{ListOptions, Location, ReadOptions, VaultClient, VaultError};
use lookup::{Found, check_globs, find_or_record};
use remove::{remove_identity, remove_stored};
use rotate::rotate;
use setup::{Common, Setup, config_failure, setup, valid_cidr};
pub use setup::{DeprovisionArgs, ProvisionArgs};
use steps::{complete, create, new_secret};
use undo::undo;
use verify::{agent_client, verify};

fn fail(outcome: &mut Outcome, name: &str, started: Instant, what: &str, e: &VaultError) {
    outcome.steps.push(Line::new(
        name,
        Status::Fail,
        started,
        format!("{what}: {e} (fix: {})", e.hint()),
    ));
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
    vault: VaultClient,
    project: ProjectInfo,
    outcome: Outcome,
    made: Vec<Made>,
}

impl<'a> Run<'a> {
    fn new(setup: &'a Setup, vault: VaultClient, project: ProjectInfo, outcome: Outcome) -> Self {
        Self {
            setup,
            vault,
            project,
            outcome,
            made: Vec::new(),
        }
    }

    /// Records the identity (and its universal-auth client id) this run works on.
    fn working_on(&mut self, identity: &str, ua: &UniversalAuth) {
        self.outcome.identity_id = Some(identity.to_owned());
        self.outcome.client_id = Some(ua.client_id.clone());
    }
}

/// Connects as the admin identity; on failure the outcome says "failed".
async fn connect(setup: &Setup, outcome: &mut Outcome) -> Result<(VaultClient, ProjectInfo), ()> {
    outcome.target = format!("vault {}", setup.settings.base_url);
    let connected = open(setup, outcome).await;
    if connected.is_err() {
        outcome.result = "failed".into();
        outcome.exit = EXIT_FAILED;
    }
    connected
}

/// The admin client, and the project read through it.
async fn open(setup: &Setup, outcome: &mut Outcome) -> Result<(VaultClient, ProjectInfo), ()> {
    let started = Instant::now();
    let vault = match VaultClient::new(&setup.settings, setup.credentials.clone()) {
        Ok(a) => a,
        Err(e) => {
            fail(outcome, "connect", started, "cannot set up the vault client", &e);
            return Err(());
        }
    };
    match vault.project(&setup.project_id).await {
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
            Ok((vault, project))
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

/// A new report, warning first when two credentials are configured.
fn begin(
    command: &str,
    name: &str,
    dry_run: bool,
    vault: &crate::config::VaultArgs,
    env: &dyn EnvSource,
) -> Outcome {
    let mut outcome = Outcome::new(command, name, dry_run);
    outcome
        .warnings
        .extend(crate::config::credential_choice(vault.client_id.as_ref(), env));
    outcome
}

/// `provision`: the onboarding, its re-run, `--rotate-secret`, `--dry-run`.
pub async fn provision(args: &ProvisionArgs, env: &dyn EnvSource) -> Outcome {
    let command = if args.rotate_secret {
        "provision --rotate-secret"
    } else {
        "provision"
    };
    let mut outcome = begin(command, &args.name, args.dry_run, &args.vault, env);
    let common = Common {
        project_id: args.project_id.as_deref(),
        environment: args.environment.as_deref(),
        store_environment: args.store_environment.as_deref(),
        store_path: args.store_path.as_deref(),
        store_prefix: args.store_prefix.as_deref(),
        ..Common::of(&args.name, &args.vault)
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
    let Ok((vault, project)) = connect(&setup, &mut outcome).await else {
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
    let mut run = Run::new(&setup, vault, project, outcome);
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
        (Found::Ours { id, ua }, true) => rotate(&mut run, &id, &ua).await,
        (Found::None, false) => create(&mut run, args).await,
        (Found::Ours { id, ua }, false) => complete(&mut run, &id, &ua).await,
    };
    note_generation(&mut run);
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

/// Which privilege routes the vault answered to, for the report.
fn note_generation(run: &mut Run<'_>) {
    run.outcome.api_generation = Some(
        if run.vault.legacy_privileges() {
            "2024 build (v1 privilege routes)"
        } else {
            "current (v2 privilege routes)"
        }
        .into(),
    );
}

fn pass(run: &mut Run<'_>, name: &str, started: Instant, detail: impl Into<String>) {
    run.outcome
        .steps
        .push(Line::new(name, Status::Pass, started, detail));
}

/// `deprovision`: secrets revoked, privileges, membership and identity
/// removed, stored credentials deleted (unless `--keep-stored`); idempotent.
pub async fn deprovision(args: &DeprovisionArgs, env: &dyn EnvSource) -> Outcome {
    let mut outcome = begin("deprovision", &args.name, args.dry_run, &args.vault, env);
    let common = Common {
        project_id: args.project_id.as_deref(),
        environment: args.environment.as_deref(),
        store_path: args.store_path.as_deref(),
        store_prefix: args.store_prefix.as_deref(),
        ..Common::of(&args.name, &args.vault)
    };
    let setup = match setup(&common, &[], env) {
        Ok(s) => s,
        Err(e) => return config_failure(outcome, &e),
    };
    let Ok((vault, project)) = connect(&setup, &mut outcome).await else {
        return outcome;
    };
    let mut run = Run::new(&setup, vault, project, outcome);
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
    note_generation(&mut run);
    finish(run, result, EXIT_OK)
}
