//! The upstream side: a worker's pooled connections to the vault
//! (hyper-util's client over rustls; redirects never followed, no
//! environment proxy) and the forwarding of one request with both bodies
//! streamed chunk by chunk.
//!
//! Each worker has its own client, so its keep-alive connections stay on
//! its thread: a CLI run that opens a connection, asks three things and
//! exits leaves its upstream connection, TLS session included, to the next
//! run. A connection the vault closed while idle is dropped from the pool,
//! and a request that could not be written on a reused one goes out again
//! on another; one whose answer was not read to its end is closed.
//!
//! The request goes out as hyper parsed it: its path and query (`Bytes`
//! inside) are reused as they are whenever the vault URL has no path of its
//! own and the scope leaves the query alone: no URL is printed and parsed
//! again per request, and no redirect layer parses the answer's (with
//! IDNA), which under `reqwest` was most of the proxy's own CPU.
//!
//! Bodies are streamed: the client's body is handed to the upstream request
//! as is, and the vault's body is handed back to hyper as a stream, so
//! memory per request stays at a few socket buffers whatever the size. The
//! one exception is a scoped read whose answer must be checked
//! ([`super::answer`]): its successful JSON answer is held, up to
//! `--max-response-mib`, in a buffer that is wiped afterwards. Timeouts:
//! `connect_timeout` to open a connection (502 when it expires) and
//! `call_timeout` for the vault to answer, then again between two chunks of
//! its body (504 before the answer; a cut-off body after).

use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::Bytes;
use http_body_util::BodyExt;
use hyper::body::{Body, Frame, Incoming, SizeHint};
use hyper::http::uri::{Authority, PathAndQuery};
use hyper::{Request, Response, StatusCode, Uri};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::{TokioExecutor, TokioTimer};
use zeroize::Zeroize;

use super::answer::{self, Checked};
use super::error::ProxyError;
use super::headers::{self, Injected};
use super::policy::Plan;
use super::{BoxError, ProxyBody};
use crate::config::VaultSettings;
use crate::scope::Scope;
use crate::vault::VaultError;
use crate::vault::http::{Answer, gateway_error, wiped_on_drop};

/// The response header naming the query flags a scoped proxy turned off.
pub const TURNED_OFF_HEADER: &str = "x-infisical-proxy-turned-off";

type Connector = hyper_rustls::HttpsConnector<HttpConnector>;

/// A pooled connection idle this long is closed rather than reused: vaults
/// and Cloudflare close idle connections after a while.
const IDLE_TIMEOUT: Duration = Duration::from_secs(90);
/// Idle connections kept per worker.
const IDLE_MAX: usize = 256;

pub(crate) struct Upstream {
    client: Client<Connector, Incoming>,
    /// The vault's scheme and authority; request targets are built on it.
    origin: Uri,
    /// Base URL without the trailing slash, for messages.
    base: String,
    /// `Host` for every request, made once: the client would otherwise
    /// format it from the URI for each request.
    host: hyper::header::HeaderValue,
    /// The base URL's path without the trailing slash ("" at the root);
    /// request paths are appended to it as sent.
    base_path: String,
    injected: Injected,
    call_timeout: Duration,
    max_response_bytes: usize,
}

/// The TLS settings reqwest used before: webpki's roots plus the system's,
/// ring, TLS 1.2 and 1.3. An `http://` vault (tests, a local vault) reads no
/// certificate store at all.
fn tls_config(https: bool) -> Result<rustls::ClientConfig, ProxyError> {
    let mut roots = rustls::RootCertStore::empty();
    if https {
        roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
        // Broken entries in the system store are skipped, as reqwest did;
        // webpki's roots remain.
        let _ = roots.add_parsable_certificates(rustls_native_certs::load_native_certs().certs);
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    Ok(rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| ProxyError::Client(format!("TLS setup failed: {e}")))?
        .with_root_certificates(roots)
        .with_no_client_auth())
}

impl Upstream {
    pub fn new(settings: &VaultSettings) -> Result<Self, ProxyError> {
        let base_url = &settings.base_url;
        let mut http = HttpConnector::new();
        http.enforce_http(false);
        http.set_connect_timeout(Some(settings.connect_timeout));
        http.set_keepalive(Some(Duration::from_secs(30)));
        http.set_nodelay(true);
        // Redirects go back to the client untouched (nothing here follows
        // one: that would send the Access token to whatever host it names),
        // and no HTTPS_PROXY meant for other tools is consulted.
        let connector = hyper_rustls::HttpsConnectorBuilder::new()
            .with_tls_config(tls_config(base_url.scheme() == "https")?)
            .https_or_http()
            .enable_http1()
            .wrap_connector(http);
        let unusable = |e: &dyn std::fmt::Display| {
            ProxyError::Client(format!("the vault URL's host is not usable: {e}"))
        };
        let authority = base_url[url::Position::BeforeHost..url::Position::AfterPort]
            .parse::<Authority>()
            .map_err(|e| unusable(&e))?;
        let host = hyper::header::HeaderValue::from_str(authority.as_str()).map_err(|e| unusable(&e))?;
        let origin = Uri::builder()
            .scheme(base_url.scheme())
            .authority(authority)
            .path_and_query("/")
            .build()
            .map_err(|e| unusable(&e))?;
        // Connections are spawned as tasks on the runtime that sends the
        // first request through them: the worker's own.
        let client = Client::builder(TokioExecutor::new())
            .pool_timer(TokioTimer::new())
            .pool_idle_timeout(IDLE_TIMEOUT)
            .pool_max_idle_per_host(IDLE_MAX)
            .build(connector);
        Ok(Self {
            client,
            origin,
            base: base_url.as_str().trim_end_matches('/').to_string(),
            host,
            base_path: base_url.path().trim_end_matches('/').to_string(),
            injected: Injected::new(settings)?,
            call_timeout: settings.call_timeout,
            max_response_bytes: settings.max_response_bytes,
        })
    }

    /// The upstream request target: the vault's origin with the client's
    /// path and query as hyper parsed them when nothing is to change, else
    /// built once here.
    fn target(&self, uri: &Uri, query: Option<&str>) -> Result<Uri, ProxyError> {
        let path_and_query = match (self.base_path.is_empty(), query, uri.path_and_query()) {
            (true, None, Some(pq)) => pq.clone(),
            _ => {
                let query = query.or(uri.query());
                let mut text = String::with_capacity(
                    self.base_path.len() + uri.path().len() + query.map_or(0, |q| q.len() + 1),
                );
                text.push_str(&self.base_path);
                text.push_str(uri.path());
                if let Some(q) = query {
                    text.push('?');
                    text.push_str(q);
                }
                PathAndQuery::try_from(text)
                    .map_err(|e| ProxyError::Client(format!("cannot build the upstream path: {e}")))?
            }
        };
        let mut parts = self.origin.clone().into_parts();
        parts.path_and_query = Some(path_and_query);
        Uri::from_parts(parts).map_err(|e| ProxyError::Client(format!("cannot build the upstream URL: {e}")))
    }

    /// The vault's address, for messages (it carries no credential).
    pub fn display(&self) -> &str {
        &self.base
    }

    pub fn has_cf_access(&self) -> bool {
        self.injected.has_cf_access()
    }

    /// Sends one request on and returns the vault's answer: streamed, or,
    /// when `plan` asks for a check against `scope`, held and checked first.
    pub async fn forward(
        &self,
        req: Request<Incoming>,
        plan: Plan,
        scope: Option<&Scope>,
    ) -> Result<Response<ProxyBody>, ProxyError> {
        let (mut parts, body) = req.into_parts();
        let uri = self.target(&parts.uri, plan.query.as_deref())?;
        // Moved, not copied: the client's map is rewritten in place.
        parts.headers = headers::to_upstream(std::mem::take(&mut parts.headers), &self.injected);
        parts.headers.insert(hyper::header::HOST, self.host.clone());
        let check = plan.check.as_ref().zip(scope);
        if check.is_some() {
            // The answer is read here: it must arrive as plain JSON.
            parts.headers.insert(
                hyper::header::ACCEPT_ENCODING,
                hyper::header::HeaderValue::from_static("identity"),
            );
        }
        let client_uri = std::mem::replace(&mut parts.uri, uri);
        let target = client_uri.path_and_query().map(|pq| pq.as_str()).unwrap_or("/");
        let request = Request::from_parts(parts, body);
        let sent = tokio::time::timeout(self.call_timeout, self.client.request(request)).await;
        let response = match sent {
            Ok(Ok(response)) => response,
            Ok(Err(e)) => return Err(self.failed(&e)),
            Err(_) => {
                return Err(ProxyError::UpstreamTimeout {
                    upstream: self.base.clone(),
                    timeout: self.call_timeout,
                });
            }
        };
        let (mut parts, body) = response.into_parts();
        let body = ChunkDeadline::new(body, self.call_timeout);
        let path = parts_path(target);
        self.note_gateway_answer(parts.status, &parts.headers, path);
        parts.headers = headers::to_client(std::mem::take(&mut parts.headers));
        if !plan.turned_off.is_empty()
            && let Ok(v) = hyper::header::HeaderValue::from_str(&plan.turned_off.join(", "))
        {
            parts.headers.insert(TURNED_OFF_HEADER, v);
        }
        let Some((want, scope)) = check.filter(|_| parts.status.is_success()) else {
            // Errors, redirects and unscoped reads carry no value to check.
            return Ok(Response::from_parts(parts, body.boxed_unsync()));
        };
        if parts
            .headers
            .get(hyper::header::CONTENT_ENCODING)
            .is_some_and(|v| !v.as_bytes().eq_ignore_ascii_case(b"identity"))
        {
            return Err(ProxyError::UncheckableAnswer(
                "it is compressed although the proxy asked for identity".into(),
            ));
        }
        let mut held = self.hold(body).await?;
        let outcome = answer::check(scope, want, &held);
        let body = match outcome {
            Ok(Checked::AsIs) => wiped_on_drop(held),
            Ok(Checked::Filtered { body, dropped }) => {
                tracing::info!(
                    path,
                    dropped,
                    "dropped entries outside the scope (or imports) from the vault's answer"
                );
                held.zeroize();
                // The vault's length and validator describe the unfiltered body.
                parts.headers.remove(hyper::header::CONTENT_LENGTH);
                parts.headers.remove(hyper::header::ETAG);
                wiped_on_drop(body)
            }
            Err(e) => {
                held.zeroize();
                return Err(e);
            }
        };
        let body = http_body_util::Full::new(body)
            .map_err(|never| match never {})
            .boxed_unsync();
        Ok(Response::from_parts(parts, body))
    }

    /// Reads a whole answer body, up to the response cap. The buffer grows
    /// by copying into a fresh one and wiping the old, so no copy of a value
    /// is left behind in freed memory.
    async fn hold(&self, mut body: ChunkDeadline) -> Result<Vec<u8>, ProxyError> {
        let limit_mib = self.max_response_bytes / (1024 * 1024);
        let hint = hyper::body::Body::size_hint(&body);
        if hint.lower() as usize > self.max_response_bytes {
            return Err(ProxyError::ResponseTooLarge { limit_mib });
        }
        let mut held = Vec::with_capacity((hint.exact().unwrap_or(0) as usize).min(self.max_response_bytes));
        while let Some(frame) = body.frame().await {
            let frame = frame.map_err(|e| ProxyError::UpstreamFailed {
                upstream: self.base.clone(),
                detail: innermost(e.as_ref()),
            })?;
            let Ok(chunk) = frame.into_data() else { continue };
            if held.len() + chunk.len() > self.max_response_bytes {
                held.zeroize();
                return Err(ProxyError::ResponseTooLarge { limit_mib });
            }
            if held.capacity() - held.len() < chunk.len() {
                let mut bigger = Vec::with_capacity((held.len() + chunk.len()).max(held.capacity() * 2));
                bigger.extend_from_slice(&held);
                held.zeroize();
                held = bigger;
            }
            held.extend_from_slice(&chunk);
        }
        Ok(held)
    }

    /// Cloudflare answering instead of the vault is passed through as is, but
    /// the operator needs to know why the client sees HTML or a redirect.
    fn note_gateway_answer(&self, status: StatusCode, headers: &hyper::HeaderMap, path: &str) {
        let html = headers
            .get(hyper::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|ct| ct.to_ascii_lowercase().starts_with("text/html"));
        if !status.is_redirection() && !html && status.as_u16() != 530 {
            return;
        }
        let answer = Answer {
            status,
            headers: headers.clone(),
            body: Vec::new(),
        };
        match gateway_error(&format!("{}{}", self.base, path), &answer) {
            Some(e @ VaultError::CloudflareAccessRejected { .. }) => tracing::warn!(
                path,
                status = status.as_u16(),
                "{e}: passed to the client as is; check CF_ACCESS_CLIENT_ID / CF_ACCESS_CLIENT_SECRET"
            ),
            Some(e @ VaultError::Unreachable { .. }) => {
                tracing::warn!(path, status = status.as_u16(), "{e}")
            }
            Some(e) => tracing::debug!(path, status = status.as_u16(), "{e}"),
            None => {}
        }
    }

    /// A failed exchange, named by its innermost cause (DNS, refused, TLS,
    /// closed), which is the real problem.
    fn failed(&self, e: &hyper_util::client::legacy::Error) -> ProxyError {
        if e.is_connect() {
            ProxyError::UpstreamUnreachable {
                upstream: self.base.clone(),
                detail: format!("cannot connect: {}", innermost(e)),
            }
        } else {
            ProxyError::UpstreamFailed {
                upstream: self.base.clone(),
                detail: innermost(e),
            }
        }
    }
}

/// The vault's answer body, failing when the vault sends nothing for
/// `call_timeout` between two chunks (or before the first). The timer is
/// only made once the body has to wait: a small answer that arrived with its
/// head is passed on without one.
pub(crate) struct ChunkDeadline {
    inner: Incoming,
    timeout: Duration,
    timer: Option<Pin<Box<tokio::time::Sleep>>>,
}

impl ChunkDeadline {
    fn new(inner: Incoming, timeout: Duration) -> Self {
        Self {
            inner,
            timeout,
            timer: None,
        }
    }
}

impl Body for ChunkDeadline {
    type Data = Bytes;
    type Error = BoxError;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, BoxError>>> {
        let this = &mut *self;
        match Pin::new(&mut this.inner).poll_frame(cx) {
            Poll::Ready(frame) => {
                if let Some(timer) = this.timer.as_mut() {
                    timer.as_mut().reset(tokio::time::Instant::now() + this.timeout);
                }
                Poll::Ready(frame.map(|f| f.map_err(BoxError::from)))
            }
            Poll::Pending => {
                let timeout = this.timeout;
                let timer = this
                    .timer
                    .get_or_insert_with(|| Box::pin(tokio::time::sleep(timeout)));
                match timer.as_mut().poll(cx) {
                    Poll::Ready(()) => Poll::Ready(Some(Err(format!(
                        "the vault sent no part of its answer for {} s (--call-timeout)",
                        timeout.as_secs()
                    )
                    .into()))),
                    Poll::Pending => Poll::Pending,
                }
            }
        }
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}

/// The root cause's text, without the URL reqwest quotes (query included).
pub(super) fn innermost(e: &(dyn std::error::Error + 'static)) -> String {
    let mut current = e;
    while let Some(next) = current.source() {
        current = next;
    }
    let text = current.to_string();
    text.split(" for url (").next().unwrap_or(&text).to_string()
}

/// The path without the query, whose values may name secrets.
fn parts_path(target: &str) -> &str {
    target.split('?').next().unwrap_or(target)
}
