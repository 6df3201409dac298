//! The HTTP transport to the vault: one keep-alive client, the Cloudflare
//! Access headers and User-Agent on every request, redirects off, bounded
//! bodies, and bounded jittered retries for idempotent reads (gateway errors,
//! dropped connections, Infisical's generic 500, and rate limits short enough
//! to wait; never a 500 that names a deterministic failure).
//!
//! It knows nothing of tokens or routes; it turns each exchange into an
//! [`Answer`] or a [`VaultError`], and recognises the answers that come from
//! Cloudflare rather than from Infisical.

use std::time::Duration;

use reqwest::header::{HeaderMap, HeaderName, HeaderValue};
use reqwest::{Method, StatusCode};
use secrecy::{ExposeSecret, SecretString};
use tokio::time::Instant;
use url::Url;
use zeroize::Zeroize;

use super::error::VaultError;
use crate::config::VaultSettings;

/// How many times one idempotent call may be sent in total.
const MAX_ATTEMPTS: u32 = 4;
const BACKOFF_BASE: Duration = Duration::from_millis(150);
const BACKOFF_CAP: Duration = Duration::from_secs(2);

/// One request to send: built fresh for each attempt so that a retry after a
/// route fallback or a re-login never reuses stale state.
#[derive(Debug, Clone)]
pub(crate) struct Request {
    pub method: Method,
    pub path: String,
    pub query: Vec<(&'static str, String)>,
    /// JSON body, already serialised; may hold a credential (login), so it is
    /// never logged.
    pub body: Option<Vec<u8>>,
    /// Safe to send again: no side effect on the vault.
    pub idempotent: bool,
}

impl Request {
    pub fn get(path: impl Into<String>, query: Vec<(&'static str, String)>) -> Self {
        Self {
            method: Method::GET,
            path: path.into(),
            query,
            body: None,
            idempotent: true,
        }
    }
}

impl Drop for Request {
    fn drop(&mut self) {
        if let Some(body) = self.body.as_mut() {
            body.zeroize();
        }
    }
}

/// A buffer that is overwritten when its last owner lets go of it.
struct Wiped(Vec<u8>);

impl AsRef<[u8]> for Wiped {
    fn as_ref(&self) -> &[u8] {
        &self.0
    }
}

impl Drop for Wiped {
    fn drop(&mut self) {
        self.0.zeroize();
    }
}

/// `bytes` as `Bytes` whose memory is wiped when hyper (or whoever holds
/// the last clone) is done with it: for request bodies holding a credential
/// and answers holding values. Copies hyper or rustls make on the way
/// (TLS records, read buffers) are out of reach.
pub(crate) fn wiped_on_drop(bytes: Vec<u8>) -> bytes::Bytes {
    bytes::Bytes::from_owner(Wiped(bytes))
}

/// A complete HTTP answer from the vault. The body may hold secret values, so
/// it is wiped when dropped.
pub(crate) struct Answer {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Vec<u8>,
}

impl Drop for Answer {
    fn drop(&mut self) {
        self.body.zeroize();
    }
}

impl std::fmt::Debug for Answer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Answer")
            .field("status", &self.status)
            .field("body_len", &self.body.len())
            .finish()
    }
}

/// Infisical's error body: `{reqId, statusCode, message, error}`. `message`
/// is a string, or an array of zod issues on validation failures.
#[derive(Debug, Default, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct ApiError {
    #[serde(default)]
    pub message: serde_json::Value,
    #[serde(default)]
    pub error: Option<String>,
}

impl ApiError {
    /// One line for humans, whatever shape `message` had.
    pub fn text(&self) -> String {
        match &self.message {
            serde_json::Value::String(s) => s.clone(),
            serde_json::Value::Array(issues) => issues
                .iter()
                .map(|i| {
                    let path = i
                        .get("path")
                        .and_then(|p| p.as_array())
                        .map(|p| {
                            p.iter()
                                .map(|s| s.to_string().replace('"', ""))
                                .collect::<Vec<_>>()
                                .join(".")
                        })
                        .unwrap_or_default();
                    let msg = i.get("message").and_then(|m| m.as_str()).unwrap_or("invalid");
                    if path.is_empty() {
                        msg.to_string()
                    } else {
                        format!("{path}: {msg}")
                    }
                })
                .collect::<Vec<_>>()
                .join("; "),
            serde_json::Value::Null => self.error.clone().unwrap_or_default(),
            other => other.to_string(),
        }
    }
}

impl Answer {
    pub fn is_success(&self) -> bool {
        self.status.is_success()
    }

    /// The error body, if the vault sent one; an empty one otherwise (never a
    /// parse error: the status alone still classifies the answer).
    pub fn api_error(&self) -> ApiError {
        serde_json::from_slice(&self.body).unwrap_or_default()
    }

    fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    fn is_html(&self) -> bool {
        let ct = self
            .header("content-type")
            .unwrap_or_default()
            .to_ascii_lowercase();
        ct.starts_with("text/html") || self.body.iter().find(|b| !b.is_ascii_whitespace()) == Some(&b'<')
    }

    /// `Retry-After` in seconds (the only form Infisical and fastify send).
    pub fn retry_after(&self) -> Option<Duration> {
        self.header("retry-after")?
            .trim()
            .parse::<u64>()
            .ok()
            .map(Duration::from_secs)
    }

    /// Infisical's catch-all 500 (`error: "InternalServerError"`, "Something
    /// went wrong"), or a 500 with no error name at all (a body that is not
    /// Infisical's): the failures a second attempt may not meet. A 500 that
    /// names its cause (`error: "Find by secret path"`) is not one of them.
    pub fn is_generic_failure(&self) -> bool {
        match self.api_error().error.as_deref() {
            None | Some("") => true,
            Some(name) => name == "InternalServerError",
        }
    }

    /// Rate limiting: 429 on current Infisical, but older self-hosted builds
    /// answer with a 500 carrying the limiter's headers.
    pub fn is_rate_limited(&self) -> bool {
        self.status == StatusCode::TOO_MANY_REQUESTS
            || (self.status.is_server_error()
                && (self.header("x-ratelimit-remaining").map(str::trim) == Some("0")
                    || self.header("retry-after").is_some()))
    }
}

/// Answers that did not come from Infisical at all: Cloudflare's login
/// redirect, its HTML 403, its bot block, or any other redirect or HTML.
/// Checked before any attempt to read the body as JSON.
pub(crate) fn gateway_error(url: &str, answer: &Answer) -> Option<VaultError> {
    let status = answer.status;
    if status.is_redirection() {
        let location = answer.header("location").unwrap_or_default();
        let target = Url::parse(location).ok();
        let to_access = target
            .as_ref()
            .and_then(|u| u.host_str())
            .is_some_and(|h| h.ends_with(".cloudflareaccess.com"))
            || location.contains("/cdn-cgi/access/");
        if to_access {
            return Some(VaultError::CloudflareAccessRejected {
                detail: "redirected to the Access login page".into(),
            });
        }
        return Some(VaultError::UnexpectedResponse {
            url: url.to_string(),
            status: status.as_u16(),
            detail: format!(
                "redirect to {} (redirects are not followed)",
                target
                    .as_ref()
                    .and_then(|u| u.host_str())
                    .unwrap_or("another location")
            ),
        });
    }
    let body_head = String::from_utf8_lossy(&answer.body[..answer.body.len().min(2048)]).to_ascii_lowercase();
    if status == StatusCode::FORBIDDEN && body_head.contains("error code: 1010") {
        return Some(VaultError::CloudflareBotBlocked);
    }
    // A gateway's own error page (Cloudflare's 502/530, a tunnel that is
    // down) is not the vault speaking: say so, not "unexpected HTML".
    if matches!(status.as_u16(), 502..=504 | 530) && (answer.is_html() || status.as_u16() == 530) {
        return Some(VaultError::Unreachable {
            url: url.to_string(),
            detail: format!(
                "the gateway in front of the vault answered {status}; is the tunnel or the vault up?"
            ),
        });
    }
    if answer.is_html() {
        if status == StatusCode::FORBIDDEN || status == StatusCode::UNAUTHORIZED {
            return Some(VaultError::CloudflareAccessRejected {
                detail: format!("HTML {} page instead of the vault's JSON", status.as_u16()),
            });
        }
        return Some(VaultError::UnexpectedResponse {
            url: url.to_string(),
            status: status.as_u16(),
            detail: "an HTML page instead of JSON".into(),
        });
    }
    None
}

pub(crate) struct Transport {
    /// Built on the first vault call, not at start: reqwest's builder loads
    /// the system's root certificates and sets up rustls, which the stdio
    /// server's `initialize` answer does not need (start-up time).
    http: tokio::sync::OnceCell<reqwest::Client>,
    /// The headers every request carries, checked at start so that a bad
    /// CF_ACCESS_* value is a configuration error, not a failed first call.
    default_headers: HeaderMap,
    user_agent: String,
    connect_timeout: Duration,
    /// Bounds requests in flight; a permit is held for one attempt only, so
    /// a caller waiting out a backoff does not block the others.
    in_flight: tokio::sync::Semaphore,
    base: Url,
    call_timeout: Duration,
    max_response_bytes: usize,
}

impl Transport {
    pub fn new(settings: &VaultSettings) -> Result<Self, VaultError> {
        let mut headers = HeaderMap::new();
        if let Some(cf) = &settings.cf_access {
            let id = HeaderValue::from_str(&cf.client_id)
                .map_err(|_| VaultError::Client("CF_ACCESS_CLIENT_ID is not a valid header value".into()))?;
            let mut secret = HeaderValue::from_str(cf.client_secret.expose_secret()).map_err(|_| {
                VaultError::Client("CF_ACCESS_CLIENT_SECRET is not a valid header value".into())
            })?;
            // Keeps the value out of any header dump reqwest or hyper might log.
            secret.set_sensitive(true);
            headers.insert(HeaderName::from_static("cf-access-client-id"), id);
            headers.insert(HeaderName::from_static("cf-access-client-secret"), secret);
        }
        headers.insert(
            reqwest::header::ACCEPT,
            HeaderValue::from_static("application/json"),
        );
        HeaderValue::from_str(&settings.user_agent)
            .map_err(|_| VaultError::Client("the User-Agent is not a valid header value".into()))?;
        Ok(Self {
            http: tokio::sync::OnceCell::new(),
            default_headers: headers,
            user_agent: settings.user_agent.clone(),
            connect_timeout: settings.connect_timeout,
            in_flight: tokio::sync::Semaphore::new(settings.max_concurrency.max(1)),
            base: settings.base_url.clone(),
            call_timeout: settings.call_timeout,
            max_response_bytes: settings.max_response_bytes,
        })
    }

    /// The keep-alive client, built by the first call that needs it.
    async fn client(&self) -> Result<&reqwest::Client, VaultError> {
        self.http
            .get_or_try_init(|| async {
                reqwest::Client::builder()
                    .default_headers(self.default_headers.clone())
                    .user_agent(self.user_agent.clone())
                    // A redirect here is Cloudflare's login page; following it would send
                    // our headers to another host and end in HTML.
                    .redirect(reqwest::redirect::Policy::none())
                    .connect_timeout(self.connect_timeout)
                    .pool_idle_timeout(Duration::from_secs(90))
                    .tcp_keepalive(Duration::from_secs(30))
                    // An HTTPS_PROXY meant for other tools must not silently see vault traffic.
                    .no_proxy()
                    // Every request goes to `base` and redirects are not followed, so an
                    // `http://` vault (loopback, or through `--proxy`) never needs a
                    // certificate: the root stores (~240 KB parsed) are not read, as in
                    // the proxy.
                    .tls_built_in_root_certs(self.base.scheme() == "https")
                    .build()
                    .map_err(|e| VaultError::Client(e.to_string()))
            })
            .await
    }

    pub fn call_timeout(&self) -> Duration {
        self.call_timeout
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.base.as_str().trim_end_matches('/'), path)
    }

    /// Sends `request` until it succeeds, fails for good, or `deadline`
    /// passes. Only idempotent requests are retried, and only on answers that
    /// say "try again": connection failures, 502/503/504, rate limiting, and
    /// for reads (GET) Infisical's generic 500.
    pub async fn execute(
        &self,
        request: &Request,
        bearer: Option<&SecretString>,
        deadline: Instant,
    ) -> Result<Answer, VaultError> {
        let url = self.url(&request.path);
        let mut attempt = 0;
        loop {
            attempt += 1;
            let remaining = deadline.saturating_duration_since(Instant::now());
            if remaining.is_zero() {
                return Err(VaultError::Timeout(self.call_timeout));
            }
            let outcome = match tokio::time::timeout(remaining, self.in_flight.acquire()).await {
                Ok(Ok(_permit)) => self.send_once(&url, request, bearer, remaining).await,
                // Closed never happens (we never close it); waited too long is a timeout.
                Ok(Err(_)) | Err(_) => Err(VaultError::Timeout(self.call_timeout)),
            };
            let retry_in = match &outcome {
                Ok(answer) if answer.is_rate_limited() => {
                    let wait = answer.retry_after().unwrap_or(Duration::from_secs(1));
                    if !request.idempotent || wait >= deadline.saturating_duration_since(Instant::now()) {
                        return Err(VaultError::RateLimited {
                            retry_after: answer.retry_after(),
                        });
                    }
                    Some(wait)
                }
                Ok(answer) if matches!(answer.status.as_u16(), 502..=504 | 530) => Some(backoff(attempt)),
                // Infisical's generic "Something went wrong" is often a
                // passing database or Redis hiccup: reads try again. A 500
                // whose `error` names what failed (the older build's "Find by
                // secret path" for a glob character in a path) answers the
                // same every time, and each retry would cost a rate-limit
                // slot. A login or renewal is a POST and is not retried on a
                // 500 (a second login may count against a lockout; a renewal
                // may have happened).
                Ok(answer)
                    if answer.status == StatusCode::INTERNAL_SERVER_ERROR
                        && request.method == Method::GET
                        && answer.is_generic_failure() =>
                {
                    Some(backoff(attempt))
                }
                Ok(_) => None,
                Err(VaultError::Unreachable { .. }) | Err(VaultError::Timeout(_)) => Some(backoff(attempt)),
                Err(_) => None,
            };
            match retry_in {
                Some(wait)
                    if request.idempotent
                        && attempt < MAX_ATTEMPTS
                        && Instant::now().checked_add(wait).is_some_and(|at| at < deadline) =>
                {
                    tracing::debug!(path = %request.path, attempt, wait_ms = wait.as_millis() as u64, "retrying vault call");
                    tokio::time::sleep(wait).await;
                }
                _ => {
                    return match outcome {
                        Ok(answer) if answer.is_rate_limited() => Err(VaultError::RateLimited {
                            retry_after: answer.retry_after(),
                        }),
                        other => other,
                    };
                }
            }
        }
    }

    async fn send_once(
        &self,
        url: &str,
        request: &Request,
        bearer: Option<&SecretString>,
        timeout: Duration,
    ) -> Result<Answer, VaultError> {
        let started = Instant::now();
        let mut builder = self
            .client()
            .await?
            .request(request.method.clone(), url)
            .query(&request.query)
            .timeout(timeout);
        if let Some(token) = bearer {
            let mut value = HeaderValue::from_str(&format!("Bearer {}", token.expose_secret()))
                .map_err(|_| VaultError::Client("access token is not a valid header value".into()))?;
            value.set_sensitive(true);
            builder = builder.header(reqwest::header::AUTHORIZATION, value);
        }
        if let Some(body) = &request.body {
            // The copy handed to reqwest may hold the client secret (login):
            // wiped when hyper lets go of it, like the request's own.
            builder = builder
                .header(reqwest::header::CONTENT_TYPE, "application/json")
                .body(wiped_on_drop(body.clone()));
        }
        let response = builder
            .send()
            .await
            .map_err(|e| transport_error(url, timeout, &e))?;
        let status = response.status();
        let headers = response.headers().clone();
        let body = self.read_body(url, timeout, response).await?;
        tracing::debug!(
            method = %request.method,
            path = %request.path,
            status = status.as_u16(),
            elapsed_ms = started.elapsed().as_millis() as u64,
            "vault answered"
        );
        Ok(Answer {
            status,
            headers,
            body,
        })
    }

    async fn read_body(
        &self,
        url: &str,
        timeout: Duration,
        mut response: reqwest::Response,
    ) -> Result<Vec<u8>, VaultError> {
        let limit_mib = self.max_response_bytes / (1024 * 1024);
        if response
            .content_length()
            .is_some_and(|n| n as usize > self.max_response_bytes)
        {
            return Err(VaultError::ResponseTooLarge { limit_mib });
        }
        let mut body = Vec::with_capacity(response.content_length().unwrap_or(0).min(1 << 20) as usize);
        while let Some(chunk) = response
            .chunk()
            .await
            .map_err(|e| transport_error(url, timeout, &e))?
        {
            if body.len() + chunk.len() > self.max_response_bytes {
                body.zeroize();
                return Err(VaultError::ResponseTooLarge { limit_mib });
            }
            if body.capacity() - body.len() < chunk.len() {
                // Grown by hand: a reallocating `extend` would free the old
                // buffer, values and all, without wiping it.
                let mut bigger = Vec::with_capacity((body.len() + chunk.len()).max(body.capacity() * 2));
                bigger.extend_from_slice(&body);
                body.zeroize();
                body = bigger;
            }
            body.extend_from_slice(&chunk);
        }
        Ok(body)
    }
}

/// Full jitter: a random wait up to an exponentially growing cap, so that
/// many agents retrying at once do not hit the vault in lockstep.
fn backoff(attempt: u32) -> Duration {
    let cap = BACKOFF_BASE.saturating_mul(1 << attempt.min(8)).min(BACKOFF_CAP);
    let millis = rand::random_range(cap.as_millis() as u64 / 2..=cap.as_millis() as u64);
    Duration::from_millis(millis)
}

fn transport_error(url: &str, timeout: Duration, e: &reqwest::Error) -> VaultError {
    if e.is_timeout() {
        return VaultError::Timeout(timeout);
    }
    // The innermost cause names the real problem (DNS, refused, TLS);
    // reqwest's own text only says "error sending request".
    let mut detail = e.to_string();
    let mut source = std::error::Error::source(e);
    while let Some(s) = source {
        detail = s.to_string();
        source = s.source();
    }
    // The URL never carries credentials, but strip the query anyway: it can
    // name secrets the caller asked for.
    let url = url.split('?').next().unwrap_or(url).to_string();
    VaultError::Unreachable { url, detail }
}

#[cfg(test)]
mod tests;
