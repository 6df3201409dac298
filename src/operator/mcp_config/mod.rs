//! `mcp-config`: the `.mcp.json` server entry for this binary, with every
//! credential as a `${VAR}` reference (never a value), printed or merged into
//! `./.mcp.json` without touching the other servers or top-level keys. It
//! replaces a hand-written setup script. With `--claude` it prints the same
//! entry as a `claude mcp add-json` command line instead. The Cloudflare
//! Access pair is left out when neither of its variables is set here (a
//! reference to an unset variable keeps Claude Code from starting the server).
//!
//! `--install path|absolute|npx` picks how the client starts the server: by
//! name from PATH, by this executable's full path, or through the npm
//! launcher pinned to this version.
//!
//! Merging keeps the other entries' text as it was ([`merge`]). With
//! `--broker-rules` the entry also connects the session to the credential
//! broker ([`broker`]).

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Command;

use clap::Args;
use serde::Serialize;
use serde_json::Value;

mod broker;
mod merge;

use merge::{Ordered, merged};

use crate::config::{CF_ID_VAR, CF_SECRET_VAR, CLIENT_ID_VARS, CLIENT_SECRET_VARS, EnvSource, TOKEN_VAR};
use crate::scope::{Scope, SecretPath};

/// The executable's name as `cargo install` puts it on PATH.
pub const BIN_NAME: &str = "infisical-mcp-rs";
/// The npm package whose launcher runs this binary (`npx -y infisical-mcp-rs serve`).
pub const NPM_PACKAGE: &str = "infisical-mcp-rs";
/// The file Claude Code reads in a project directory.
pub const MCP_JSON: &str = ".mcp.json";
/// Variables whose values are secrets: in `.mcp.json` only as references.
pub const SECRET_VARS: [&str; 4] = [
    CLIENT_SECRET_VARS[0],
    CLIENT_SECRET_VARS[1],
    TOKEN_VAR,
    CF_SECRET_VAR,
];

#[derive(Debug, Clone, Args)]
pub struct McpConfigArgs {
    /// Name of the server entry under "mcpServers".
    #[arg(long, default_value = "infisical")]
    pub name: String,

    /// Command the MCP client runs (default: the installed binary's name).
    #[arg(long, value_name = "PATH", default_value = BIN_NAME)]
    pub command: String,

    /// Scope entry ENV:GLOB written literally (repeatable); without it the
    /// entry references ${INFISICAL_SCOPE}.
    #[arg(long = "scope", value_name = "ENV:GLOB")]
    pub scope: Vec<String>,

    /// Default environment slug, written literally.
    #[arg(long, value_name = "SLUG")]
    pub environment: Option<String>,

    /// Default folder, written literally.
    #[arg(long, value_name = "PATH")]
    pub secret_path: Option<String>,

    /// Variable the client id is taken from (e.g. INFISICAL_MCP_CLIENT_ID).
    #[arg(long, value_name = "VAR", default_value = CLIENT_ID_VARS[0])]
    pub client_id_var: String,

    /// Variable the client secret is taken from (e.g. INFISICAL_MCP_CLIENT_SECRET).
    #[arg(long, value_name = "VAR", default_value = CLIENT_SECRET_VARS[0])]
    pub client_secret_var: String,

    /// Leave out the Cloudflare Access pair (vault not behind Access). The
    /// default when neither CF_ACCESS_CLIENT_ID nor CF_ACCESS_CLIENT_SECRET is set.
    #[arg(long, conflicts_with = "cf_access")]
    pub no_cf_access: bool,

    /// Keep the Cloudflare Access pair even though its variables are unset here.
    #[arg(long)]
    pub cf_access: bool,

    /// Create or merge ./.mcp.json instead of printing.
    #[arg(long, conflicts_with = "claude")]
    pub write: bool,

    /// Print a `claude mcp add-json --scope project …` command line (the
    /// same entry, references only) instead of the JSON document.
    #[arg(long)]
    pub claude: bool,

    /// With --write: replace an existing entry of the same name.
    #[arg(long)]
    pub force: bool,

    /// How the client starts the server: `path` (the name, found on the
    /// client's PATH), `absolute` (this executable's full path) or `npx`
    /// (the npm launcher, pinned to this version). Default: path, or --command.
    #[arg(long, value_enum, value_name = "ROUTE", conflicts_with = "command")]
    pub install: Option<Install>,

    /// A credential broker's rules file: the server marks its secrets in
    /// list-secrets and refuses the use_only ones in get-secret; the lines
    /// the agent needs (broker URL, token reference) are printed on stderr.
    #[arg(long, value_name = "FILE")]
    pub broker_rules: Option<PathBuf>,

    /// Where agents reach the broker (its --listen); default http://127.0.0.1:2020.
    #[arg(long, value_name = "URL", requires = "broker_rules")]
    pub broker_url: Option<String>,
}

/// The ways an MCP client can start this server, one per install route.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Install {
    /// `infisical-mcp-rs` looked up on PATH (cargo install, a release binary
    /// in a PATH directory).
    Path,
    /// The full path of the executable running now, for clients started
    /// without the shell's PATH (a GUI launch often lacks ~/.cargo/bin).
    Absolute,
    /// `npx -y infisical-mcp-rs@VERSION serve`: Node runs the npm launcher,
    /// which runs the binary from its platform package.
    Npx,
}

#[derive(Debug, thiserror::Error)]
pub enum McpConfigError {
    #[error("{flag}: {problem}")]
    BadFlag { flag: &'static str, problem: String },
    #[error("{MCP_JSON} already has a server named '{0}'; pass --force to replace it")]
    Exists(String),
    #[error("{MCP_JSON} is not valid JSON ({0}); fix or move it, nothing was written")]
    Malformed(String),
    #[error("{MCP_JSON}: {0}; nothing was written")]
    Shape(&'static str),
    #[error("cannot write {MCP_JSON}: {0}")]
    Io(#[from] std::io::Error),
    #[error("cannot build the JSON: {0}")]
    Json(#[from] serde_json::Error),
    #[error("--install absolute: cannot tell this executable's path ({0}); pass --command /full/path")]
    OwnPath(String),
}

impl McpConfigError {
    /// 2 for bad flags (like clap), 1 for everything else.
    pub fn exit_code(&self) -> u8 {
        match self {
            Self::BadFlag { .. } => 2,
            _ => 1,
        }
    }
}

/// `${NAME}` and nothing else.
pub fn is_reference(value: &str) -> bool {
    value
        .strip_prefix("${")
        .and_then(|v| v.strip_suffix('}'))
        .is_some_and(is_var_name)
}

fn is_var_name(name: &str) -> bool {
    let mut chars = name.chars();
    chars.next().is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// Whether an `.mcp.json` server entry starts this binary: by name or path,
/// or through the npm launcher (`npx [-y] infisical-mcp-rs[@VERSION] …`).
pub fn runs_this_binary(server: &Value) -> bool {
    let Some(command) = server.get("command").and_then(Value::as_str) else {
        return false;
    };
    let base = command.rsplit(['/', '\\']).next().unwrap_or(command);
    let base = base.strip_suffix(".exe").unwrap_or(base);
    if base == BIN_NAME {
        return true;
    }
    // npx runs the first argument that is not an option.
    base.strip_suffix(".cmd").unwrap_or(base) == "npx"
        && server
            .get("args")
            .and_then(Value::as_array)
            .and_then(|args| {
                args.iter()
                    .filter_map(Value::as_str)
                    .find(|a| !a.starts_with('-'))
            })
            .is_some_and(|package| {
                package == NPM_PACKAGE
                    || package
                        .strip_prefix(NPM_PACKAGE)
                        .is_some_and(|rest| rest.starts_with('@'))
            })
}

#[derive(Serialize)]
struct Entry {
    #[serde(rename = "type")]
    kind: &'static str,
    command: String,
    args: Vec<String>,
    env: Ordered<String>,
}

fn reference(var: &str) -> String {
    format!("${{{var}}}")
}

fn bad(flag: &'static str, problem: impl Into<String>) -> McpConfigError {
    McpConfigError::BadFlag {
        flag,
        problem: problem.into(),
    }
}

impl McpConfigArgs {
    /// Whether the entry carries the Cloudflare Access pair.
    fn with_cf_access(&self, env: &dyn EnvSource) -> bool {
        !self.no_cf_access
            && (self.cf_access || env.var(CF_ID_VAR).is_some() || env.var(CF_SECRET_VAR).is_some())
    }

    /// The broker lines, when `--broker-rules` was given.
    fn broker(&self, env: &dyn EnvSource) -> Result<Option<broker::BrokerLines>, McpConfigError> {
        self.broker_rules
            .as_deref()
            .map(|rules| broker::BrokerLines::load(rules, self.broker_url.as_deref(), env))
            .transpose()
    }

    fn entry(&self, env_here: &dyn EnvSource) -> Result<Entry, McpConfigError> {
        if self.name.trim().is_empty() {
            return Err(bad("--name", "is empty"));
        }
        if self.command.trim().is_empty() {
            return Err(bad("--command", "is empty"));
        }
        for (flag, var) in [
            ("--client-id-var", &self.client_id_var),
            ("--client-secret-var", &self.client_secret_var),
        ] {
            if !is_var_name(var) {
                return Err(bad(flag, format!("'{var}' is not an environment variable name")));
            }
        }
        let mut env = vec![
            ("INFISICAL_HOST_URL".to_string(), reference("INFISICAL_HOST_URL")),
            (CLIENT_ID_VARS[0].to_string(), reference(&self.client_id_var)),
            (
                CLIENT_SECRET_VARS[0].to_string(),
                reference(&self.client_secret_var),
            ),
        ];
        if self.with_cf_access(env_here) {
            env.push((CF_ID_VAR.into(), reference(CF_ID_VAR)));
            env.push((CF_SECRET_VAR.into(), reference(CF_SECRET_VAR)));
        }
        env.push(("INFISICAL_PROJECT_ID".into(), reference("INFISICAL_PROJECT_ID")));
        if let Some(slug) = &self.environment {
            let ok = !slug.is_empty()
                && slug
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
            if !ok {
                return Err(bad(
                    "--environment",
                    format!("'{slug}' is not an environment slug"),
                ));
            }
            env.push(("INFISICAL_ENVIRONMENT".into(), slug.clone()));
        } else if let Some(only) = Scope::parse_list(&self.scope)
            .ok()
            .filter(|_| !self.scope.is_empty())
            .and_then(|s| crate::config::scope_environment(&s))
        {
            // What the scope already says; written out so that the entry reads plainly.
            env.push(("INFISICAL_ENVIRONMENT".into(), only));
        } else if env_here.var("INFISICAL_ENVIRONMENT").is_some() {
            env.push(("INFISICAL_ENVIRONMENT".into(), reference("INFISICAL_ENVIRONMENT")));
        }
        if let Some(path) = &self.secret_path {
            let parsed = SecretPath::parse(path).map_err(|e| bad("--secret-path", e.to_string()))?;
            env.push(("INFISICAL_SECRET_PATH".into(), parsed.as_str().to_string()));
        }
        if self.scope.is_empty() {
            env.push(("INFISICAL_SCOPE".into(), reference("INFISICAL_SCOPE")));
        } else {
            let scope = Scope::parse_list(&self.scope).map_err(|e| bad("--scope", e.to_string()))?;
            let entries: Vec<String> = scope.entries().iter().map(ToString::to_string).collect();
            env.push(("INFISICAL_SCOPE".into(), entries.join(" ")));
        }
        let (command, mut args) = self.launch()?;
        if let Some(lines) = self.broker(env_here)? {
            args.extend(lines.server_args());
            env.push(lines.server_env());
        }
        Ok(Entry {
            kind: "stdio",
            command,
            args,
            env: Ordered(env),
        })
    }

    /// The entry's command and arguments for the chosen install route.
    fn launch(&self) -> Result<(String, Vec<String>), McpConfigError> {
        let serve = || "serve".to_string();
        match self.install {
            None | Some(Install::Path) => Ok((self.command.clone(), vec![serve()])),
            Some(Install::Absolute) => {
                let exe = std::env::current_exe()
                    .and_then(std::fs::canonicalize)
                    .map_err(|e| McpConfigError::OwnPath(e.to_string()))?;
                let exe = exe
                    .to_str()
                    .ok_or_else(|| McpConfigError::OwnPath(format!("{} is not UTF-8", exe.display())))?;
                Ok((exe.to_string(), vec![serve()]))
            }
            // Pinned: `-y` would otherwise install whatever version is newest
            // on the registry each time the client starts the server.
            Some(Install::Npx) => Ok((
                "npx".to_string(),
                vec![
                    "-y".to_string(),
                    format!("{NPM_PACKAGE}@{}", env!("CARGO_PKG_VERSION")),
                    serve(),
                ],
            )),
        }
    }
}

/// What an operator should know about the chosen route before relying on it.
fn install_notes(route: Install, entry: &Entry, err: &mut dyn Write) -> std::io::Result<()> {
    match route {
        Install::Path if !on_path(&entry.command) => writeln!(
            err,
            "warning: '{}' is not on PATH here; install it (README, \"Install\") or use --install absolute",
            entry.command
        ),
        Install::Absolute if entry.command.contains("/node_modules/") => writeln!(
            err,
            "warning: {} is inside an npm install (npx's cache is cleared and replaced at will); \
             use --install npx, or install the binary and run mcp-config from there",
            entry.command
        ),
        Install::Npx => {
            if !on_path("npx") {
                writeln!(
                    err,
                    "warning: 'npx' is not on PATH here; the npm route needs Node.js (which ships npx)"
                )?;
            }
            writeln!(
                err,
                "note: npx starts Node and npm before the server, on every start; a binary on PATH \
                 (--install path) starts faster. Regenerate the entry after upgrading: it pins {NPM_PACKAGE}@{}",
                env!("CARGO_PKG_VERSION")
            )
        }
        _ => Ok(()),
    }
}

/// One POSIX shell word: bare when it is plainly safe, else single-quoted
/// (a `'` inside becomes `'\''`), so that `${VAR}` reaches Claude Code as
/// written instead of being expanded by the shell into a value.
fn shell_quote(word: &str) -> String {
    let plain = !word.is_empty()
        && word
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | '/' | ':' | '@'));
    if plain {
        word.to_string()
    } else {
        format!("'{}'", word.replace('\'', "'\\''"))
    }
}

/// Whether `path` is ignored by git: `Some(true/false)`, or `None` when it
/// is not in a git work tree (or git is missing) and so cannot be committed.
pub fn git_ignored(dir: &Path, file: &str) -> Option<bool> {
    let status = Command::new("git")
        .args(["check-ignore", "-q", "--", file])
        .current_dir(dir)
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .status()
        .ok()?;
    match status.code() {
        Some(0) => Some(true),
        Some(1) => Some(false),
        _ => None,
    }
}

fn on_path(command: &str) -> bool {
    if command.contains('/') || command.contains('\\') {
        return Path::new(command).is_file();
    }
    std::env::var_os("PATH").is_some_and(|paths| {
        std::env::split_paths(&paths)
            .any(|dir| dir.join(command).is_file() || dir.join(format!("{command}.exe")).is_file())
    })
}

/// The variables the entry references that `env` does not set.
fn unset_references(entry: &Entry, env: &dyn EnvSource) -> Vec<String> {
    entry
        .env
        .0
        .iter()
        .filter_map(|(_, value)| value.strip_prefix("${")?.strip_suffix('}'))
        .filter(|var| env.var(var).is_none())
        .map(str::to_string)
        .collect()
}

/// Prints the entry, or with `--write` merges it into `dir/.mcp.json`.
/// Notes and warnings go to `err`; only the JSON goes to `out`.
pub fn run(
    args: &McpConfigArgs,
    env: &dyn EnvSource,
    dir: &Path,
    out: &mut dyn Write,
    err: &mut dyn Write,
) -> Result<(), McpConfigError> {
    let entry = args.entry(env)?;
    if !args.no_cf_access && !args.with_cf_access(env) {
        writeln!(
            err,
            "note: {CF_ID_VAR} / {CF_SECRET_VAR} are not set here, so the entry has no Cloudflare Access \
             lines (pass --cf-access to keep them for a vault behind Access)"
        )?;
    }
    let unset = unset_references(&entry, env);
    if !unset.is_empty() {
        let cf_hint = if unset.iter().any(|v| v.starts_with("CF_ACCESS_")) {
            "; a vault not behind Cloudflare Access needs --no-cf-access"
        } else {
            ""
        };
        writeln!(
            err,
            "note: {} not set in this shell; the MCP client fills ${{VAR}} from the environment it \
             starts in (Claude Code will not start a server whose variable is unset): export them \
             before starting it{cf_hint}",
            unset.join(", ")
        )?;
    }
    if let Some(lines) = args.broker(env)? {
        lines.agent_notes(env, err)?;
    }
    if let Some(route) = args.install {
        install_notes(route, &entry, err)?;
    } else if !on_path(&args.command) {
        writeln!(
            err,
            "warning: '{}' is not on PATH here; install it (cargo install --path .) or pass --command /full/path",
            args.command
        )?;
    }
    if args.claude {
        writeln!(
            err,
            "note: --scope project writes ./{MCP_JSON}, the one place Claude Code expands ${{VAR}} \
             (it does not in user or local scope); then run `claude`, approve the server (or set \
             enableAllProjectMcpServers), allow its tools (--allowedTools or permissions.allow) and \
             check with `claude mcp list`"
        )?;
        let json = serde_json::to_string(&entry)?;
        writeln!(
            out,
            "claude mcp add-json --scope project {} {}",
            shell_quote(&args.name),
            shell_quote(&json)
        )?;
        return Ok(());
    }
    if !args.write {
        let doc = Ordered(vec![(
            "mcpServers".to_string(),
            Ordered(vec![(args.name.clone(), entry)]),
        )]);
        let mut text = serde_json::to_string_pretty(&doc)?;
        text.push('\n');
        out.write_all(text.as_bytes())?;
        return Ok(());
    }

    let path = dir.join(MCP_JSON);
    let existing = match std::fs::read_to_string(&path) {
        Ok(t) => Some(t),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
        Err(e) => return Err(e.into()),
    };
    let text = merged(existing.as_deref(), &args.name, &entry, args.force)?;
    let tmp = dir.join(format!("{MCP_JSON}.tmp-{}", std::process::id()));
    std::fs::write(&tmp, text.as_bytes())?;
    if let Err(e) = std::fs::rename(&tmp, &path) {
        let _ = std::fs::remove_file(&tmp);
        return Err(e.into());
    }
    writeln!(
        err,
        "{} server '{}' in {}",
        if existing.is_some() { "merged" } else { "wrote" },
        args.name,
        path.display()
    )?;
    if git_ignored(dir, MCP_JSON) == Some(false) {
        writeln!(
            err,
            "warning: {MCP_JSON} is not gitignored; add it to .gitignore (it is session-local and must not be committed)"
        )?;
    }
    Ok(())
}

#[cfg(test)]
mod tests;
