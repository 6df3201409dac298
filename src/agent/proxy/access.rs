//! One access-log line per request (tracing, target
//! `infisical_mcp_rs::agent::proxy::access`): method, path, the *names* of the query
//! parameters (never their values, which can name secrets), status, duration
//! and bytes sent back. A streamed answer is logged when its body ends or is
//! cut off, so the duration covers the whole transfer. Header values and
//! bodies are never logged.

use std::fmt::Write as _;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Instant;

use bytes::Bytes;
use http_body_util::BodyExt;
use hyper::body::{Body, Frame, SizeHint};
use hyper::{Method, Request, Response, Uri};

use super::forward::innermost;
use super::{BoxError, ProxyBody};

pub(crate) struct AccessLog {
    method: Method,
    /// Cloning a `Uri` only bumps a reference count; the path and the query
    /// keys are written straight into the log line when it is formatted, so a
    /// request costs no string building here (and none at all when the line
    /// is filtered out).
    uri: Uri,
    started: Instant,
}

/// The names of the query parameters, `&`-separated, without their values.
/// Only the names are decoded (and only those with a `%` or `+` in them),
/// and control characters in a decoded name are escaped: the fields of a log
/// line are written as they are, and a `%0A` must not start a forged line.
struct QueryKeys<'a>(Option<&'a str>);

impl std::fmt::Display for QueryKeys<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let Some(query) = self.0 else { return Ok(()) };
        let names = query
            .split('&')
            .filter(|pair| !pair.is_empty())
            .map(|pair| &pair[..pair.bytes().position(|b| b == b'=').unwrap_or(pair.len())]);
        for (i, name) in names.enumerate() {
            if i > 0 {
                f.write_char('&')?;
            }
            if !name.bytes().any(|b| b == b'%' || b == b'+') {
                f.write_str(name)?;
                continue;
            }
            let decoded = form_urlencoded_name(name);
            if decoded.chars().any(char::is_control) {
                for c in decoded.chars().flat_map(char::escape_default) {
                    f.write_char(c)?;
                }
            } else {
                f.write_str(&decoded)?;
            }
        }
        Ok(())
    }
}

/// One name as `application/x-www-form-urlencoded` decodes it (`+` is a
/// space), as the vault will read it.
fn form_urlencoded_name(name: &str) -> String {
    url::form_urlencoded::parse(name.as_bytes())
        .next()
        .map(|(key, _)| key.into_owned())
        .unwrap_or_default()
}

impl AccessLog {
    pub fn start<B>(req: &Request<B>) -> Self {
        Self {
            method: req.method().clone(),
            uri: req.uri().clone(),
            started: Instant::now(),
        }
    }

    fn emit(&self, status: u16, bytes: u64, outcome: &str) {
        tracing::info!(
            method = %self.method,
            path = %self.uri.path(),
            query = %QueryKeys(self.uri.query()),
            status,
            duration_ms = self.started.elapsed().as_millis() as u64,
            bytes,
            outcome,
            "proxied"
        );
    }

    /// A refusal or failure answered by the proxy itself.
    pub fn refused(self, response: Response<ProxyBody>, code: &str) -> Response<ProxyBody> {
        self.emit(response.status().as_u16(), 0, code);
        response
    }

    /// A vault answer: the line is written when the body is done.
    pub fn stream(self, response: Response<ProxyBody>) -> Response<ProxyBody> {
        let status = response.status().as_u16();
        response.map(|inner| {
            LoggedBody {
                inner,
                log: Some((self, status)),
                bytes: 0,
                finished: false,
                failure: None,
            }
            .boxed_unsync()
        })
    }
}

struct LoggedBody {
    inner: ProxyBody,
    log: Option<(AccessLog, u16)>,
    bytes: u64,
    finished: bool,
    failure: Option<String>,
}

impl Body for LoggedBody {
    type Data = Bytes;
    type Error = BoxError;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, BoxError>>> {
        let this = self.get_mut();
        let polled = Pin::new(&mut this.inner).poll_frame(cx);
        match &polled {
            Poll::Ready(Some(Ok(frame))) => {
                if let Some(data) = frame.data_ref() {
                    this.bytes += data.len() as u64;
                }
            }
            Poll::Ready(Some(Err(e))) => this.failure = Some(innermost(e.as_ref())),
            Poll::Ready(None) => this.finished = true,
            Poll::Pending => {}
        }
        polled
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}

impl Drop for LoggedBody {
    fn drop(&mut self) {
        if let Some((log, status)) = self.log.take() {
            let outcome: std::borrow::Cow<'static, str> = if self.finished || self.inner.is_end_stream() {
                "forwarded".into()
            } else if let Some(failure) = &self.failure {
                format!("upstream body failed: {failure}").into()
            } else {
                "client went away before the end of the body".into()
            };
            log.emit(status, self.bytes, &outcome);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn query_names_are_logged_without_values_or_line_breaks() {
        let keys = |q: Option<&str>| QueryKeys(q).to_string();
        assert_eq!(keys(None), "");
        assert_eq!(
            keys(Some(
                "workspaceId=5f0c&environment=prod&secretPath=%2Fa%2Fb&&flag"
            )),
            "workspaceId&environment&secretPath&flag"
        );
        assert_eq!(keys(Some("a%0Aforged=1&b")), "a\\nforged&b");
        assert_eq!(keys(Some("my+key=1&%41=2")), "my key&A");
    }
}
