//! The listener and the per-request pipeline: record → latency → network
//! faults (dropped connection, gateway 5xx) → Cloudflare edge → vault faults
//! (500, rate limit) → routes. Shutdown is graceful: stop accepting, let
//! in-flight requests finish.

use std::fmt;
use std::sync::Arc;
use std::sync::Mutex;

use bytes::Bytes;
use http_body_util::{BodyExt, Limited};
use hyper::body::Incoming;
use hyper::service::service_fn;
use hyper::{Request, StatusCode, header};
use hyper_util::rt::TokioIo;
use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio::task::{JoinHandle, JoinSet};

use super::errors::{ApiError, Reply, html_reply};
use super::faults::Fault;
use super::gate::Verdict;
use super::reqlog::RecordedRequest;
use super::{Shared, lock, ratelimit, routes};

/// Request bodies beyond this are refused by dropping the connection.
const MAX_BODY: usize = 1 << 20;

pub(crate) struct ServerHandle {
    shutdown: watch::Sender<bool>,
    task: Mutex<Option<JoinHandle<()>>>,
}

impl ServerHandle {
    pub(crate) async fn shutdown(&self) {
        let _ = self.shutdown.send(true);
        let task = lock(&self.task).take();
        if let Some(task) = task {
            let _ = task.await;
        }
    }
}

// The last handle going away stops the server instead of leaking it.
impl Drop for ServerHandle {
    fn drop(&mut self) {
        let _ = self.shutdown.send(true);
    }
}

pub(crate) fn spawn(listener: TcpListener, shared: Arc<Shared>) -> ServerHandle {
    let (tx, rx) = watch::channel(false);
    let task = tokio::spawn(accept_loop(listener, shared, rx));
    ServerHandle {
        shutdown: tx,
        task: Mutex::new(Some(task)),
    }
}

async fn accept_loop(listener: TcpListener, shared: Arc<Shared>, mut shutdown: watch::Receiver<bool>) {
    let mut connections = JoinSet::new();
    loop {
        while connections.try_join_next().is_some() {}
        tokio::select! {
            accepted = listener.accept() => {
                // Accept errors (e.g. too many open files) are transient for a fake.
                if let Ok((stream, _)) = accepted {
                    connections.spawn(serve_connection(stream, Arc::clone(&shared), shutdown.clone()));
                }
            }
            _ = shutdown.changed() => break,
        }
    }
    drop(listener);
    while connections.join_next().await.is_some() {}
}

async fn serve_connection(
    stream: tokio::net::TcpStream,
    shared: Arc<Shared>,
    mut shutdown: watch::Receiver<bool>,
) {
    let peer = stream.peer_addr().map(|a| a.ip().to_string()).unwrap_or_default();
    let service = service_fn(move |req| handle(Arc::clone(&shared), peer.clone(), req));
    let conn = hyper::server::conn::http1::Builder::new().serve_connection(TokioIo::new(stream), service);
    tokio::pin!(conn);
    tokio::select! {
        _ = conn.as_mut() => {}
        _ = shutdown.changed() => {
            conn.as_mut().graceful_shutdown();
            let _ = conn.await;
        }
    }
}

/// Returned by the service to make hyper close the connection unanswered.
#[derive(Debug)]
struct DroppedConnection;

impl fmt::Display for DroppedConnection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("connection dropped by fault injection")
    }
}

impl std::error::Error for DroppedConnection {}

async fn handle(
    shared: Arc<Shared>,
    peer: String,
    req: Request<Incoming>,
) -> Result<Reply, DroppedConnection> {
    shared.arrivals.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
    let (parts, body) = req.into_parts();
    let path = parts.uri.path().to_owned();
    let raw_url = parts
        .uri
        .path_and_query()
        .map_or_else(|| path.clone(), |pq| pq.as_str().to_owned());
    let mut record = RecordedRequest {
        method: parts.method.as_str().to_owned(),
        path: path.clone(),
        query: parts
            .uri
            .query()
            .map(|q| url::form_urlencoded::parse(q.as_bytes()).into_owned().collect())
            .unwrap_or_default(),
        headers: parts
            .headers
            .iter()
            .map(|(n, v)| {
                (
                    n.as_str().to_owned(),
                    String::from_utf8_lossy(v.as_bytes()).into_owned(),
                )
            })
            .collect(),
        gate_passed: false,
        status: None,
    };

    let latency = shared.faults.latency();
    if !latency.is_zero() {
        tokio::time::sleep(latency).await;
    }

    let body = match Limited::new(body, MAX_BODY).collect().await {
        Ok(collected) => collected.to_bytes(),
        Err(_) => {
            shared.log.push(record);
            return Err(DroppedConnection);
        }
    };

    let reply = match shared.faults.take(&path, is_network_fault) {
        Some(Fault::Drop) => {
            shared.log.push(record);
            return Err(DroppedConnection);
        }
        Some(Fault::Fail(status)) => gateway_error(status),
        _ => {
            let verdict = lock(&shared.edge).check(&parts.headers, &raw_url);
            match verdict {
                Verdict::Reject(reply) => reply,
                Verdict::Pass(cookie) => {
                    record.gate_passed = true;
                    let mut reply = vault(&shared, &parts, &path, &raw_url, &peer, body);
                    if let Some(cookie) = cookie.and_then(|c| set_cookie(&c)) {
                        reply.headers_mut().append(header::SET_COOKIE, cookie);
                    }
                    reply
                }
            }
        }
    };
    record.status = Some(reply.status().as_u16());
    shared.log.push(record);
    Ok(reply)
}

fn vault(
    shared: &Shared,
    parts: &hyper::http::request::Parts,
    path: &str,
    raw_url: &str,
    peer: &str,
    body: Bytes,
) -> Reply {
    let generation = shared.generation;
    match shared.faults.take(path, |f| !is_network_fault(f)) {
        Some(Fault::RateLimit { retry_after }) => {
            let limit = ratelimit::route_limit(&parts.method, path).map_or(60, |(_, limit)| limit);
            return ApiError::rate_limited(generation, retry_after, limit).into_reply(generation);
        }
        Some(_) => return ApiError::internal().into_reply(generation),
        None => {}
    }
    let forwarded = parts.headers.get("x-forwarded-for").and_then(|v| v.to_str().ok());
    let client_ip = ratelimit::client_ip(forwarded, peer);
    let ctx = routes::Ctx::new(&parts.method, path, raw_url, &parts.headers, &client_ip, body);
    let mut reply = match routes::dispatch(shared, &ctx) {
        Ok(reply) => reply,
        Err(e) => e.into_reply(generation),
    };
    if let Some(info) = ctx.rate_info() {
        let headers = reply.headers_mut();
        for (name, value) in [
            ("x-ratelimit-limit", info.limit.to_string()),
            ("x-ratelimit-remaining", info.remaining.to_string()),
            ("x-ratelimit-reset", info.reset_secs.to_string()),
        ] {
            if let Ok(value) = header::HeaderValue::from_str(&value) {
                headers.insert(name, value);
            }
        }
    }
    reply
}

/// Faults that happen before the edge: dropped connections, and the
/// gateway errors the edge itself produces. A 500 comes from the vault.
fn is_network_fault(fault: &Fault) -> bool {
    match fault {
        Fault::Drop => true,
        Fault::Fail(status) => *status != 500,
        Fault::RateLimit { .. } => false,
    }
}

fn gateway_error(status: u16) -> Reply {
    let status = StatusCode::from_u16(status).unwrap_or(StatusCode::BAD_GATEWAY);
    let reason = status.canonical_reason().unwrap_or("Error");
    html_reply(
        status,
        format!(
            "<!DOCTYPE html>\n<html><head><title>{code}: {reason}</title></head>\n<body><h1>{reason}</h1><p>Error code {code}</p><p>cloudflare</p></body></html>\n",
            code = status.as_u16()
        ),
    )
}

fn set_cookie(value: &str) -> Option<header::HeaderValue> {
    header::HeaderValue::from_str(&format!(
        "CF_Authorization={value}; Path=/; Secure; HttpOnly; SameSite=None"
    ))
    .ok()
}
