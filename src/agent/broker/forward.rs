//! One brokered request, start to end: the guards, the rule, the request
//! rebuilt for the rule's origin with the credential injected, one retry
//! after a refused value, and the answer redacted on its way back.
//!
//! Order of the guards: a client that is not on this machine; the proxy's
//! DNS-rebinding guard (`Host`, `Origin`, `Sec-Fetch-Site`); the target
//! (no absolute form, no CONNECT, no ambiguous path); the broker token;
//! the rule, its methods and its paths. Nothing goes to the vault or the
//! upstream before all of them pass.
//!
//! The request body is held (up to `--max-body-kib`) so that a request the
//! upstream refuses with 401/403 can be sent once more, after one fresh
//! read of the value, when that read finds a different (rotated) value; an
//! unchanged value is not retried, and a retry is never retried.

use std::sync::Arc;
use std::time::Instant;

use bytes::Bytes;
use http_body_util::{BodyExt, Full, Limited};
use hyper::body::Incoming;
use hyper::header::{self, HeaderMap, HeaderName, HeaderValue};
use hyper::{Request, Response, StatusCode, Uri};

use super::audit::{Pending, path_for_audit};
use super::body::{Redacting, whole};
use super::credential::{self, Credential};
use super::error::BrokerError;
use super::redact::Redactor;
use super::rules::Rule;
use super::{Broker, BrokerBody};
use crate::agent::proxy::headers::{is_edge_header, remove_where, strip_hop_by_hop};

/// The header clients may send the broker token in (besides
/// `Proxy-Authorization: Bearer`); never forwarded.
pub const TOKEN_HEADER: &str = "x-broker-token";

fn boxed<B>(body: B) -> BrokerBody
where
    B: hyper::body::Body<Data = Bytes> + Send + 'static,
    B::Error: Into<crate::agent::proxy::BoxError>,
{
    body.map_err(Into::into).boxed_unsync()
}

fn refusal(e: &BrokerError) -> Response<BrokerBody> {
    let mut response = Response::new(boxed(Full::new(e.body())));
    *response.status_mut() = e.status();
    response
        .headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
    response
}

fn check_token(broker: &Broker, headers: &HeaderMap) -> Result<(), BrokerError> {
    let Some(expected) = &broker.token else {
        return Ok(());
    };
    let presented = crate::agent::proxy::client_auth::presented_token(headers, TOKEN_HEADER);
    match presented {
        None | Some("") => Err(BrokerError::TokenMissing),
        Some(t) if crate::agent::proxy::client_auth::same_token(t, expected) => Ok(()),
        Some(_) => Err(BrokerError::TokenRefused),
    }
}

/// The client's headers made fit for the rule's origin: connection-level
/// and address-claiming headers, `Host`, the broker token, and any header
/// the credential will occupy go; the upstream is asked for an unencoded
/// answer so that redaction sees plain bytes.
fn upstream_headers(mut headers: HeaderMap) -> HeaderMap {
    strip_hop_by_hop(&mut headers);
    remove_where(&mut headers, |name| {
        name == header::HOST
            || name == header::CONTENT_LENGTH
            || name == header::ACCEPT_ENCODING
            || name.as_str() == TOKEN_HEADER
            || is_edge_header(name)
    });
    headers.insert(header::ACCEPT_ENCODING, HeaderValue::from_static("identity"));
    headers
}

/// The answer's headers for the client: connection-level ones go, the
/// length goes when the body may change, every value is redacted.
fn client_headers(mut headers: HeaderMap, redactor: &Redactor, body_changes: bool) -> HeaderMap {
    strip_hop_by_hop(&mut headers);
    if body_changes {
        headers.remove(header::CONTENT_LENGTH);
    }
    let names: Vec<HeaderName> = headers.keys().cloned().collect();
    for name in names {
        let values: Vec<HeaderValue> = headers.get_all(&name).iter().cloned().collect();
        if !values.iter().any(|v| redactor.finds(v.as_bytes())) {
            continue;
        }
        headers.remove(&name);
        for v in values {
            if let Ok(clean) = HeaderValue::from_bytes(&redactor.all(v.as_bytes())) {
                headers.append(name.clone(), clean);
            }
        }
    }
    headers
}

struct Outgoing<'a> {
    rule: &'a Rule,
    method: hyper::Method,
    raw_path: &'a str,
    query: Option<&'a str>,
    headers: HeaderMap,
    body: Bytes,
}

impl Outgoing<'_> {
    fn build(&self, credential: &Credential) -> Result<Request<Full<Bytes>>, BrokerError> {
        let mut headers = self.headers.clone();
        let query = credential::apply(self.rule, credential, &mut headers, self.query)?;
        let target = match query.as_deref().filter(|q| !q.is_empty()) {
            Some(q) => format!("{}?{q}", self.raw_path),
            None => self.raw_path.to_string(),
        };
        let uri = Uri::builder()
            .scheme("https")
            .authority(self.rule.upstream.authority.clone())
            .path_and_query(target)
            .build()
            .map_err(|_| BrokerError::PathRefused("it cannot be sent as is".into()))?;
        let mut request = Request::new(Full::new(self.body.clone()));
        *request.method_mut() = self.method.clone();
        *request.uri_mut() = uri;
        *request.headers_mut() = headers;
        Ok(request)
    }
}

async fn send(
    broker: &Broker,
    rule: &Rule,
    request: Request<Full<Bytes>>,
) -> Result<Response<Incoming>, BrokerError> {
    let failed = |reason: String| BrokerError::Upstream {
        rule: rule.name.clone(),
        origin: rule.upstream.to_string(),
        reason,
    };
    match tokio::time::timeout(broker.call_timeout, broker.client.request(request)).await {
        Ok(Ok(response)) => Ok(response),
        // The error's text is hyper's and rustls's; it names no header or value.
        Ok(Err(e)) => Err(failed(error_chain(&e))),
        Err(_) => Err(failed(format!(
            "no answer within {} s",
            broker.call_timeout.as_secs()
        ))),
    }
}

fn error_chain(e: &(dyn std::error::Error + 'static)) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        text.push_str(": ");
        text.push_str(&s.to_string());
        source = s.source();
    }
    text
}

/// Serves one client request.
pub async fn handle(
    broker: Arc<Broker>,
    peer: std::net::SocketAddr,
    request: Request<Incoming>,
) -> Response<BrokerBody> {
    let started = Instant::now();
    let method = request.method().clone();
    let mut pending = Pending {
        audit: broker.audit.clone(),
        rule: String::new(),
        method: method.to_string(),
        path: String::new(),
        status: 0,
        retried: false,
    };
    match serve(&broker, peer, request, &mut pending, started).await {
        Ok(response) => response,
        Err(e) => {
            let response = refusal(&e);
            pending.status = response.status().as_u16();
            tracing::debug!(kind = e.kind(), "request refused");
            pending.record(0, e.kind(), started);
            response
        }
    }
}

async fn serve(
    broker: &Broker,
    peer: std::net::SocketAddr,
    request: Request<Incoming>,
    pending: &mut Pending,
    started: Instant,
) -> Result<Response<BrokerBody>, BrokerError> {
    if !peer.ip().to_canonical().is_loopback() {
        return Err(BrokerError::OriginRefused(
            "only clients on this machine may use the broker".into(),
        ));
    }
    let (parts, body) = request.into_parts();
    broker
        .guard
        .check_origin(&parts.uri, &parts.headers)
        .map_err(|e| BrokerError::OriginRefused(e.to_string()))?;
    let target = super::target::parse(&parts.method, &parts.uri)?;
    pending.rule = target.rule.to_string();
    pending.path = path_for_audit(&target.decoded_path, target.query);
    check_token(broker, &parts.headers)?;
    let rule = broker
        .rules
        .get(target.rule)
        .ok_or_else(|| BrokerError::UnknownRule(target.rule.to_string()))?;
    if !rule.allows_method(&parts.method) {
        return Err(BrokerError::MethodNotAllowed {
            rule: rule.name.clone(),
            method: parts.method.to_string(),
            allowed: rule.methods_text(),
        });
    }
    if !rule.allows_path(&target.decoded_path) {
        return Err(BrokerError::PathNotAllowed {
            rule: rule.name.clone(),
            path: target.decoded_path.clone(),
            allowed: rule.paths_text(),
        });
    }
    let body = Limited::new(body, broker.max_body_bytes)
        .collect()
        .await
        .map_err(|e| {
            if e.is::<http_body_util::LengthLimitError>() {
                BrokerError::BodyTooLarge(broker.max_body_bytes)
            } else {
                BrokerError::BodyRead(e.to_string())
            }
        })?
        .to_bytes();
    let outgoing = Outgoing {
        rule,
        method: parts.method.clone(),
        raw_path: target.raw_path,
        query: target.query,
        headers: upstream_headers(parts.headers),
        body,
    };

    let mut credential = broker
        .redactors
        .read(&broker.vault, &broker.tokens, rule, false)
        .await?;
    let mut response = send(broker, rule, outgoing.build(&credential)?).await?;
    if matches!(
        response.status(),
        StatusCode::UNAUTHORIZED | StatusCode::FORBIDDEN
    ) {
        let fresh = broker
            .redactors
            .read(&broker.vault, &broker.tokens, rule, true)
            .await?;
        if !fresh.same_as(&credential) {
            tracing::info!(rule = %rule.name, status = response.status().as_u16(), "upstream refused the value; retrying once with the re-read one");
            drop(response);
            pending.retried = true;
            response = send(broker, rule, outgoing.build(&fresh)?).await?;
            credential = fresh;
        }
    }
    answer(rule, &credential, &parts.method, response, pending, started).await
}

/// The upstream's answer, redacted, for the client.
async fn answer(
    rule: &Rule,
    credential: &Credential,
    method: &hyper::Method,
    response: Response<Incoming>,
    pending: &mut Pending,
    started: Instant,
) -> Result<Response<BrokerBody>, BrokerError> {
    let (mut parts, body) = response.into_parts();
    pending.status = parts.status.as_u16();
    let redactor = &credential.redactor;
    let bodiless = *method == hyper::Method::HEAD
        || parts.status == StatusCode::NO_CONTENT
        || parts.status == StatusCode::NOT_MODIFIED;
    let encoding = parts
        .headers
        .get(header::CONTENT_ENCODING)
        .and_then(|v| v.to_str().ok())
        .map(|v| v.trim().to_ascii_lowercase())
        .filter(|v| !v.is_empty() && v != "identity");
    let take = || Pending {
        audit: pending.audit.clone(),
        rule: pending.rule.clone(),
        method: pending.method.clone(),
        path: pending.path.clone(),
        status: pending.status,
        retried: pending.retried,
    };
    if bodiless {
        parts.headers = client_headers(parts.headers, redactor, false);
        return Ok(Response::from_parts(
            parts,
            boxed(whole(Bytes::new(), Some(take()), started)),
        ));
    }
    if let Some(encoding) = encoding {
        let raw = Limited::new(body, super::MAX_DECODED_BYTES)
            .collect()
            .await
            .map_err(|e| BrokerError::Upstream {
                rule: rule.name.clone(),
                origin: rule.upstream.to_string(),
                reason: format!("reading the encoded answer: {e}"),
            })?
            .to_bytes();
        let plain =
            super::decode::decode(&encoding, &raw, super::MAX_DECODED_BYTES).map_err(|why| match why {
                super::decode::DecodeError::Unsupported => BrokerError::Encoding {
                    rule: rule.name.clone(),
                    encoding: encoding.clone(),
                },
                super::decode::DecodeError::Corrupt(reason) => BrokerError::Upstream {
                    rule: rule.name.clone(),
                    origin: rule.upstream.to_string(),
                    reason,
                },
            })?;
        parts.headers.remove(header::CONTENT_ENCODING);
        parts.headers = client_headers(parts.headers, redactor, true);
        let clean = Bytes::from(redactor.all(&plain));
        return Ok(Response::from_parts(
            parts,
            boxed(whole(clean, Some(take()), started)),
        ));
    }
    parts.headers = client_headers(parts.headers, redactor, true);
    let body = Redacting::new(body, redactor.stream(), take(), started);
    // The body audits itself when it ends.
    pending.audit = None;
    pending.status = 0;
    Ok(Response::from_parts(parts, boxed(body)))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;
    use crate::agent::broker::redact::Sensitive;

    #[test]
    fn client_headers_never_reach_upstream_unchecked() {
        let mut h = HeaderMap::new();
        for (k, v) in [
            ("host", "127.0.0.1:2020"),
            ("x-broker-token", "t0ken-t0ken-t0ken"),
            ("proxy-authorization", "Bearer t0ken"),
            ("connection", "close, x-hop"),
            ("x-hop", "1"),
            ("accept-encoding", "gzip, br"),
            ("x-forwarded-for", "10.0.0.1"),
            ("content-length", "3"),
            ("accept", "application/json"),
        ] {
            h.append(k, HeaderValue::from_static(v));
        }
        let out = upstream_headers(h);
        let names: Vec<&str> = out.keys().map(HeaderName::as_str).collect();
        assert_eq!(names.len(), 2, "{names:?}");
        assert_eq!(out["accept"], "application/json");
        assert_eq!(out["accept-encoding"], "identity");
    }

    #[test]
    fn answer_headers_are_redacted() {
        let r = Redactor::new(
            &[Sensitive {
                value: "s3cr3t-v4lue",
                key: "K",
            }],
            None,
        )
        .unwrap();
        let mut h = HeaderMap::new();
        h.insert(
            "location",
            HeaderValue::from_static("https://elsewhere.example/?k=s3cr3t-v4lue"),
        );
        h.insert("content-length", HeaderValue::from_static("10"));
        h.insert("x-plain", HeaderValue::from_static("fine"));
        let out = client_headers(h, &r, true);
        assert_eq!(out["location"], "https://elsewhere.example/?k=[redacted: K]");
        assert!(out.get("content-length").is_none());
        assert_eq!(out["x-plain"], "fine");
    }
}
