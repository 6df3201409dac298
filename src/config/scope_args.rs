//! Where tool calls may go: the default project, environment and folder,
//! the projects a call may reach, and the `ENV:GLOB` scope, validated into
//! [`Defaults`] and a [`Scope`].

use super::*;

/// Flags for the defaults and the scope of tool calls.
#[derive(Debug, Clone, Args)]
pub struct ScopeArgs {
    /// Default project id for tool calls, and the only project they may
    /// reach unless --allow-project names others.
    #[arg(long, env = "INFISICAL_PROJECT_ID")]
    pub project_id: Option<String>,

    /// Another project tool calls may reach besides --project-id, repeatable
    /// ('*' for any project the identity belongs to). Also
    /// INFISICAL_ALLOWED_PROJECTS, whitespace- or comma-separated.
    #[arg(long = "allow-project", value_name = "ID")]
    pub allow_project: Vec<String>,

    /// Default environment slug for tool calls (also INFISICAL_ENV).
    #[arg(long, env = "INFISICAL_ENVIRONMENT", value_name = "SLUG")]
    pub environment: Option<String>,

    /// Default folder for tool calls.
    #[arg(long, env = "INFISICAL_SECRET_PATH", value_name = "PATH")]
    pub secret_path: Option<String>,

    /// Client-side scope entry ENV:GLOB, repeatable (e.g. dev:/agents/warden/**;
    /// '*' as ENV means any). Also INFISICAL_SCOPE, whitespace-separated.
    #[arg(long = "scope", value_name = "ENV:GLOB")]
    pub scope: Vec<String>,
}

/// Where tool calls go when the caller does not say.
#[derive(Debug, Clone)]
pub struct Defaults {
    pub project_id: Option<String>,
    pub environment: Option<String>,
    pub secret_path: SecretPath,
    /// Which projects a call may reach at all.
    pub projects: ProjectScope,
}

impl Defaults {
    /// Whether a call may reach `project`: the default project, or one the
    /// operator named.
    pub fn allows_project(&self, project: &str) -> bool {
        self.projects.allows(self.project_id.as_deref(), project)
    }

    /// The projects a call may reach, for errors and `doctor`.
    pub fn projects_text(&self) -> String {
        self.projects.describe(self.project_id.as_deref())
    }
}

impl ScopeArgs {
    pub fn defaults(&self, env: &dyn EnvSource) -> Result<Defaults, ConfigError> {
        let project_id = configured_project(self.project_id.as_ref(), env)?;
        let projects = ProjectScope::parse(&self.allow_project, env)?;
        let environment = configured_environment(self.environment.as_ref(), env)?;
        let secret_path = match pick(
            self.secret_path.as_ref(),
            "INFISICAL_SECRET_PATH (--secret-path)",
            &["INFISICAL_SECRET_PATH"],
            env,
        )? {
            Some((var, v)) => SecretPath::parse(&v).map_err(|e| {
                ConfigError::new(
                    var,
                    e.to_string(),
                    "use an absolute folder path such as /agents/warden",
                )
            })?,
            None => SecretPath::root(),
        };
        Ok(Defaults {
            project_id,
            environment,
            secret_path,
            projects,
        })
    }

    /// The scope is mandatory: an empty one would either refuse everything or,
    /// worse, be read as "everything". Granting everything must be explicit.
    pub fn scope(&self, env: &dyn EnvSource) -> Result<Scope, ConfigError> {
        parse_scope(&self.scope, env, true)?.ok_or_else(|| {
            ConfigError::new(
                SCOPE_VAR,
                "is not set (nor --scope)",
                "give one or more ENV:GLOB entries",
            )
        })
    }
}

/// The scope from repeated `--scope` flags, else from `INFISICAL_SCOPE`.
/// When neither is given: an error if `required` (see [`ScopeArgs::scope`]),
/// else `None` (the mode then relies on the identity's own permissions).
pub fn parse_scope(
    flags: &[String],
    env: &dyn EnvSource,
    required: bool,
) -> Result<Option<Scope>, ConfigError> {
    let (var, entries) = if !flags.is_empty() {
        ("--scope".to_string(), flags.to_vec())
    } else {
        match pick(None, "", &[SCOPE_VAR], env)? {
            Some((var, v)) => (var, vec![v]),
            None if required => (SCOPE_VAR.to_string(), Vec::new()),
            None => return Ok(None),
        }
    };
    for entry in &entries {
        reject_unexpanded(&var, entry)?;
    }
    Scope::parse_list(&entries).map(Some).map_err(|e| {
        ConfigError::new(
            var,
            e.to_string(),
            "give one or more ENV:GLOB entries, e.g. --scope 'dev:/agents/warden/**', \
             or grant everything explicitly with --scope '*:/**'",
        )
    })
}

/// The one environment every scope entry names, if they all name the same
/// one: what the user already said, so it serves as the default.
pub fn scope_environment(scope: &Scope) -> Option<String> {
    let mut envs = scope.entries().iter().map(|e| e.environment());
    let first = envs.next()?;
    (first != "*" && envs.all(|e| e == first)).then(|| first.to_string())
}

/// A default environment that no scope entry names (a typo such as `dve:`
/// on one side) would make every call without an environment a refusal.
pub fn environment_warning(default: Option<&str>, scope: &Scope) -> Option<String> {
    let default = default?;
    if scope
        .entries()
        .iter()
        .any(|e| e.environment() == "*" || e.environment() == default)
    {
        return None;
    }
    let named: Vec<&str> = scope.entries().iter().map(|e| e.environment()).collect();
    Some(format!(
        "the default environment '{default}' (INFISICAL_ENVIRONMENT) is in no scope entry ({}): every call \
         without environmentSlug will be refused; fix the slug in INFISICAL_ENVIRONMENT or in {SCOPE_VAR}",
        named.join(", ")
    ))
}
