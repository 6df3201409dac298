//! `--proxy`: a loopback reverse proxy that lets tools which cannot (or should
//! not) hold the Cloudflare Access service token reach the vault.
//!
//! [`run`] serves HTTP/1.1 on a listener it is given (so tests bind
//! `127.0.0.1:0`), applies the [`policy`] to each request (client token for
//! remote clients, origin, method, scope), forwards what passes over the
//! worker's pooled upstream connections ([`forward`]) with the headers
//! rewritten ([`headers`]) and, for scoped reads, the answer checked ([`answer`]), and
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
pub mod scoped;
mod self_loop;

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
    policy: Arc<Policy>,
}

/// How many accept-and-serve workers to run: half the cores, at least one
/// (`TOKIO_WORKER_THREADS` overrides). Not one per core as nginx's
/// `worker_processes auto`: the clients of a loopback proxy run on the same
/// machine, and a worker left with a few of their connections pays a thread
/// wake-up per request where a busier one serves several per wake-up. On two
/// cores one worker served 8-10 % more requests than two at 16 connections,
/// with less CPU per request, and as many at 64 (bench/analysis.md).
pub fn worker_count() -> usize {
    std::env::var("TOKIO_WORKER_THREADS")
        .ok()
        .and_then(|v| v.parse::<usize>().ok())
        .filter(|n| *n > 0)
        .or_else(|| {
            std::thread::available_parallelism()
                .ok()
                .map(|n| (n.get() / 2).max(1))
        })
        .unwrap_or(1)
        .min(64)
}

/// Serves the proxy on `listener` until `shutdown` resolves, then drains.
///
/// The listening socket is shared by the worker threads ([`worker_count`]),
/// each with its own single-threaded runtime and its own pool of upstream
/// connections: a connection, its requests and their upstream exchanges stay
/// on one thread, with no work stealing or cross-thread wake-up on the
/// request path (bench/analysis.md). The
/// connection cap, the stop signal and the drain timeout are shared by all
/// workers.
pub async fn run(
    listener: TcpListener,
    settings: ProxySettings,
    shutdown: impl Future<Output = ()>,
) -> Result<(), ProxyError> {
    let first = Upstream::new(&settings.vault)?;
    let local = listener.local_addr().map_err(ProxyError::Listener)?;
    // The configuration refused a fixed port that loops; a port chosen at
    // bind time (`--listen 0`) is only known now.
    if self_loop::loops_back(&settings.vault.base_url, local) {
        return Err(ProxyError::SelfLoop {
            upstream_var: "INFISICAL_HOST_URL".into(),
            upstream: settings.vault.base_url.to_string(),
            listen: local,
        });
    }
    let policy = Arc::new(settings.policy);
    tracing::info!(
        listen = %config::client_url(local),
        upstream = first.display(),
        cf_access = first.has_cf_access(),
        writes = if policy.allow_writes { "allowed" } else { "refused" },
        remote_clients = if policy.client_token.is_some() { "with the client token" } else { "no" },
        scope = %policy.scope.as_ref().map(|s| s.scope.to_string()).unwrap_or_else(|| "none (vault RBAC only)".into()),
        "vault proxy listening"
    );
    if policy.allow_writes && policy.scope.is_some() {
        tracing::warn!(
            "--allow-writes has no effect with a scope: a scoped proxy forwards no writes but login and renew \
             (a write's target is in its body, which the scope cannot check)"
        );
    }
    if !first.has_cf_access() {
        tracing::warn!(
            "no Cloudflare Access service token (CF_ACCESS_CLIENT_ID / CF_ACCESS_CLIENT_SECRET): requests go out without CF headers"
        );
    }

    let listener = listener.into_std().map_err(ProxyError::Listener)?;
    let (stop_tx, stop_rx) = watch::channel(false);
    let slots = Arc::new(Semaphore::new(MAX_CONNECTIONS));
    let mut done = Vec::new();
    let mut upstream = Some(first);
    for index in 0..worker_count() {
        let upstream = match upstream.take() {
            Some(first) => first,
            None => Upstream::new(&settings.vault)?,
        };
        let shared = Arc::new(Shared {
            upstream,
            policy: policy.clone(),
        });
        let socket = listener.try_clone().map_err(ProxyError::Listener)?;
        let (finished, wait) = tokio::sync::oneshot::channel::<Result<(), ProxyError>>();
        let slots = slots.clone();
        let stop = stop_rx.clone();
        let drain_timeout = settings.drain_timeout;
        let span = tracing::Span::current();
        std::thread::Builder::new()
            .name(format!("proxy-worker-{index}"))
            .spawn(move || {
                let _span = span.enter();
                let outcome = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                    .map_err(ProxyError::Listener)
                    .and_then(|rt| {
                        rt.block_on(async move {
                            let socket = TcpListener::from_std(socket).map_err(ProxyError::Listener)?;
                            worker(socket, shared, slots, stop, drain_timeout).await;
                            Ok(())
                        })
                    });
                let _ = finished.send(outcome);
            })
            .map_err(ProxyError::Listener)?;
        done.push(wait);
    }
    // The workers hold their own copies of the socket.
    drop(listener);

    shutdown.await;
    tracing::info!(
        drain_timeout_s = settings.drain_timeout.as_secs(),
        "shutting down: no new connections, letting in-flight requests finish"
    );
    let _ = stop_tx.send(true);
    let mut first_error = None;
    for wait in done {
        if let Ok(Err(e)) = wait.await {
            first_error.get_or_insert(e);
        }
    }
    tracing::info!("vault proxy stopped");
    first_error.map_or(Ok(()), Err)
}

/// One worker: accepts while there is a free connection slot, serves each
/// connection on this thread, and on the stop signal stops accepting and
/// drains its own connections.
async fn worker(
    listener: TcpListener,
    shared: Arc<Shared>,
    slots: Arc<Semaphore>,
    mut stop: watch::Receiver<bool>,
    drain_timeout: Duration,
) {
    let mut connections = JoinSet::new();
    let mut accept_backoff = Duration::from_millis(10);
    let stopping = |rx: &mut watch::Receiver<bool>| {
        let mut rx = rx.clone();
        async move {
            let _ = rx.wait_for(|stopping| *stopping).await;
        }
    };
    loop {
        while connections.try_join_next().is_some() {}
        let slot = tokio::select! {
            () = stopping(&mut stop) => break,
            slot = slots.clone().acquire_owned() => match slot {
                Ok(slot) => slot,
                Err(_) => break,
            },
        };
        let (stream, peer) = tokio::select! {
            () = stopping(&mut stop) => break,
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
        let stop = stop.clone();
        connections.spawn(async move {
            serve_connection(stream, peer, shared, stop).await;
            drop(slot);
        });
    }
    drop(listener);
    if !connections.is_empty() {
        tracing::debug!(
            open_connections = connections.len(),
            "worker draining its connections"
        );
    }
    let drain = async { while connections.join_next().await.is_some() {} };
    if tokio::time::timeout(drain_timeout, drain).await.is_err() {
        tracing::warn!(
            cut_off = connections.len(),
            "drain timeout reached; closing the remaining connections"
        );
        connections.abort_all();
        while connections.join_next().await.is_some() {}
    }
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
