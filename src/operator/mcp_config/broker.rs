//! `mcp-config --broker-rules FILE`: what connects a session to the
//! credential broker. The server entry gets the rules file (so that
//! `list-secrets` marks brokered secrets and `get-secret` refuses the
//! `use_only` ones) and the broker's URL; the agent's own lines (the URL,
//! and the broker token as a `$INFISICAL_BROKER_TOKEN` reference) are
//! printed for the operator to place. No value is read or written.

use std::io::Write;
use std::path::{Path, PathBuf};

use super::McpConfigError;
use crate::agent::broker::mcp::{BROKER_URL_VAR, DEFAULT_BROKER_URL};
use crate::agent::broker::{BROKER_TOKEN_VAR, Rules};
use crate::config::EnvSource;

/// A checked rules file and the URL agents reach the broker at.
#[derive(Debug, Clone)]
pub struct BrokerLines {
    pub rules_file: PathBuf,
    pub url: String,
    pub rule_names: Vec<String>,
}

fn bad(flag: &'static str, problem: impl Into<String>) -> McpConfigError {
    McpConfigError::BadFlag {
        flag,
        problem: problem.into(),
    }
}

impl BrokerLines {
    /// Reads and checks the rules file (as `serve` will) and the URL.
    pub fn load(rules: &Path, url: Option<&str>, env: &dyn EnvSource) -> Result<Self, McpConfigError> {
        let rules_file = std::fs::canonicalize(rules)
            .map_err(|e| bad("--broker-rules", format!("cannot read {}: {e}", rules.display())))?;
        // The project only fills rules that name none; `serve` takes it from
        // its own environment, which need not be this shell's.
        let project = env
            .var("INFISICAL_PROJECT_ID")
            .unwrap_or_else(|| "project-from-the-server-environment".into());
        let parsed =
            Rules::load(&rules_file, Some(&project)).map_err(|e| bad("--broker-rules", e.to_string()))?;
        let url = url
            .unwrap_or(DEFAULT_BROKER_URL)
            .trim()
            .trim_end_matches('/')
            .to_string();
        let parsed_url = url::Url::parse(&url).map_err(|e| bad("--broker-url", format!("'{url}': {e}")))?;
        if !matches!(parsed_url.scheme(), "http" | "https")
            || parsed_url.host_str().is_none()
            || parsed_url.path() != "/"
            || parsed_url.query().is_some()
            || !parsed_url.username().is_empty()
        {
            return Err(bad(
                "--broker-url",
                format!("'{url}' is not the broker's address; give http://127.0.0.1:PORT (its --listen)"),
            ));
        }
        Ok(Self {
            rules_file,
            url,
            rule_names: parsed.rules.iter().map(|r| r.name.clone()).collect(),
        })
    }

    /// The server entry's extra arguments.
    pub fn server_args(&self) -> Vec<String> {
        vec!["--broker-rules".into(), self.rules_file.display().to_string()]
    }

    /// The server entry's extra variable.
    pub fn server_env(&self) -> (String, String) {
        (BROKER_URL_VAR.to_string(), self.url.clone())
    }

    /// The lines the agent's own settings need, for the operator to place.
    pub fn agent_notes(&self, env: &dyn EnvSource, err: &mut dyn Write) -> std::io::Result<()> {
        let settings = serde_json::json!({ "env": { BROKER_URL_VAR: self.url } });
        writeln!(
            err,
            "note: agents use brokered secrets through {url}/RULE/<path> (rules: {rules}); for Claude Code, \
             add to .claude/settings.json:\n  {settings}\nand have the agent send, on every broker request:\n  \
             -H \"X-Broker-Token: ${BROKER_TOKEN_VAR}\"\n(export {BROKER_TOKEN_VAR} where both the broker and \
             the agent start; its value goes in no file)",
            url = self.url,
            rules = self.rule_names.join(", "),
        )?;
        if env.var(BROKER_TOKEN_VAR).is_none() {
            writeln!(
                err,
                "warning: {BROKER_TOKEN_VAR} is not set here; without it any process on this machine can \
                 use the broker (set 16+ random characters, e.g. $(openssl rand -hex 24))"
            )?;
        }
        Ok(())
    }
}
