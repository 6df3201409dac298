//! The projects part of the scope: the configured project and the others the
//! operator names (`INFISICAL_ALLOWED_PROJECTS` / `--allow-project`).

use super::{ALLOWED_PROJECTS_VAR, ConfigError, EnvSource, PROJECT_VAR, pick, reject_unexpanded};

/// The projects part of the scope. `ENV:GLOB` entries say nothing of the
/// project, and an identity may belong to several: without this, a call
/// naming another project would read the same folders there.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ProjectScope {
    /// Projects named besides the default one.
    pub also: Vec<String>,
    /// `*` was given: any project, granted explicitly.
    pub any: bool,
    /// Where the list came from (`--allow-project`, `INFISICAL_ALLOWED_PROJECTS`).
    pub source: Option<String>,
}

impl ProjectScope {
    pub fn allows(&self, default: Option<&str>, project: &str) -> bool {
        self.any || default == Some(project) || self.also.iter().any(|p| p == project)
    }

    /// `P (default), Q`, `any project`, or `none`.
    pub fn describe(&self, default: Option<&str>) -> String {
        if self.any {
            return "any project (*)".into();
        }
        let mut named: Vec<String> = default.map(|p| format!("{p} (default)")).into_iter().collect();
        named.extend(self.also.iter().filter(|p| Some(p.as_str()) != default).cloned());
        if named.is_empty() {
            "none".into()
        } else {
            named.join(", ")
        }
    }

    /// Reads `--allow-project` flags, else `INFISICAL_ALLOWED_PROJECTS`.
    pub fn parse(flags: &[String], env: &dyn EnvSource) -> Result<Self, ConfigError> {
        let (source, raw) = if flags.is_empty() {
            match pick(None, "", &[ALLOWED_PROJECTS_VAR], env)? {
                Some((var, value)) => (var, vec![value]),
                None => return Ok(Self::default()),
            }
        } else {
            ("--allow-project".to_string(), flags.to_vec())
        };
        let mut out = Self {
            source: Some(source.clone()),
            ..Self::default()
        };
        for id in raw
            .iter()
            .flat_map(|v| v.split(|c: char| c == ',' || c.is_whitespace()))
        {
            if id.is_empty() {
                continue;
            }
            reject_unexpanded(&source, id)?;
            if id == "*" {
                out.any = true;
            } else if check_project_id(id) {
                if !out.also.iter().any(|p| p == id) {
                    out.also.push(id.to_string());
                }
            } else {
                return Err(ConfigError::new(
                    source,
                    format!("'{}' is not a project id", id.escape_default()),
                    "give project ids as Infisical shows them (letters, digits, '-' and '_'), \
                     separated by spaces or commas, or '*' for any project",
                ));
            }
        }
        Ok(out)
    }
}

/// What a project id may look like: the characters Infisical's ids use.
/// The configured project (`--project-id`, else `INFISICAL_PROJECT_ID`),
/// checked to be a project id; one reading for `serve` and `proxy`.
pub fn configured_project(flag: Option<&String>, env: &dyn EnvSource) -> Result<Option<String>, ConfigError> {
    let Some((var, v)) = pick(flag, "INFISICAL_PROJECT_ID (--project-id)", &[PROJECT_VAR], env)? else {
        return Ok(None);
    };
    let v = v.trim().to_string();
    if !check_project_id(&v) {
        return Err(ConfigError::new(
            var,
            format!("'{}' is not a project id", v.escape_default()),
            "use the project id Infisical shows (letters, digits, '-' and '_')",
        ));
    }
    Ok(Some(v))
}

pub fn check_project_id(id: &str) -> bool {
    !id.is_empty()
        && id.len() <= 128
        && id
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
}
