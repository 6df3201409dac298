//! The upstream side: one shared `reqwest` client (keep-alive pool, rustls,
//! redirects never followed, no environment proxy) and the forwarding of one
//! request with both bodies streamed chunk by chunk.
//!
//! Bodies are streamed: the client's body is handed to the upstream request
//! as a stream, and the vault's body is handed back to hyper as a stream, so
//! memory per request stays at a few socket buffers whatever the size. The
//! one exception is a scoped read whose answer must be checked
//! ([`super::answer`]): its successful JSON answer is held, up to
//! `--max-response-mib`, in a buffer that is wiped afterwards. Timeouts: `connect_timeout` to open a connection (502 when it
//! expires) and `call_timeout` for the vault to answer, then again between
//! two chunks of its body (504 before the answer; a cut-off body after).

use http_body_util::{BodyDataStream, BodyExt};
use hyper::body::Incoming;
use hyper::{Request, Response, StatusCode};

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

pub(crate) struct Upstream {
    client: reqwest::Client,
    /// Base URL without the trailing slash, for messages.
    base: String,
    /// The parsed base, cloned per request so that the scheme and host are
    /// not parsed (and IDNA-mapped) again for every request.
    base_url: url::Url,
    /// The base URL's path without the trailing slash ("" at the root);
    /// request paths are appended to it as sent.
    base_path: String,
    injected: Injected,
    call_timeout: std::time::Duration,
    max_response_bytes: usize,
}

impl Upstream {
    pub fn new(settings: &VaultSettings) -> Result<Self, ProxyError> {
        let client = reqwest::Client::builder()
            // Redirects go back to the client untouched: following them here
            // would send the Access token to whatever host they name.
            .redirect(reqwest::redirect::Policy::none())
            .connect_timeout(settings.connect_timeout)
            .read_timeout(settings.call_timeout)
            .pool_idle_timeout(std::time::Duration::from_secs(90))
            .tcp_keepalive(std::time::Duration::from_secs(30))
            .tcp_nodelay(true)
            // An HTTPS_PROXY meant for other tools must not see vault traffic.
            .no_proxy()
            .build()
            .map_err(|e| ProxyError::Client(e.to_string()))?;
        Ok(Self {
            client,
            base: settings.base_url.as_str().trim_end_matches('/').to_string(),
            base_url: settings.base_url.clone(),
            base_path: settings.base_url.path().trim_end_matches('/').to_string(),
            injected: Injected::new(settings)?,
            call_timeout: settings.call_timeout,
            max_response_bytes: settings.max_response_bytes,
        })
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
        let (parts, body) = req.into_parts();
        let target = parts.uri.path_and_query().map(|pq| pq.as_str()).unwrap_or("/");
        let mut url = self.base_url.clone();
        if self.base_path.is_empty() {
            url.set_path(parts.uri.path());
        } else {
            url.set_path(&format!("{}{}", self.base_path, parts.uri.path()));
        }
        url.set_query(plan.query.as_deref().or(parts.uri.query()));
        let mut request = reqwest::Request::new(parts.method, url);
        // Moved, not merged header by header as `RequestBuilder::headers` would.
        *request.headers_mut() = headers::to_upstream(parts.headers, &self.injected);
        let check = plan.check.as_ref().zip(scope);
        if check.is_some() {
            // The answer is read here: it must arrive as plain JSON.
            request.headers_mut().insert(
                hyper::header::ACCEPT_ENCODING,
                hyper::header::HeaderValue::from_static("identity"),
            );
        }
        if !hyper::body::Body::is_end_stream(&body) {
            *request.body_mut() = Some(reqwest::Body::wrap_stream(BodyDataStream::new(body)));
        }
        let response = self.client.execute(request).await.map_err(|e| self.error(&e))?;
        let response: hyper::Response<reqwest::Body> = response.into();
        let (mut parts, body) = response.into_parts();
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
            return Ok(Response::from_parts(
                parts,
                body.map_err(BoxError::from).boxed_unsync(),
            ));
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
    async fn hold(&self, mut body: reqwest::Body) -> Result<Vec<u8>, ProxyError> {
        let limit_mib = self.max_response_bytes / (1024 * 1024);
        let hint = hyper::body::Body::size_hint(&body);
        if hint.lower() as usize > self.max_response_bytes {
            return Err(ProxyError::ResponseTooLarge { limit_mib });
        }
        let mut held = Vec::with_capacity((hint.exact().unwrap_or(0) as usize).min(self.max_response_bytes));
        while let Some(frame) = body.frame().await {
            let frame = frame.map_err(|e| ProxyError::UpstreamFailed {
                upstream: self.base.clone(),
                detail: innermost(&e),
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

    fn error(&self, e: &reqwest::Error) -> ProxyError {
        let upstream = self.base.clone();
        // The innermost cause names the real problem (DNS, refused, TLS);
        // reqwest's own text only says "error sending request".
        let mut detail = e.to_string();
        let mut source = std::error::Error::source(e);
        while let Some(s) = source {
            detail = s.to_string();
            source = s.source();
        }
        if e.is_connect() {
            ProxyError::UpstreamUnreachable {
                upstream,
                detail: format!("cannot connect: {detail}"),
            }
        } else if e.is_timeout() {
            ProxyError::UpstreamTimeout {
                upstream,
                timeout: self.call_timeout,
            }
        } else {
            ProxyError::UpstreamFailed { upstream, detail }
        }
    }
}

/// The root cause's text, without the URL reqwest quotes (query included).
fn innermost(e: &(dyn std::error::Error + 'static)) -> String {
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
