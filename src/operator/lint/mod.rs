//! `lint`: a read-only audit of what the identity can see, against the token
//! taxonomy of docs/taxonomy.md (names, companions, tag dimensions, expiry,
//! `_FULL`, Rule 2). With the same vault and scope configuration as `serve`
//! it lists, per environment, every folder the scope allows (recursively,
//! without imports or reference expansion), checks the [`rules`], and reports
//! findings grouped by severity, or as one JSON document with `--json`.
//!
//! Exit codes: 0 no error finding (warnings and info allowed), 1 at least one
//! error finding, 2 configuration error. Values are read (for `__EXPIRES_AT`
//! and Rule 2's digests) but never printed or logged, nor are their digests.

mod findings;
pub mod report;
pub mod rules;

use std::collections::{BTreeSet, HashMap};
use std::time::Duration;

use clap::Args;
use secrecy::SecretString;

pub use report::Report;
pub use rules::{Finding, RULES, Severity};

use crate::config::{ConfigError, Credentials, EnvSource, ScopeArgs, VaultArgs, VaultSettings, check_slug};
use crate::scope::{Scope, SecretPath};
use crate::taxonomy;
use crate::vault::{ListOptions, Location, ReadOptions, Secret, VaultClient, VaultError};

/// `lint --help`'s epilogue: the rule table (from [`RULES`]) and the exit codes.
pub fn help_text() -> String {
    let width = RULES.iter().map(|(id, _, _)| id.len()).max().unwrap_or(0);
    let mut text = String::from("Rules (id, severity, what):\n");
    for (id, severity, what) in RULES {
        text.push_str(&format!("  {id:<width$}  {:<8} {what}\n", severity.as_str()));
    }
    text.push_str(
        "Exit codes: 0 no errors (warnings allowed), 1 errors found, 2 configuration error.\n\
         The vault connection and credentials are configured as for `serve` (see its --help).",
    );
    text
}

#[derive(Debug, Clone, Args)]
pub struct LintArgs {
    #[command(flatten)]
    pub vault: VaultArgs,

    /// Project id to audit.
    #[arg(long, env = "INFISICAL_PROJECT_ID")]
    pub project_id: Option<String>,

    /// Environment to audit, repeatable. Default: every environment the scope
    /// names; with a `*` entry, every environment of the project.
    #[arg(long = "environment", value_name = "SLUG")]
    pub environments: Vec<String>,

    /// Audit only folders at or below PATH (default: all the scope allows).
    #[arg(long, value_name = "PATH")]
    pub path: Option<String>,

    /// Client-side scope entry ENV:GLOB, repeatable (also INFISICAL_SCOPE):
    /// only what it allows is read.
    #[arg(long = "scope", value_name = "ENV:GLOB")]
    pub scope: Vec<String>,

    /// Print one JSON document ({ok, counts, findings:[…]}) instead of the report.
    #[arg(long)]
    pub json: bool,

    /// Known vendor codes, comma-separated (default: the taxonomy's
    /// CF,HK,PM,AWS,ANT,GH,STR,ALP,INF,SL,DH,DYN).
    #[arg(long, value_delimiter = ',', value_name = "CODES")]
    pub vendor_codes: Vec<String>,

    /// An __EXPIRES_AT this close is reported as expiring.
    #[arg(long, default_value_t = 14, value_name = "DAYS")]
    pub expiry_warning_days: u64,
}

/// The validated configuration of one run.
#[derive(Debug, Clone)]
pub struct LintConfig {
    pub vault: VaultSettings,
    pub credentials: Credentials,
    pub project_id: String,
    pub scope: Scope,
    /// Given with --environment, or named by the scope.
    pub environments: Vec<String>,
    /// Also every other environment of the project that the scope reaches
    /// (the scope has a `*` entry and no --environment was given).
    pub all_environments: bool,
    pub path: SecretPath,
    pub vendors: Vec<String>,
    pub expiry_warning: Duration,
}

/// Far beyond any real window; keeps the day count's arithmetic sane.
const MAX_WARNING_DAYS: u64 = 3650;

impl LintArgs {
    /// Validates everything before any network call.
    pub fn validate(&self, env: &dyn EnvSource) -> Result<LintConfig, ConfigError> {
        let vault = self.vault.settings(env)?;
        let credentials = self.vault.credentials(env)?;
        let scope_args = ScopeArgs {
            project_id: self.project_id.clone(),
            allow_project: Vec::new(),
            environment: None,
            secret_path: None,
            scope: self.scope.clone(),
        };
        let defaults = scope_args.defaults(env)?;
        let scope = scope_args.scope(env)?;
        let project_id = defaults.project_id.ok_or_else(|| {
            ConfigError::new(
                "INFISICAL_PROJECT_ID",
                "is not set (nor --project-id)",
                "set INFISICAL_PROJECT_ID to the project to audit",
            )
        })?;

        let path = match &self.path {
            Some(raw) => SecretPath::parse(raw).map_err(|e| {
                ConfigError::new(
                    "--path",
                    e.to_string(),
                    "use an absolute folder path such as /apps",
                )
            })?,
            None => SecretPath::root(),
        };

        let mut environments: Vec<String> = Vec::new();
        let mut all_environments = false;
        if self.environments.is_empty() {
            for entry in scope.entries() {
                match entry.environment() {
                    "*" => all_environments = true,
                    named if !environments.iter().any(|e| e == named) => environments.push(named.to_string()),
                    _ => {}
                }
            }
            // Environments the scope names only for other folders are skipped, not errors.
            environments.retain(|e| scope.leads_into(e, &path));
            if environments.is_empty() && !all_environments {
                return Err(ConfigError::new(
                    "--path",
                    format!("{path} is outside the scope ({scope}) in every environment it names"),
                    "pick a path the scope allows, or widen --scope / INFISICAL_SCOPE",
                ));
            }
        } else {
            for raw in &self.environments {
                let environment = check_slug("--environment", raw)?;
                if !scope.leads_into(&environment, &path) {
                    return Err(ConfigError::new(
                        "--environment / --path",
                        format!(
                            "{environment}:{path} is outside the scope ({scope}), so nothing there may be read"
                        ),
                        "pick an environment and path the scope allows, or widen --scope / INFISICAL_SCOPE",
                    ));
                }
                if !environments.contains(&environment) {
                    environments.push(environment);
                }
            }
        }

        let vendors: Vec<String> = if self.vendor_codes.is_empty() {
            taxonomy::DEFAULT_VENDOR_CODES
                .iter()
                .map(|v| (*v).to_string())
                .collect()
        } else {
            let mut codes = Vec::new();
            for raw in &self.vendor_codes {
                let code = raw.trim();
                let ok = (2..=4).contains(&code.len())
                    && code.starts_with(|c: char| c.is_ascii_uppercase())
                    && code.chars().all(|c| c.is_ascii_uppercase() || c.is_ascii_digit());
                if !ok {
                    return Err(ConfigError::new(
                        "--vendor-codes",
                        format!("'{}' is not a vendor code", code.escape_default()),
                        "give two-to-four upper-case letters or digits per code, comma-separated, e.g. CF,HK,AWS",
                    ));
                }
                codes.push(code.to_string());
            }
            codes
        };
        if self.expiry_warning_days > MAX_WARNING_DAYS {
            return Err(ConfigError::new(
                "--expiry-warning-days",
                format!("{} is more than {MAX_WARNING_DAYS}", self.expiry_warning_days),
                "give a number of days up to 3650 (0 reports only expired tokens)",
            ));
        }
        Ok(LintConfig {
            vault,
            credentials,
            project_id,
            scope,
            environments,
            all_environments,
            path,
            vendors,
            expiry_warning: Duration::from_secs(self.expiry_warning_days * 24 * 3600),
        })
    }
}

/// Where to list `environment` from: for each scope entry, the deeper of its
/// literal prefix and `path` (when one is inside the other), without folders
/// already covered by another start.
fn starts(scope: &Scope, environment: &str, path: &SecretPath) -> Vec<SecretPath> {
    let mut candidates: BTreeSet<SecretPath> = BTreeSet::new();
    for entry in scope.entries() {
        if entry.environment() != "*" && entry.environment() != environment {
            continue;
        }
        let prefix = entry.glob().literal_prefix();
        if prefix.is_at_or_below(path) {
            candidates.insert(prefix);
        } else if path.is_at_or_below(&prefix) {
            candidates.insert(path.clone());
        }
    }
    let all: Vec<SecretPath> = candidates.into_iter().collect();
    all.iter()
        .filter(|p| !all.iter().any(|q| q != *p && p.is_at_or_below(q)))
        .cloned()
        .collect()
}

/// Lists everything the scope allows in `config`'s environments and checks it.
pub async fn run(config: &LintConfig, client: &VaultClient) -> Report {
    let mut entries: Vec<rules::Entry> = Vec::new();
    let mut seen: BTreeSet<(String, SecretPath, String)> = BTreeSet::new();
    let mut failures: Vec<Finding> = Vec::new();
    let environments = match environments(config, client).await {
        Ok(found) => found,
        Err(failure) => {
            failures.push(failure);
            config.environments.clone()
        }
    };
    let mut notes: Vec<String> = rule2_coverage_note(&environments).into_iter().collect();
    // A glob that leaves out the folder it names (`/X/*` and `/X`) leaves it
    // out of the audit too; picomatch-3 surprises belong with them.
    notes.extend(config.scope.warnings());
    for environment in &environments {
        for start in starts(&config.scope, environment, &config.path) {
            let at = Location {
                project_id: config.project_id.clone(),
                environment: environment.clone(),
                path: start.clone(),
            };
            let listed = match list(client, &config.scope, &at).await {
                Ok(listed) => listed,
                Err(VaultError::NotFound { .. }) => {
                    failures.push(Finding::new(
                        rules::FOLDER_MISSING,
                        environment,
                        &start,
                        None,
                        "no such folder in this environment: nothing to audit here",
                        "nothing to do if that is expected; otherwise check --environment, --path and the scope",
                    ));
                    continue;
                }
                Err(e) => {
                    tracing::debug!(environment = %environment, path = %start, kind = e.kind(), "lint listing failed");
                    failures.push(Finding::new(
                        rules::VAULT_READ,
                        environment,
                        &start,
                        None,
                        format!("cannot list this folder or one below it: {e}"),
                        e.hint(),
                    ));
                    continue;
                }
            };
            let mut unreadable = 0usize;
            for (secret, value) in listed {
                let path = match secret.secret_path.as_deref() {
                    Some(p) => SecretPath::parse(p).ok(),
                    None => Some(start.clone()),
                };
                let Some(path) =
                    path.filter(|p| config.scope.allows(environment, p) && p.is_at_or_below(&config.path))
                else {
                    continue;
                };
                if !seen.insert((environment.clone(), path.clone(), secret.secret_key.clone())) {
                    continue;
                }
                unreadable += usize::from(value.is_none());
                entries.push(rules::Entry {
                    environment: environment.clone(),
                    path,
                    key: secret.secret_key,
                    tags: secret
                        .tags
                        .into_iter()
                        .map(|t| taxonomy::tag_label(&t.slug, t.name.as_deref()).to_owned())
                        .collect(),
                    value,
                });
            }
            if unreadable > 0 {
                notes.push(format!(
                    "{environment}:{start}: {unreadable} secret(s) listed without their values (this identity \
                     may describe but not read them), so their __EXPIRES_AT and Rule 2 were not checked; \
                     grant readValue there to audit them"
                ));
            }
        }
    }
    let settings = rules::Settings {
        vendors: config.vendors.clone(),
        expiry_warning: config.expiry_warning,
        now: time::OffsetDateTime::now_utc(),
    };
    let (mut findings, checked) = rules::check(&entries, &settings);
    findings.append(&mut failures);
    rules::sort(&mut findings);
    Report::new(
        format!("vault {}", config.vault.base_url),
        environments,
        checked,
        findings,
        notes,
    )
}

/// The environments to audit: the configured ones and, when the scope has a
/// `*` entry, the project's others that the scope reaches, in project order.
async fn environments(config: &LintConfig, client: &VaultClient) -> Result<Vec<String>, Finding> {
    if !config.all_environments {
        return Ok(config.environments.clone());
    }
    let project = client
        .project_environments(&config.project_id)
        .await
        .map_err(|e| {
            Finding::new(
                rules::VAULT_READ,
                "*",
                &config.path,
                None,
                format!("cannot list the project's environments, so only the named ones were audited: {e}"),
                format!("{}; or name them with --environment", e.hint()),
            )
        })?;
    let mut all: Vec<String> = project
        .into_iter()
        .filter(|e| config.scope.leads_into(e, &config.path))
        .collect();
    for named in &config.environments {
        if !all.contains(named) {
            all.push(named.clone());
        }
    }
    Ok(all)
}

/// Rule 2 compares prod with staging: say so when only one of them is audited.
fn rule2_coverage_note(environments: &[String]) -> Option<String> {
    let has = |e: &str| environments.iter().any(|x| x == e);
    let (prod, staging) = (taxonomy::PROD_ENVIRONMENT, taxonomy::STAGING_ENVIRONMENT);
    let (audited, missing) = match (has(prod), has(staging)) {
        (true, false) => (prod, staging),
        (false, true) => (staging, prod),
        _ => return None,
    };
    Some(format!(
        "Rule 2 (prod/staging duplicates) not checked: {audited} was audited without {missing}; \
         add --environment {missing} (and a scope that allows it)"
    ))
}

/// Folder listings one audit start may make: far beyond a real project's, it only
/// stops a runaway walk.
const MAX_FOLDERS: usize = 5000;

/// Every secret the identity may describe in the folders at or below `at`
/// that the scope allows, each with its value when it may also read it.
/// Folders are found by walking folder names where the scope leads, and
/// each allowed folder is listed on its own: a recursive listing would
/// carry secrets (and, on older builds, values) from folders outside the
/// scope across the wire.
async fn list(
    client: &VaultClient,
    scope: &Scope,
    at: &Location,
) -> Result<Vec<(Secret, Option<SecretString>)>, VaultError> {
    let (folders, _) = client.scoped_folders(at, scope, MAX_FOLDERS).await?;
    let mut out = Vec::new();
    for path in folders {
        let here = Location { path, ..at.clone() };
        out.extend(list_folder(client, &here).await?);
    }
    Ok(out)
}

/// One folder: names first, then values matched by key. Without values
/// first, because with values a describe-only secret fails the whole call.
async fn list_folder(
    client: &VaultClient,
    at: &Location,
) -> Result<Vec<(Secret, Option<SecretString>)>, VaultError> {
    let read = ReadOptions {
        expand_references: false,
        include_imports: false,
    };
    let options = |with_values| ListOptions {
        read,
        recursive: false,
        with_values,
    };
    let described = client.list_secrets(at, options(false)).await?;
    let mut values: HashMap<String, SecretString> = match client.list_secrets(at, options(true)).await {
        Ok(listing) => listing
            .secrets
            .into_iter()
            .filter(|s| !s.secret_value_hidden)
            .map(|s| (s.secret_key, s.secret_value))
            .collect(),
        Err(VaultError::PermissionDenied { message }) if message.contains("readValue") => HashMap::new(),
        Err(e) => return Err(e),
    };
    Ok(described
        .secrets
        .into_iter()
        .map(|mut s| {
            let value = values.remove(&s.secret_key);
            s.secret_path = Some(at.path.to_string());
            (s, value)
        })
        .collect())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::test_support::path as p;

    #[test]
    fn starts_follow_scope_and_path() {
        let scope =
            Scope::parse_list(&["prod:/MooseQuest/** prod:/MooseQuest/cf/* dev:/agents/**".into()]).unwrap();
        assert_eq!(starts(&scope, "prod", &p("/")), [p("/MooseQuest")]);
        assert_eq!(
            starts(&scope, "prod", &p("/MooseQuest/cf")),
            [p("/MooseQuest/cf")]
        );
        assert_eq!(starts(&scope, "prod", &p("/other")), Vec::<SecretPath>::new());
        assert_eq!(starts(&scope, "dev", &p("/")), [p("/agents")]);
        let all = Scope::parse_list(&["*:/**".into()]).unwrap();
        assert_eq!(starts(&all, "staging", &p("/x")), [p("/x")]);
    }
}
