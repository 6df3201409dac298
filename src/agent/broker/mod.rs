//! `broker`: agents use a secret without ever holding it.
//!
//! A loopback listener takes `http://127.0.0.1:PORT/RULE/<path>`, checks it
//! with the proxy's guards and the rule's allow-list ([`target`],
//! [`forward`]), reads the rule's secret through the shared vault client
//! ([`credential`]; a GitHub App rule mints an installation token instead,
//! [`github`]), sends the request to the rule's fixed HTTPS origin
//! with the value injected ([`upstream`]), and returns the answer with every
//! form of the value replaced ([`redact`], [`decode`], [`body`]). Every
//! request gets one audit line ([`audit`]). The rules file is [`rules`];
//! the flags are [`config`].

pub mod audit;
pub mod body;
pub mod config;
pub mod credential;
pub mod decode;
pub mod doctor;
pub mod error;
pub mod forward;
pub mod github;
pub mod mcp;
pub mod redact;
pub mod rules;
pub mod target;
pub mod upstream;

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::net::TcpListener;
use tokio::task::JoinSet;

pub use config::{BROKER_HELP, BROKER_TOKEN_VAR, BrokerArgs, BrokerConfig};
pub use error::BrokerError;
pub use rules::{Rule, Rules};

use crate::agent::proxy::Policy;
use crate::audit::AuditLog;
use crate::config::EnvSource;
use crate::vault::VaultClient;

/// Response bodies: the redacted upstream stream, or a small JSON refusal.
pub type BrokerBody = http_body_util::combinators::UnsyncBoxBody<Bytes, crate::agent::proxy::BoxError>;

/// Largest encoded answer read, and largest decoded one produced.
pub const MAX_DECODED_BYTES: usize = 32 * 1024 * 1024;
/// A client gets this long to send its request head.
const HEADER_READ_TIMEOUT: Duration = Duration::from_secs(30);
/// In-flight requests get this long to finish after a stop signal.
const DRAIN_TIMEOUT: Duration = Duration::from_secs(10);

/// Everything a request needs, shared by all connections.
pub struct Broker {
    pub rules: Rules,
    pub vault: VaultClient,
    pub client: upstream::UpstreamClient,
    pub redactors: credential::Redactors,
    pub tokens: github::AppTokens,
    pub guard: Policy,
    pub token: Option<secrecy::SecretString>,
    pub audit: Option<Arc<AuditLog>>,
    pub max_body_bytes: usize,
    pub call_timeout: Duration,
}

impl Broker {
    pub fn new(config: BrokerConfig, audit: Option<AuditLog>) -> Result<Self, BrokerError> {
        let tls = upstream::tls_config(&config.upstream_ca)?;
        let tokens = github::AppTokens::new(&config.rules, &config.vault, &config.upstream_ca)?;
        let vault = VaultClient::new(&config.vault, config.credentials)
            .map_err(|e| BrokerError::Client(format!("vault client: {e}")))?
            .with_cache(config.cache);
        Ok(Self {
            rules: config.rules,
            vault,
            client: upstream::client(tls, config.vault.connect_timeout),
            redactors: credential::Redactors::default(),
            tokens,
            guard: Policy::default(),
            token: config.token,
            audit: audit.map(Arc::new),
            max_body_bytes: config.max_body_bytes,
            call_timeout: config.vault.call_timeout,
        })
    }
}

/// Binds the listen address, naming the port and `--listen` when it is taken.
pub async fn bind(addr: SocketAddr) -> Result<TcpListener, BrokerError> {
    TcpListener::bind(addr).await.map_err(|source| {
        if source.kind() == std::io::ErrorKind::AddrInUse {
            BrokerError::PortInUse {
                ip: addr.ip(),
                port: addr.port(),
            }
        } else {
            BrokerError::Bind { addr, source }
        }
    })
}

/// Serves on `listener` until `shutdown` resolves, then lets in-flight
/// requests finish for a while.
pub async fn run(listener: TcpListener, broker: Arc<Broker>, shutdown: impl Future<Output = ()>) {
    let local = listener.local_addr().ok();
    tracing::info!(
        listen = %local.map(|a| format!("http://{a}")).unwrap_or_default(),
        rules = %broker.rules.rules.iter().map(|r| format!("{} -> {}", r.name, r.upstream)).collect::<Vec<_>>().join(", "),
        token = broker.token.is_some(),
        "credential broker listening"
    );
    let mut connections = JoinSet::new();
    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    tokio::pin!(shutdown);
    loop {
        tokio::select! {
            () = &mut shutdown => break,
            accepted = listener.accept() => {
                let (stream, peer) = match accepted {
                    Ok(a) => a,
                    Err(e) => {
                        tracing::warn!(error = %e, "accept failed");
                        continue;
                    }
                };
                let _ = stream.set_nodelay(true);
                let broker = broker.clone();
                let mut stop = stop_rx.clone();
                connections.spawn(async move {
                    let service = service_fn(move |request| {
                        let broker = broker.clone();
                        async move { Ok::<_, std::convert::Infallible>(forward::handle(broker, peer, request).await) }
                    });
                    let conn = http1::Builder::new()
                        .timer(TokioTimer::new())
                        .header_read_timeout(HEADER_READ_TIMEOUT)
                        .serve_connection(TokioIo::new(stream), service);
                    tokio::pin!(conn);
                    tokio::select! {
                        _ = conn.as_mut() => {}
                        _ = stop.changed() => {
                            conn.as_mut().graceful_shutdown();
                            let _ = conn.await;
                        }
                    }
                });
                while connections.try_join_next().is_some() {}
            }
        }
    }
    tracing::info!("shutting down: no new connections, letting in-flight requests finish");
    let _ = stop_tx.send(true);
    let _ = tokio::time::timeout(DRAIN_TIMEOUT, async {
        while connections.join_next().await.is_some() {}
    })
    .await;
    tracing::info!("credential broker stopped");
}

/// `infisical-mcp-rs broker`: validate, bind, serve. Returns the exit code
/// (2 for configuration errors, as for every mode).
pub async fn main(args: &BrokerArgs, env: &dyn EnvSource, shutdown: impl Future<Output = ()>) -> u8 {
    let config = match args.validate(env) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("infisical-mcp-rs broker: configuration error: {e}");
            return 2;
        }
    };
    for warning in config.scope.warnings() {
        tracing::warn!("{warning}");
    }
    let audit = match &args.log.audit_log {
        Some(path) => match AuditLog::open(path) {
            Ok(a) => Some(a),
            Err(e) => {
                eprintln!("infisical-mcp-rs broker: configuration error: --audit-log: {e}");
                return 2;
            }
        },
        None => None,
    };
    let listen = config.listen;
    let broker = match Broker::new(config, audit) {
        Ok(b) => Arc::new(b),
        Err(e) => {
            eprintln!("infisical-mcp-rs broker: {e}");
            return 1;
        }
    };
    let listener = match bind(listen).await {
        Ok(l) => l,
        Err(e) => {
            eprintln!("infisical-mcp-rs broker: {e}");
            return 1;
        }
    };
    run(listener, broker, shutdown).await;
    0
}
