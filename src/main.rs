//! The `infisical-mcp-rs` binary: parses flags, sets up logging, dispatches
//! to a mode. Everything else lives in the library.

use std::process::ExitCode;

use anyhow::Context as _;
use clap::{Parser, Subcommand};
use infisical_mcp_rs::agent::mcp::{Context, Server};
use infisical_mcp_rs::agent::proxy::{self, ProxyArgs};
use infisical_mcp_rs::audit::AuditLog;
use infisical_mcp_rs::config::{self, ENV_HELP, EnvSource as _, LogArgs, ProcessEnv, ServeArgs};
use infisical_mcp_rs::lifecycle::shutdown_signal;
use infisical_mcp_rs::operator::demo::{self, DemoArgs};
use infisical_mcp_rs::operator::doctor::{self, DoctorArgs};
use infisical_mcp_rs::operator::github::{self, GITHUB_TOKEN_HELP, GithubTokenArgs};
use infisical_mcp_rs::operator::lint::{self, LintArgs};
use infisical_mcp_rs::operator::mcp_config::{self, McpConfigArgs};
use infisical_mcp_rs::operator::provision::{self, DeprovisionArgs, Outcome, ProvisionArgs};
use infisical_mcp_rs::scope::Scope;
use infisical_mcp_rs::vault::VaultClient;
use tracing_appender::non_blocking::{NonBlockingBuilder, WorkerGuard};
use tracing_subscriber::EnvFilter;
use tracing_subscriber::Layer as _;
use tracing_subscriber::filter::FilterExt as _;
use tracing_subscriber::layer::SubscriberExt as _;
use tracing_subscriber::util::SubscriberInitExt as _;

/// Read-only, scoped access to a self-hosted Infisical vault behind
/// Cloudflare Access: an MCP server over stdio (the default mode), or with
/// `--proxy` (same as `proxy`) a loopback proxy for other tools.
#[derive(Debug, Parser)]
#[command(name = "infisical-mcp-rs", version, after_long_help = ENV_HELP, args_conflicts_with_subcommands = true)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
    #[command(flatten)]
    serve: ServeArgs,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Serve MCP on stdin/stdout (the default).
    #[command(after_long_help = ENV_HELP)]
    Serve(Box<ServeArgs>),
    /// Loopback reverse proxy to the vault that adds the Cloudflare Access
    /// headers, for the infisical CLI, SDKs and curl (also `--proxy`).
    #[command(after_long_help = proxy::config::PROXY_HELP)]
    Proxy(Box<ProxyArgs>),
    /// Start a sample vault on a loopback port and serve MCP against it
    /// (no setup needed); --walkthrough prints a scripted session instead.
    Demo(DemoArgs),
    /// Diagnose the setup step by step (config, DNS/TCP/TLS,
    /// Cloudflare Access, login, in-scope read, out-of-scope and write
    /// refusals, .mcp.json). Exit 0: no check failed (⚠ warnings allowed);
    /// 1: a check failed; 2: configuration error.
    #[command(after_long_help = ENV_HELP)]
    Doctor(Box<DoctorArgs>),
    /// Print a .mcp.json server entry for this binary (${VAR} references,
    /// never values); --write merges it into ./.mcp.json.
    McpConfig(Box<McpConfigArgs>),
    /// Mint a GitHub App installation token from a bot's secrets in the vault;
    /// prints only the token (or `export` lines with --export) on stdout.
    #[command(after_long_help = GITHUB_TOKEN_HELP)]
    GithubToken(Box<GithubTokenArgs>),
    /// Audit what the identity can see against the token taxonomy (names,
    /// tag dimensions, expiry, _FULL, prod/staging duplicates); read-only.
    /// Exit 0: no errors (warnings allowed); 1: errors found; 2: configuration error.
    #[command(after_long_help = lint::help_text())]
    Lint(Box<LintArgs>),
    /// Onboard a read-only agent identity: machine identity, universal auth,
    /// one client secret stored in the vault, project membership and a
    /// read-only privilege on the scope, each step verified; re-runs
    /// complete what is missing; --rotate-secret, --dry-run.
    /// Exit 0: done; 1: failed (undone); 2: configuration error.
    #[command(after_long_help = ENV_HELP)]
    Provision(Box<ProvisionArgs>),
    /// Remove an identity made by provision: secrets, privileges, membership,
    /// identity and stored credentials; idempotent.
    #[command(after_long_help = ENV_HELP)]
    Deprovision(Box<DeprovisionArgs>),
    /// Loopback credential broker: forwards http://127.0.0.1:PORT/RULE/<path>
    /// to the rule's fixed HTTPS origin with the rule's secret injected, and
    /// redacts the value from the answer; agents use it without holding it.
    #[command(after_long_help = infisical_mcp_rs::agent::broker::BROKER_HELP)]
    Broker(Box<infisical_mcp_rs::agent::broker::BrokerArgs>),
}

/// This project's own crates: the only targets whose debug/trace output is
/// ever written. It never carries a secret value or a token.
const OWN_TARGETS: [&str; 3] = ["infisical_mcp_rs", "infisical_scope", "infisical_fakevault"];

/// The level cap beside whatever `RUST_LOG` asks for: this project's own
/// targets may log at any level, every other target (rmcp, hyper, h2,
/// rustls, reqwest...) at most at `info`. Their debug/trace output carries
/// message payloads: MCP results hold secret values, HTTP frames and TLS
/// state hold tokens and headers.
fn within_level_cap(target: &str, level: &tracing::Level) -> bool {
    *level <= tracing::Level::INFO
        || OWN_TARGETS.iter().any(|own| {
            target
                .strip_prefix(own)
                .is_some_and(|rest| rest.is_empty() || rest.starts_with("::"))
        })
}

/// Exit code for configuration errors, as the design asks.
const CONFIG_ERROR: u8 = 2;

/// The writer thread's settings: lossy (the default), so that a client that
/// never reads the server's stderr loses log lines instead of stalling the
/// server, with about 1 MiB of lines held meanwhile; named, so that it can be
/// told from the server's own thread.
fn log_writer() -> NonBlockingBuilder {
    NonBlockingBuilder::default()
        .buffered_lines_limit(4096)
        .thread_name("log-writer")
}

/// Logs to stderr, or to daily files under `--log-dir` (keeping
/// `--log-retention` of them), through tracing-appender's writer thread, so
/// that no request waits on a `write(2)`. stdout is the protocol channel and
/// never gets a log line. The guard writes what is left when dropped.
fn init_logging(log: &LogArgs, default_filter: &str) -> anyhow::Result<WorkerGuard> {
    let env_filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(default_filter));
    // A filter of its own beside the EnvFilter, not a directive inside it: in
    // an EnvFilter the most specific directive wins (`rmcp::service=trace`
    // would override an added `rmcp=info`); this one is checked on its own.
    let cap = tracing_subscriber::filter::filter_fn(|meta| within_level_cap(meta.target(), meta.level()));
    let filter = env_filter.and(cap);
    let (writer, guard, ansi) = match &log.log_dir {
        Some(dir) => {
            let appender = tracing_appender::rolling::Builder::new()
                .rotation(tracing_appender::rolling::Rotation::DAILY)
                .filename_prefix("infisical-mcp-rs")
                .filename_suffix("log")
                .max_log_files(log.log_retention.max(1))
                .build(dir)
                .with_context(|| format!("cannot write logs to --log-dir {}", dir.display()))?;
            let (writer, guard) = log_writer().finish(appender);
            (writer, guard, false)
        }
        None => {
            let (writer, guard) = log_writer().finish(std::io::stderr());
            (
                writer,
                guard,
                std::io::IsTerminal::is_terminal(&std::io::stderr()),
            )
        }
    };
    tracing_subscriber::registry()
        .with(
            tracing_subscriber::fmt::layer()
                .with_writer(writer)
                .with_ansi(ansi)
                .with_filter(filter),
        )
        .init();
    Ok(guard)
}

/// Globs whose picomatch-3 meaning differs from the shell's are honoured
/// exactly (the vault reads them the same way) but called out once.
fn warn_about_scope(scope: &Scope) {
    for warning in scope.warnings() {
        tracing::warn!("{warning}");
    }
}

async fn serve(args: ServeArgs) -> anyhow::Result<ExitCode> {
    let config = match args.validate(&ProcessEnv) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("infisical-mcp-rs: configuration error: {e}");
            return Ok(ExitCode::from(CONFIG_ERROR));
        }
    };
    // Clients such as Claude Code show every stderr line as an error: by
    // default stderr gets only warnings and errors (RUST_LOG raises it); a
    // --log-dir the operator asked for keeps the per-call lines.
    let default_filter = if args.log.log_dir.is_some() {
        "info,rmcp=warn"
    } else {
        "warn"
    };
    let _guard = init_logging(&args.log, default_filter)?;
    warn_about_scope(&config.scope);
    for warning in config.sources.ignored.iter().chain(&config.warnings) {
        tracing::warn!("{warning}");
    }
    let vault = VaultClient::new(&config.vault, config.credentials)
        .context("cannot set up the vault client")?
        .with_cache(config.cache);
    let project = config.defaults.project_id.clone();
    let mut server = Server::new(Context {
        vault,
        defaults: config.defaults,
        scope: config.scope,
        list_values: config.list_values,
        expiry_warning: config.expiry_warning,
    })?;
    if let Some(path) = &args.log.audit_log {
        server = server.with_audit(AuditLog::open(path)?);
    }
    if let Some(path) = &args.broker_rules {
        match infisical_mcp_rs::agent::broker::mcp::Brokered::load(path, project.as_deref(), &ProcessEnv) {
            Ok(brokered) => server = server.with_broker(brokered),
            Err(e) => {
                eprintln!("infisical-mcp-rs: configuration error: --broker-rules: {e}");
                return Ok(ExitCode::from(CONFIG_ERROR));
            }
        }
    }
    tracing::info!(vault = %config.vault.base_url, "serving MCP on stdio");
    server.serve_stdio(shutdown_signal()).await?;
    Ok(ExitCode::SUCCESS)
}

async fn run_proxy(args: ProxyArgs) -> anyhow::Result<ExitCode> {
    let settings = match args.settings(&ProcessEnv) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("infisical-mcp-rs: configuration error: {e}");
            return Ok(ExitCode::from(CONFIG_ERROR));
        }
    };
    let _guard = init_logging(&args.log, "info")?;
    if let Some(policy) = &settings.policy.scope {
        warn_about_scope(&policy.scope);
        // The proxy has no default environment, but a client run from the
        // same shell reads INFISICAL_ENVIRONMENT: a typo on either side shows here.
        let default = config::ENVIRONMENT_VARS.iter().find_map(|n| ProcessEnv.var(n));
        if let Some(warning) = config::environment_warning(default.as_deref(), &policy.scope) {
            tracing::warn!("{warning}");
        }
    }
    let listener = match proxy::bind(settings.listen).await {
        Ok(l) => l,
        Err(e) => {
            tracing::error!("{e}");
            eprintln!("infisical-mcp-rs: {e}");
            return Ok(ExitCode::FAILURE);
        }
    };
    proxy::run(listener, settings, shutdown_signal()).await?;
    Ok(ExitCode::SUCCESS)
}

async fn doctor(args: DoctorArgs) -> anyhow::Result<ExitCode> {
    let _guard = init_logging(&args.serve.log, "warn")?;
    let dir = std::env::current_dir().context("cannot read the current directory")?;
    let report = doctor::run(&args, &ProcessEnv, &dir).await;
    doctor::write_report(&report, args.json, &mut std::io::stdout().lock())?;
    Ok(ExitCode::from(report.exit_code()))
}

fn mcp_config(args: &McpConfigArgs) -> anyhow::Result<ExitCode> {
    let dir = std::env::current_dir().context("cannot read the current directory")?;
    match mcp_config::run(
        args,
        &ProcessEnv,
        &dir,
        &mut std::io::stdout().lock(),
        &mut std::io::stderr(),
    ) {
        Ok(()) => Ok(ExitCode::SUCCESS),
        Err(e) => {
            eprintln!("infisical-mcp-rs mcp-config: {e}");
            Ok(ExitCode::from(e.exit_code()))
        }
    }
}

async fn github_token(args: GithubTokenArgs) -> anyhow::Result<ExitCode> {
    let config = match args.validate(&ProcessEnv) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("infisical-mcp-rs github-token: configuration error: {e}");
            return Ok(ExitCode::from(CONFIG_ERROR));
        }
    };
    // A one-shot whose stdout is eval'ed: quiet unless RUST_LOG says otherwise.
    let _guard = init_logging(&LogArgs::default(), "warn")?;
    for warning in &config.warnings {
        eprintln!("infisical-mcp-rs github-token: warning: {warning}");
    }
    // Only the token reaches stdout, through an explicit writer.
    let mut stdout = std::io::stdout().lock();
    match github::run(config, &mut stdout).await {
        Ok(()) => Ok(ExitCode::SUCCESS),
        Err(e) => {
            tracing::debug!(kind = e.kind(), "github-token failed");
            eprintln!("infisical-mcp-rs github-token: {e}\n  fix: {}", e.hint());
            Ok(ExitCode::FAILURE)
        }
    }
}

async fn run_lint(args: LintArgs) -> anyhow::Result<ExitCode> {
    let config = match args.validate(&ProcessEnv) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("infisical-mcp-rs lint: configuration error: {e}");
            return Ok(ExitCode::from(lint::report::EXIT_CONFIG));
        }
    };
    // stdout carries the report only: quiet unless RUST_LOG says otherwise.
    let _guard = init_logging(&LogArgs::default(), "warn")?;
    if let Some(note) = config::credential_choice(args.vault.client_id.as_ref(), &ProcessEnv) {
        eprintln!("infisical-mcp-rs lint: warning: {note}");
    }
    let client = VaultClient::new(&config.vault, config.credentials.clone())
        .context("cannot set up the vault client")?;
    let report = lint::run(&config, &client).await;
    report.write(args.json, &mut std::io::stdout().lock())?;
    Ok(ExitCode::from(report.exit_code()))
}

/// Runs `provision` / `deprovision` and prints its report on stdout. The
/// client secret never reaches this code: only names and ids do.
async fn run_provision(
    json: bool,
    run: impl std::future::Future<Output = Outcome>,
) -> anyhow::Result<ExitCode> {
    let _guard = init_logging(&LogArgs::default(), "warn")?;
    let outcome = run.await;
    let text = if json {
        outcome.to_json()?
    } else {
        outcome.to_text()
    };
    std::io::Write::write_all(&mut std::io::stdout().lock(), text.as_bytes())?;
    Ok(ExitCode::from(outcome.exit))
}

/// The subcommand to run; no subcommand is `serve` with the top-level flags.
fn parse_command_line() -> Command {
    let cli = Cli::parse_from(proxy::proxy_flag_to_subcommand(std::env::args_os()));
    cli.command.unwrap_or_else(|| Command::Serve(Box::new(cli.serve)))
}

fn main() -> ExitCode {
    let command = parse_command_line();
    // The stdio server answers one client whose calls wait on the vault: the
    // main thread alone keeps up. A worker thread (one per core by default)
    // would cost a stack, a malloc arena, its start before the first answer,
    // and a cross-thread wake-up per message. TOKIO_WORKER_THREADS still asks
    // for workers. The proxy serves on its own workers (proxy::run, half the
    // cores): this thread only starts and stops them.
    let single_thread = match command {
        Command::Serve(_) => std::env::var_os("TOKIO_WORKER_THREADS").is_none(),
        Command::Proxy(_) => true,
        _ => false,
    };
    let mut builder = if single_thread {
        tokio::runtime::Builder::new_current_thread()
    } else {
        tokio::runtime::Builder::new_multi_thread()
    };
    let runtime = match builder.enable_all().build() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("infisical-mcp-rs: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    let outcome = runtime.block_on(async move {
        match command {
            Command::Serve(args) => serve(*args).await,
            Command::Proxy(args) => run_proxy(*args).await,
            Command::GithubToken(args) => github_token(*args).await,
            Command::Doctor(args) => doctor(*args).await,
            Command::McpConfig(args) => mcp_config(&args),
            Command::Lint(args) => run_lint(*args).await,
            Command::Provision(args) => {
                run_provision(args.json, provision::provision(&args, &ProcessEnv)).await
            }
            Command::Deprovision(args) => {
                run_provision(args.json, provision::deprovision(&args, &ProcessEnv)).await
            }
            Command::Broker(args) => {
                let _guard = init_logging(&args.log, "info")?;
                Ok(ExitCode::from(
                    infisical_mcp_rs::agent::broker::main(&args, &ProcessEnv, shutdown_signal()).await,
                ))
            }
            Command::Demo(args) => {
                // The demo's own chatter would drown the walkthrough: warnings only.
                let _guard = init_logging(&LogArgs::default(), "warn")?;
                Ok(ExitCode::from(demo::run(args, shutdown_signal()).await?))
            }
        }
    });
    // Reading stdin parks a blocking thread that would hold up a normal
    // runtime drop; the session is over, so do not wait for it.
    runtime.shutdown_background();
    match outcome {
        Ok(code) => code,
        Err(e) => {
            eprintln!("infisical-mcp-rs: {e:#}");
            ExitCode::FAILURE
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tracing::Level;

    #[test]
    fn only_this_projects_targets_log_above_info() {
        for target in [
            "rmcp",
            "rmcp::service",
            "hyper_util::client::legacy",
            "rustls::client::hs",
            "h2::codec",
            "reqwest",
            "log",
            "infisical_mcp_rsx",
            "my_infisical_mcp_rs",
        ] {
            assert!(!within_level_cap(target, &Level::TRACE), "{target}");
            assert!(!within_level_cap(target, &Level::DEBUG), "{target}");
            assert!(within_level_cap(target, &Level::INFO), "{target}");
            assert!(within_level_cap(target, &Level::WARN), "{target}");
        }
        for target in [
            "infisical_mcp_rs",
            "infisical_mcp_rs::agent::proxy::access",
            "infisical_scope::glob",
            "infisical_fakevault",
        ] {
            assert!(within_level_cap(target, &Level::TRACE), "{target}");
        }
    }

    #[test]
    fn every_command_line_goes_through_clap() {
        let parse = |words: &[&str]| {
            Cli::try_parse_from(proxy::proxy_flag_to_subcommand(
                words.iter().map(std::ffi::OsString::from),
            ))
        };
        let serve = parse(&[
            "infisical-mcp-rs",
            "serve",
            "--list-values",
            "--expiry-warning-days",
            "3",
        ]);
        assert!(
            matches!(&serve, Ok(Cli { command: Some(Command::Serve(a)), .. }) if a.list_values && a.expiry_warning_days == 3),
            "{serve:?}"
        );
        let bare = parse(&["infisical-mcp-rs"]);
        assert!(matches!(&bare, Ok(Cli { command: None, .. })), "{bare:?}");
        for words in [
            &["infisical-mcp-rs", "serve", "--no-such-flag"][..],
            &["infisical-mcp-rs", "serve", "--expiry-warning-days", "soon"],
        ] {
            assert!(parse(words).is_err(), "{words:?}");
        }
    }
}
