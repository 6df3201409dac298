//! Where a call points: its project, environment and path arguments
//! resolved against the defaults and checked, the folder a call without a
//! path starts from, and the out-of-scope refusal with the call to make
//! instead.

use super::calls::Context;
use super::checks::{check_environment, check_identifier};
use super::error::ToolError;
use crate::audit::Target;
use crate::scope::SecretPath;
use crate::vault::Location;

/// Far above any real folder path; keeps a huge argument out of errors and logs.
const MAX_PATH_BYTES: usize = 1024;

impl Target {
    pub(super) fn record(&mut self, at: &Location) {
        self.project = Some(at.project_id.clone());
        self.environment = Some(at.environment.clone());
        self.path = Some(at.path.to_string());
    }
}

impl Context {
    /// Where a call points: its project, environment and path arguments
    /// (`path_argument` names the last in errors) with the defaults filled
    /// in and checked, recorded in the call's audit target.
    pub(super) fn locate(
        &self,
        target: &mut Target,
        (project_id, environment, path): (Option<String>, Option<String>, Option<String>),
        path_argument: &'static str,
    ) -> Result<Location, ToolError> {
        let project_id = match project_id.filter(|p| !p.is_empty()) {
            Some(p) => p,
            None => self
                .defaults
                .project_id
                .clone()
                .ok_or(ToolError::MissingDefault {
                    argument: "projectId",
                    variable: "INFISICAL_PROJECT_ID",
                })?,
        };
        check_identifier("projectId", &project_id)?;
        // The project is part of the scope: `ENV:GLOB` would match the same
        // folders in any project the identity belongs to.
        if !self.defaults.allows_project(&project_id) {
            return Err(ToolError::ProjectOutOfScope {
                project: project_id,
                allowed: self.defaults.projects_text(),
            });
        }
        let environment = match environment.filter(|e| !e.is_empty()) {
            Some(e) => e,
            None => self
                .defaults
                .environment
                .clone()
                .ok_or(ToolError::MissingDefault {
                    argument: "environmentSlug",
                    variable: "INFISICAL_ENVIRONMENT",
                })?,
        };
        check_environment(&environment)?;
        let path = match path {
            Some(raw) if raw.len() > MAX_PATH_BYTES => {
                return Err(ToolError::Rejected {
                    what: path_argument,
                    detail: format!(
                        "{} bytes is longer than the {MAX_PATH_BYTES} a folder path may have",
                        raw.len()
                    ),
                });
            }
            Some(raw) => SecretPath::parse(&raw).map_err(|e| ToolError::Rejected {
                what: path_argument,
                detail: e.to_string(),
            })?,
            None if self.defaults.secret_path.is_root() => {
                self.scope_start(&environment).unwrap_or_else(SecretPath::root)
            }
            None => self.defaults.secret_path.clone(),
        };
        let at = Location {
            project_id,
            environment,
            path,
        };
        target.record(&at);
        Ok(at)
    }

    /// The one folder every scope entry for `environment` starts from, when
    /// there is exactly one below the root: where a call without a path begins.
    pub(super) fn scope_start(&self, environment: &str) -> Option<SecretPath> {
        let mut starts = self
            .scope
            .entries()
            .iter()
            .filter(|e| e.environment() == "*" || e.environment() == environment)
            .map(|e| e.glob().literal_prefix());
        let first = starts.next()?;
        (!first.is_root() && starts.all(|p| p == first)).then_some(first)
    }

    pub(super) fn out_of_scope(&self, at: &Location, tool: &'static str) -> ToolError {
        let envs: Vec<&str> = self.scope.entries().iter().map(|e| e.environment()).collect();
        let next = if self.scope_for(&at.environment).is_empty() {
            let mut envs = envs.clone();
            envs.dedup();
            format!(
                "environment '{}' is in no scope entry: call {tool} with environmentSlug set to one of {}",
                at.environment,
                envs.join(", ")
            )
        } else {
            let starts: Vec<String> = self
                .scope
                .entries()
                .iter()
                .filter(|e| e.environment() == "*" || e.environment() == at.environment)
                .map(|e| e.glob().literal_prefix().to_string())
                .collect::<std::collections::BTreeSet<_>>()
                .into_iter()
                .collect();
            match tool {
                "get-secret" => format!(
                    "read only inside the scope: call get-secret with secretPath inside it, or list-secrets \
                     with secretPath={} to see the names there",
                    starts.join(" or ")
                ),
                _ => format!(
                    "list only where the scope leads: call {tool} with {}={}",
                    if tool == "list-folders" {
                        "path"
                    } else {
                        "secretPath"
                    },
                    starts.join(" or ")
                ),
            }
        };
        ToolError::OutOfScope {
            environment: at.environment.clone(),
            path: at.path.to_string(),
            scope: self.scope.to_string(),
            next,
        }
    }

    /// Scope entries that apply to an environment, to tell a caller where to look.
    pub(super) fn scope_for(&self, environment: &str) -> String {
        let entries: Vec<String> = self
            .scope
            .entries()
            .iter()
            .filter(|e| e.environment() == "*" || e.environment() == environment)
            .map(ToString::to_string)
            .collect();
        entries.join(", ")
    }
}
