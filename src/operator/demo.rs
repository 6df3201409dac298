//! `infisical-mcp-rs demo`: a zero-setup sample vault, like `vault server -dev`.
//!
//! It starts the same fake Infisical the tests use (real routes, JSON and
//! error bodies, behind a fake Cloudflare Access gate) on a loopback port, and
//! serves MCP on stdio against it through the production client and tools.
//! `--walkthrough` instead runs a scripted session and prints each call;
//! `--lint` audits the sample (which breaks every taxonomy rule somewhere).

use std::io::Write;

use clap::Args;
use secrecy::SecretString;
use serde_json::{Value, json};

use crate::agent::mcp::{Context, ServeError, Server};
use crate::config::{CfAccess, Credentials, Defaults, VaultSettings, default_user_agent};
use crate::operator::lint::{self, LintConfig};
use crate::scope::{Scope, SecretPath};
use crate::vault::{VaultClient, VaultError};
use infisical_fakevault::{self as fakevault, CfGate, FakeVault, RunningVault, VaultData};

/// The scope the demo server runs with: what the demo identity may read.
pub const DEMO_SCOPE: &str = "dev:/agents/warden/** prod:/MooseQuest/**";

#[derive(Debug, Clone, Args)]
pub struct DemoArgs {
    /// Run a scripted client session against the sample vault and print each
    /// call and result, instead of serving MCP on stdio.
    #[arg(long, conflicts_with = "lint")]
    pub walkthrough: bool,

    /// Run `lint` over the whole sample vault (dev, staging, prod) as an
    /// auditor identity and print its report; exits 1, like `lint`, because
    /// the sample holds an example of every error.
    #[arg(long)]
    pub lint: bool,

    /// With --lint: the JSON document instead of the report.
    #[arg(long, requires = "lint")]
    pub json: bool,
}

#[derive(Debug, thiserror::Error)]
pub enum DemoError {
    #[error("could not start the sample vault on a loopback port: {0}")]
    Vault(#[from] std::io::Error),
    #[error("sample vault URL is invalid: {0}")]
    Url(String),
    #[error("could not set up the demo: {0}")]
    Setup(String),
    #[error(transparent)]
    Serve(#[from] ServeError),
    #[error(transparent)]
    Client(#[from] VaultError),
}

async fn start_sample_vault() -> Result<RunningVault, DemoError> {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let vault = FakeVault::new(VaultData::sample())
        .gate(CfGate::LoginRedirect {
            client_id: fakevault::DEMO_CF_CLIENT_ID.into(),
            client_secret: fakevault::DEMO_CF_CLIENT_SECRET.into(),
        })
        .identity(fakevault::demo_identity())
        .identity(fakevault::demo_auditor())
        .start(listener)
        .await?;
    Ok(vault)
}

/// The connection `serve` would have to the sample vault, with the given
/// Cloudflare service-token secret.
fn demo_settings(vault: &RunningVault, cf_secret: &str) -> Result<VaultSettings, DemoError> {
    let base_url = url::Url::parse(&vault.base_url()).map_err(|e| DemoError::Url(e.to_string()))?;
    let settings = VaultSettings {
        base_url,
        cf_access: Some(CfAccess {
            client_id: fakevault::DEMO_CF_CLIENT_ID.into(),
            client_secret: SecretString::from(cf_secret),
        }),
        user_agent: default_user_agent(),
        connect_timeout: std::time::Duration::from_secs(2),
        call_timeout: std::time::Duration::from_secs(10),
        max_response_bytes: 16 * 1024 * 1024,
        max_concurrency: 8,
    };
    Ok(settings)
}

/// A server wired to the sample vault exactly as `serve` would be wired to a
/// real one, with the given Cloudflare service-token secret.
fn demo_server(vault: &RunningVault, cf_secret: &str) -> Result<Server, DemoError> {
    let settings = demo_settings(vault, cf_secret)?;
    let credentials = Credentials::UniversalAuth {
        client_id: fakevault::DEMO_CLIENT_ID.into(),
        client_secret: SecretString::from(fakevault::DEMO_CLIENT_SECRET),
    };
    let scope = Scope::parse_list(&[DEMO_SCOPE.to_string()]).map_err(|e| DemoError::Setup(e.to_string()))?;
    let context = Context {
        vault: VaultClient::new(&settings, credentials)?,
        defaults: Defaults {
            project_id: Some(fakevault::DEMO_PROJECT_ID.into()),
            environment: Some("dev".into()),
            secret_path: SecretPath::root(),
            projects: Default::default(),
        },
        scope,
        list_values: false,
        expiry_warning: crate::taxonomy::DEFAULT_EXPIRY_WARNING,
    };
    Ok(Server::new(context)?)
}

fn banner(vault: &RunningVault) -> String {
    format!(
        "infisical-mcp-rs demo: a sample Infisical vault is running at {url} behind a fake Cloudflare Access gate.\n\
         This process now serves MCP on stdin/stdout against it, scoped to: {DEMO_SCOPE}.\n\
         Connect a client:\n\
         \x20 .mcp.json:  {{\"mcpServers\": {{\"infisical-demo\": {{\"command\": \"infisical-mcp-rs\", \"args\": [\"demo\"]}}}}}}\n\
         \x20 Inspector:  npx @modelcontextprotocol/inspector --cli infisical-mcp-rs demo --method tools/list\n\
         \x20 Scripted:   infisical-mcp-rs demo --walkthrough\n\
         Everything here is fake sample data. Ctrl-C or closing stdin stops it.",
        url = vault.base_url()
    )
}

/// Runs the demo; the result is the process exit code.
pub async fn run(args: DemoArgs, shutdown: impl std::future::Future<Output = ()>) -> Result<u8, DemoError> {
    let vault = start_sample_vault().await?;
    if args.walkthrough || args.lint {
        let outcome = if args.lint {
            lint_sample(&vault, args.json).await
        } else {
            walkthrough(&vault).await.map(|()| 0)
        };
        vault.shutdown().await;
        return outcome;
    }
    let server = demo_server(&vault, fakevault::DEMO_CF_CLIENT_SECRET)?;
    // stderr, never stdout: stdout belongs to the MCP client.
    eprintln!("{}", banner(&vault));
    server.serve_stdio(shutdown).await?;
    vault.shutdown().await;
    Ok(0)
}

/// `lint` over every environment of the sample, through the production
/// client and the fake's Cloudflare gate, as the auditor identity.
async fn lint_sample(vault: &RunningVault, json: bool) -> Result<u8, DemoError> {
    let settings = demo_settings(vault, fakevault::DEMO_CF_CLIENT_SECRET)?;
    let credentials = Credentials::UniversalAuth {
        client_id: fakevault::DEMO_AUDITOR_CLIENT_ID.into(),
        client_secret: SecretString::from(fakevault::DEMO_AUDITOR_CLIENT_SECRET),
    };
    let config = LintConfig {
        vault: settings.clone(),
        credentials: credentials.clone(),
        project_id: fakevault::DEMO_PROJECT_ID.into(),
        scope: Scope::parse_list(&["*:/**".to_string()]).map_err(|e| DemoError::Setup(e.to_string()))?,
        environments: Vec::new(),
        all_environments: true,
        path: SecretPath::root(),
        vendors: crate::taxonomy::DEFAULT_VENDOR_CODES.map(String::from).to_vec(),
        expiry_warning: crate::taxonomy::DEFAULT_EXPIRY_WARNING,
    };
    let client = VaultClient::new(&settings, credentials)?;
    let report = lint::run(&config, &client).await;
    report
        .write(json, &mut std::io::stdout().lock())
        .map_err(|e| DemoError::Setup(format!("cannot write to stdout: {e}")))?;
    Ok(report.exit_code())
}

/// One scripted step: what it shows, the tool, the arguments.
struct Step {
    title: &'static str,
    tool: &'static str,
    args: Value,
}

async fn show(out: &mut impl Write, server: &Server, step: &Step) -> Result<Value, DemoError> {
    let io = |e: std::io::Error| DemoError::Setup(format!("cannot write to stdout: {e}"));
    writeln!(out, "\n── {} ──", step.title).map_err(io)?;
    writeln!(out, "→ {} {}", step.tool, step.args).map_err(io)?;
    let result = server
        .call(
            step.tool,
            step.args.as_object().cloned(),
            "demo",
            std::future::pending(),
        )
        .await
        .map_err(|e| DemoError::Setup(e.message.to_string()))?;
    let marker = if result.is_error == Some(true) {
        "✘ isError"
    } else {
        "✔"
    };
    writeln!(out, "← {marker}").map_err(io)?;
    for block in &result.content {
        if let Some(text) = block.as_text() {
            for line in text.text.lines() {
                writeln!(out, "  {line}").map_err(io)?;
            }
        }
    }
    Ok(result.structured_content.unwrap_or(Value::Null))
}

async fn walkthrough(vault: &RunningVault) -> Result<(), DemoError> {
    let server = demo_server(vault, fakevault::DEMO_CF_CLIENT_SECRET)?;
    let mut out = std::io::stdout().lock();
    let io = |e: std::io::Error| DemoError::Setup(format!("cannot write to stdout: {e}"));
    writeln!(
        out,
        "A scripted MCP session against the sample vault at {} (scope: {DEMO_SCOPE}).",
        vault.base_url()
    )
    .map_err(io)?;

    show(
        &mut out,
        &server,
        &Step {
            title: "1. Where can I look? Folders from the top, filtered to the scope",
            tool: "list-folders",
            args: json!({}),
        },
    )
    .await?;
    let listing = show(
        &mut out,
        &server,
        &Step {
            title: "2. What is in my folder? Names and metadata, never values",
            tool: "list-secrets",
            args: json!({"secretPath": "/agents/warden", "recursive": true}),
        },
    )
    .await?;
    let first = listing["secrets"]
        .as_array()
        .and_then(|s| s.first())
        .map(|s| (s["secretKey"].clone(), s["secretPath"].clone()));
    if let Some((key, path)) = first {
        show(
            &mut out,
            &server,
            &Step {
                title: "3. Read one value",
                tool: "get-secret",
                args: json!({"secretName": key, "secretPath": path}),
            },
        )
        .await?;
    }
    show(
        &mut out,
        &server,
        &Step {
            title: "4. Production tokens, named by the taxonomy, with expiry from __EXPIRES_AT",
            tool: "list-secrets",
            args: json!({"environmentSlug": "prod", "secretPath": "/MooseQuest", "recursive": true, "limit": 12}),
        },
    )
    .await?;

    let before = vault.requests().len();
    show(
        &mut out,
        &server,
        &Step {
            title: "5. Outside the scope: refused here, before any request leaves the machine",
            tool: "get-secret",
            args: json!({"secretName": "CF_DNS_EDIT_RAXX_APP", "environmentSlug": "dev", "secretPath": "/MooseQuest/cloudflare"}),
        },
    )
    .await?;
    writeln!(
        out,
        "  (requests the vault saw for that call: {})",
        vault.requests().len() - before
    )
    .map_err(io)?;

    show(
        &mut out,
        &server,
        &Step {
            title: "6. A value that refers outside the scope: withheld, never half expanded",
            tool: "get-secret",
            args: json!({"secretName": "WARDEN_SLACK_WEBHOOK", "secretPath": "/agents/warden/notify"}),
        },
    )
    .await?;

    let rejected = demo_server(vault, "wrong-service-token-secret")?;
    show(
        &mut out,
        &rejected,
        &Step {
            title: "7. A wrong Cloudflare Access service token: named as such, never 'no secrets'",
            tool: "list-secrets",
            args: json!({"secretPath": "/agents/warden"}),
        },
    )
    .await?;
    writeln!(
        out,
        "\nThat was the whole tool surface: get-secret, list-secrets, list-folders, all read-only.\n\
         Next: `infisical-mcp-rs demo` serves this vault to a real MCP client; see README.md."
    )
    .map_err(io)?;
    Ok(())
}
