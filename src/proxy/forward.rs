//! The upstream side: one shared `reqwest` client (keep-alive pool, rustls,
//! redirects never followed, no environment proxy) and the forwarding of one
//! request with both bodies streamed chunk by chunk.
//!
//! Nothing here buffers a body: the client's body is handed to the upstream
//! request as a stream, and the vault's body is handed back to hyper as a
//! stream, so memory per request stays at a few socket buffers whatever the
//! size. Timeouts: `connect_timeout` to open a connection (502 when it
//! expires) and `call_timeout` for the vault to answer, then again between
//! two chunks of its body (504 before the answer; a cut-off body after).

use http_body_util::{BodyDataStream, BodyExt};
use hyper::body::Incoming;
use hyper::{Request, Response, StatusCode};

use super::error::ProxyError;
use super::headers::{self, Injected};
use super::{BoxError, ProxyBody};
use crate::config::VaultSettings;
use crate::vault::VaultError;
use crate::vault::http::{Answer, gateway_error};

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
        })
    }

    /// The vault's address, for messages (it carries no credential).
    pub fn display(&self) -> &str {
        &self.base
    }

    pub fn has_cf_access(&self) -> bool {
        self.injected.has_cf_access()
    }

    /// Sends one request on and returns the vault's answer with its body
    /// still streaming.
    pub async fn forward(&self, req: Request<Incoming>) -> Result<Response<ProxyBody>, ProxyError> {
        let (parts, body) = req.into_parts();
        let target = parts.uri.path_and_query().map(|pq| pq.as_str()).unwrap_or("/");
        let mut url = self.base_url.clone();
        if self.base_path.is_empty() {
            url.set_path(parts.uri.path());
        } else {
            url.set_path(&format!("{}{}", self.base_path, parts.uri.path()));
        }
        url.set_query(parts.uri.query());
        let mut request = reqwest::Request::new(parts.method, url);
        // Moved, not merged header by header as `RequestBuilder::headers` would.
        *request.headers_mut() = headers::to_upstream(parts.headers, &self.injected);
        if !hyper::body::Body::is_end_stream(&body) {
            *request.body_mut() = Some(reqwest::Body::wrap_stream(BodyDataStream::new(body)));
        }
        let response = self.client.execute(request).await.map_err(|e| self.error(&e))?;
        let response: hyper::Response<reqwest::Body> = response.into();
        let (mut parts, body) = response.into_parts();
        self.note_gateway_answer(parts.status, &parts.headers, parts_path(target));
        parts.headers = headers::to_client(std::mem::take(&mut parts.headers));
        let body = body.map_err(BoxError::from).boxed_unsync();
        Ok(Response::from_parts(parts, body))
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

/// The path without the query, whose values may name secrets.
fn parts_path(target: &str) -> &str {
    target.split('?').next().unwrap_or(target)
}
