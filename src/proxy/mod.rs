//! `--proxy`: a loopback reverse proxy that lets tools which cannot (or should
//! not) hold the Cloudflare Access service token reach the vault.
//!
//! [`run`] serves HTTP/1.1 on a listener it is given (so tests bind
//! `127.0.0.1:0`), applies the [`policy`] to each request (client token for
//! remote clients, origin, method, scope), forwards what passes through one
//! shared upstream client ([`forward`]) with the headers rewritten
//! ([`headers`]) and, for scoped reads, the answer checked ([`answer`]), and
//! on `shutdown` stops accepting, lets in-flight requests finish for up to
//! `drain_timeout`, then returns. Every request gets one access-log line
//! ([`access`]) without query values, bodies or header values.

mod access;
pub mod answer;
pub mod client_auth;
pub mod config;
pub mod error;
mod forward;
pub mod headers;
pub mod policy;
pub mod route;

use std::convert::Infallible;
use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Request, Response};
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{Semaphore, watch};
use tokio::task::JoinSet;

pub use config::{ProxyArgs, ProxySettings, proxy_flag_to_subcommand};
pub use error::ProxyError;
pub use forward::TURNED_OFF_HEADER;
pub use policy::{Policy, ScopeRule};

use access::AccessLog;
use forward::Upstream;

pub type BoxError = Box<dyn std::error::Error + Send + Sync>;
/// Response bodies: streamed from the vault, or a small JSON refusal.
pub type ProxyBody = http_body_util::combinators::UnsyncBoxBody<Bytes, BoxError>;

/// Open client connections at most; further ones wait in the kernel's backlog.
const MAX_CONNECTIONS: usize = 1024;
/// A client gets this long to send its request head (slow-loris guard).
const HEADER_READ_TIMEOUT: Duration = Duration::from_secs(30);

/// Binds the listen address, turning "address in use" into the one error
/// that names the port and `--listen`.
pub async fn bind(addr: SocketAddr) -> Result<TcpListener, ProxyError> {
    TcpListener::bind(addr).await.map_err(|source| {
        if source.kind() == std::io::ErrorKind::AddrInUse {
            ProxyError::PortInUse {
                ip: addr.ip(),
                port: addr.port(),
            }
        } else {
            ProxyError::Bind { addr, source }
        }
    })
}

struct Shared {
    upstream: Upstream,
    policy: Policy,
}

/// Serves the proxy on `listener` until `shutdown` resolves, then drains.
pub async fn run(
    listener: TcpListener,
    settings: ProxySettings,
    shutdown: impl Future<Output = ()>,
) -> Result<(), ProxyError> {
    let shared = Arc::new(Shared {
        upstream: Upstream::new(&settings.vault)?,
        policy: settings.policy,
    });
    let local = listener.local_addr().map_err(ProxyError::Listener)?;
    tracing::info!(
        listen = %config::client_url(local),
        upstream = shared.upstream.display(),
        cf_access = shared.upstream.has_cf_access(),
        writes = if shared.policy.allow_writes { "allowed" } else { "refused" },
        remote_clients = if shared.policy.client_token.is_some() { "with the client token" } else { "no" },
        scope = %shared.policy.scope.as_ref().map(|s| s.scope.to_string()).unwrap_or_else(|| "none (vault RBAC only)".into()),
        "vault proxy listening"
    );
    if shared.policy.allow_writes && shared.policy.scope.is_some() {
        tracing::warn!(
            "--allow-writes has no effect with a scope: a scoped proxy forwards no writes but login and renew \
             (a write's target is in its body, which the scope cannot check)"
        );
    }
    if !shared.upstream.has_cf_access() {
        tracing::warn!(
            "no Cloudflare Access service token (CF_ACCESS_CLIENT_ID / CF_ACCESS_CLIENT_SECRET): requests go out without CF headers"
        );
    }

    let (stop_tx, stop_rx) = watch::channel(false);
    let slots = Arc::new(Semaphore::new(MAX_CONNECTIONS));
    let mut connections = JoinSet::new();
    let mut accept_backoff = Duration::from_millis(10);
    tokio::pin!(shutdown);
    loop {
        while connections.try_join_next().is_some() {}
        let slot = tokio::select! {
            () = &mut shutdown => break,
            slot = slots.clone().acquire_owned() => match slot {
                Ok(slot) => slot,
                Err(_) => break,
            },
        };
        let (stream, peer) = tokio::select! {
            () = &mut shutdown => break,
            accepted = listener.accept() => match accepted {
                Ok(pair) => pair,
                Err(e) => {
                    // EMFILE and friends: wait a little instead of spinning.
                    tracing::warn!(error = %e, "accept failed");
                    tokio::time::sleep(accept_backoff).await;
                    accept_backoff = (accept_backoff * 2).min(Duration::from_secs(1));
                    continue;
                }
            },
        };
        accept_backoff = Duration::from_millis(10);
        let shared = shared.clone();
        let stop = stop_rx.clone();
        connections.spawn(async move {
            serve_connection(stream, peer, shared, stop).await;
            drop(slot);
        });
    }
    drop(listener);

    tracing::info!(
        open_connections = connections.len(),
        drain_timeout_s = settings.drain_timeout.as_secs(),
        "shutting down: no new connections, letting in-flight requests finish"
    );
    let _ = stop_tx.send(true);
    let drain = async { while connections.join_next().await.is_some() {} };
    if tokio::time::timeout(settings.drain_timeout, drain).await.is_err() {
        tracing::warn!(
            cut_off = connections.len(),
            "drain timeout reached; closing the remaining connections"
        );
        connections.abort_all();
        while connections.join_next().await.is_some() {}
    }
    tracing::info!("vault proxy stopped");
    Ok(())
}

async fn serve_connection(
    stream: TcpStream,
    peer: SocketAddr,
    shared: Arc<Shared>,
    mut stop: watch::Receiver<bool>,
) {
    let _ = stream.set_nodelay(true);
    let service = service_fn(move |req| {
        let shared = shared.clone();
        async move { Ok::<_, Infallible>(handle(req, peer, &shared).await) }
    });
    let conn = http1::Builder::new()
        .timer(TokioTimer::new())
        .header_read_timeout(HEADER_READ_TIMEOUT)
        .serve_connection(TokioIo::new(stream), service);
    tokio::pin!(conn);
    let outcome = tokio::select! {
        outcome = conn.as_mut() => outcome,
        () = async { let _ = stop.wait_for(|stopping| *stopping).await; } => {
            // Finishes the request in flight (if any), then closes.
            conn.as_mut().graceful_shutdown();
            conn.await
        }
    };
    if let Err(e) = outcome {
        tracing::debug!(%peer, error = %e, "client connection ended with an error");
    }
}

async fn handle(req: Request<Incoming>, peer: SocketAddr, shared: &Shared) -> Response<ProxyBody> {
    let log = AccessLog::start(&req);
    let policy = &shared.policy;
    let checked = policy
        .check_client(peer.ip(), req.headers())
        .and_then(|()| policy.check_origin(req.uri(), req.headers()))
        .and_then(|()| policy.check_request(req.method(), req.uri()));
    let outcome = match checked {
        Ok(plan) => {
            let scope = policy.scope.as_ref().map(|rule| &rule.scope);
            shared.upstream.forward(req, plan, scope).await
        }
        Err(e) => Err(e),
    };
    match outcome {
        Ok(response) => log.stream(response),
        Err(e) => {
            let response = error_response(&e);
            log.refused(response, e.code())
        }
    }
}

/// A refusal or upstream failure as Infisical-shaped JSON.
pub fn error_response(e: &ProxyError) -> Response<ProxyBody> {
    let mut response = Response::new(
        Full::new(e.json_body())
            .map_err(|never| match never {})
            .boxed_unsync(),
    );
    *response.status_mut() = e.status();
    response.headers_mut().insert(
        hyper::header::CONTENT_TYPE,
        hyper::header::HeaderValue::from_static("application/json; charset=utf-8"),
    );
    response
}
