//! Header rewriting in both directions.
//!
//! Towards the vault: hop-by-hop headers go (RFC 9110 §7.6.1, plus any named
//! in `Connection`), every `CF-*` header the client sent goes, and so does
//! every header that claims a client IP (`X-Forwarded-*`, `X-Real-IP`,
//! `Forwarded`, …): Infisical without `TRUSTED_PROXY_CIDRS` takes the first
//! such header it finds as the caller's address, and older builds look at
//! `X-Client-IP` and `X-Forwarded-For` before Cloudflare's own
//! `CF-Connecting-IP` — so a local client could otherwise pass a trusted-IP
//! list, or write any address into the audit log. `Host` is removed here and
//! set to the vault's by the forwarder ([`super::forward`]), `User-Agent` and the
//! Cloudflare Access service token are set here. Nothing is invented: no
//! `X-Forwarded-*`, no `Via`.
//!
//! Towards the client: hop-by-hop headers go; redirects and everything else
//! pass untouched, except Cloudflare's `CF_Authorization` cookie, which is an
//! Access credential in its own right and stays with the proxy's side.

use hyper::header::{self, HeaderMap, HeaderName, HeaderValue};
use secrecy::ExposeSecret;

use super::error::ProxyError;
use crate::config::VaultSettings;

/// Headers that describe one connection, not the message (RFC 9110 §7.6.1),
/// plus the proxy-auth pair and `Expect`, which this proxy answers itself.
const HOP_BY_HOP: [&str; 10] = [
    "connection",
    "proxy-connection",
    "keep-alive",
    "te",
    "trailer",
    "transfer-encoding",
    "upgrade",
    "proxy-authorization",
    "proxy-authenticate",
    "expect",
];

/// Headers a client could use to claim another address: Infisical's list
/// (`backend/src/server/plugins/ip.ts`, both spellings of its cluster
/// header), besides the `cf-` and `x-forwarded-` families removed by prefix.
const CLIENT_IP_CLAIMS: [&str; 10] = [
    "x-client-ip",
    "x-envoy-external-address",
    "fastly-client-ip",
    "true-client-ip",
    "x-real-ip",
    "x-cluster-client-ip",
    "x-cluser-client-ip",
    "forwarded-for",
    "forwarded",
    "x-appengine-user-ip",
];

/// The proxy's own client-token header (`--allow-remote`): it is for the
/// proxy, never for the vault.
const CLIENT_TOKEN_HEADER: &str = "x-proxy-token";

/// The cookie Cloudflare Access issues after a successful service-token check.
const CF_COOKIE: &str = "CF_Authorization";

/// The values the proxy adds to every upstream request, prepared once.
#[derive(Clone)]
pub struct Injected {
    cf: Option<(HeaderValue, HeaderValue)>,
    user_agent: HeaderValue,
}

impl std::fmt::Debug for Injected {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Injected")
            .field("cf_access", &self.cf.is_some())
            .field("user_agent", &self.user_agent)
            .finish()
    }
}

impl Injected {
    pub fn new(settings: &VaultSettings) -> Result<Self, ProxyError> {
        let cf = match &settings.cf_access {
            Some(cf) => {
                let id = HeaderValue::from_str(&cf.client_id).map_err(|_| {
                    ProxyError::Client("CF_ACCESS_CLIENT_ID is not a valid header value".into())
                })?;
                let mut secret = HeaderValue::from_str(cf.client_secret.expose_secret()).map_err(|_| {
                    ProxyError::Client("CF_ACCESS_CLIENT_SECRET is not a valid header value".into())
                })?;
                secret.set_sensitive(true);
                Some((id, secret))
            }
            None => None,
        };
        let user_agent = HeaderValue::from_str(&settings.user_agent)
            .map_err(|_| ProxyError::Client("the User-Agent is not a valid header value".into()))?;
        Ok(Self { cf, user_agent })
    }

    pub fn has_cf_access(&self) -> bool {
        self.cf.is_some()
    }
}

fn is_hop_by_hop(name: &HeaderName) -> bool {
    HOP_BY_HOP.contains(&name.as_str())
}

/// Removes the hop-by-hop headers, including those `Connection` names.
pub(crate) fn strip_hop_by_hop(headers: &mut HeaderMap) {
    // Most messages carry no `Connection` header, or one that only says
    // `keep-alive` or `close` (a vault's answers do): no list to build then.
    if headers.contains_key(header::CONNECTION) {
        let named: Vec<HeaderName> = headers
            .get_all(header::CONNECTION)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(','))
            .map(str::trim)
            .filter(|token| {
                !token.eq_ignore_ascii_case("close")
                    && !HOP_BY_HOP.iter().any(|h| token.eq_ignore_ascii_case(h))
            })
            .filter_map(|token| HeaderName::from_bytes(token.as_bytes()).ok())
            .collect();
        for name in named {
            headers.remove(name);
        }
    }
    remove_where(headers, is_hop_by_hop);
}

/// Removes every header whose name matches: a scan over the few names a
/// message has instead of one hashed lookup per name that might be there,
/// and nothing allocated (every vault answer has a `Connection` to drop).
pub(crate) fn remove_where(headers: &mut HeaderMap, matches: impl Fn(&HeaderName) -> bool) {
    while let Some(name) = headers.keys().find(|name| matches(name)).cloned() {
        headers.remove(name);
    }
}

fn is_cf_header(name: &HeaderName) -> bool {
    // Header names are stored lower-case, so this catches CF-, Cf- and cf-.
    name.as_str().starts_with("cf-")
}

/// Headers only an edge or a trusted proxy may set: Cloudflare's, and any
/// claim about the client's address (`x-forwarded` also covers `X-Forwarded`).
pub(crate) fn is_edge_header(name: &HeaderName) -> bool {
    is_cf_header(name)
        || name.as_str().starts_with("x-forwarded")
        || CLIENT_IP_CLAIMS.contains(&name.as_str())
}

/// The `Cookie` header without the Access cookie; `None` when nothing is left.
fn without_cf_cookie(value: &HeaderValue) -> Option<HeaderValue> {
    let text = value.to_str().ok()?;
    let kept: Vec<&str> = text
        .split(';')
        .map(str::trim)
        .filter(|pair| !pair.is_empty() && pair.split('=').next().map(str::trim) != Some(CF_COOKIE))
        .collect();
    if kept.is_empty() {
        return None;
    }
    HeaderValue::from_str(&kept.join("; ")).ok()
}

/// The headers sent to the vault for one client request, rewritten in place:
/// the request's own map is consumed rather than copied.
pub fn to_upstream(mut out: HeaderMap, injected: &Injected) -> HeaderMap {
    strip_hop_by_hop(&mut out);
    remove_where(&mut out, |name| {
        name == header::HOST || name.as_str() == CLIENT_TOKEN_HEADER || is_edge_header(name)
    });
    if out.contains_key(header::COOKIE) {
        let cookies: Vec<HeaderValue> = out
            .get_all(header::COOKIE)
            .iter()
            .filter_map(without_cf_cookie)
            .collect();
        out.remove(header::COOKIE);
        for cookie in cookies {
            out.append(header::COOKIE, cookie);
        }
    }
    // The client's own credentials pass through, but never show in a dump.
    for name in [header::AUTHORIZATION, header::COOKIE] {
        if let header::Entry::Occupied(mut entry) = out.entry(name) {
            for value in entry.iter_mut() {
                value.set_sensitive(true);
            }
        }
    }
    out.insert(header::USER_AGENT, injected.user_agent.clone());
    if let Some((id, secret)) = &injected.cf {
        out.insert(HeaderName::from_static("cf-access-client-id"), id.clone());
        out.insert(HeaderName::from_static("cf-access-client-secret"), secret.clone());
    }
    out
}

/// The headers returned to the client for one vault answer, rewritten in
/// place like [`to_upstream`].
pub fn to_client(mut out: HeaderMap) -> HeaderMap {
    strip_hop_by_hop(&mut out);
    if out.contains_key(header::SET_COOKIE) {
        let cookies: Vec<HeaderValue> = out
            .get_all(header::SET_COOKIE)
            .iter()
            .filter(|v| v.to_str().ok().and_then(|s| s.split('=').next()).map(str::trim) != Some(CF_COOKIE))
            .cloned()
            .collect();
        out.remove(header::SET_COOKIE);
        for cookie in cookies {
            out.append(header::SET_COOKIE, cookie);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;
    use crate::config::CfAccess;
    use std::time::Duration;

    fn settings(cf: bool) -> VaultSettings {
        VaultSettings {
            base_url: url::Url::parse("https://vault.example.com").unwrap(),
            cf_access: cf.then(|| CfAccess {
                client_id: "id.access".into(),
                client_secret: "s3cret".to_string().into(),
            }),
            user_agent: "ua/1".into(),
            connect_timeout: Duration::from_secs(1),
            call_timeout: Duration::from_secs(1),
            max_response_bytes: 1,
            max_concurrency: 8,
        }
    }

    fn map(pairs: &[(&str, &str)]) -> HeaderMap {
        let mut m = HeaderMap::new();
        for (k, v) in pairs {
            m.append(
                HeaderName::from_bytes(k.as_bytes()).unwrap(),
                HeaderValue::from_str(v).unwrap(),
            );
        }
        m
    }

    #[test]
    fn upstream_headers_are_rewritten() {
        let injected = Injected::new(&settings(true)).unwrap();
        let inbound = map(&[
            ("host", "localhost:2019"),
            ("connection", "keep-alive, X-Private"),
            ("x-private", "1"),
            ("keep-alive", "timeout=5"),
            ("te", "trailers"),
            ("transfer-encoding", "chunked"),
            ("upgrade", "h2c"),
            ("proxy-authorization", "Basic x"),
            ("x-proxy-token", "client-token"),
            ("CF-Access-Client-Id", "forged"),
            ("Cf-Connecting-Ip", "1.2.3.4"),
            ("X-Forwarded-For", "10.0.0.1"),
            ("x-forwarded", "for=10.0.0.1"),
            ("X-Client-IP", "10.0.0.1"),
            ("X-Real-IP", "10.0.0.1"),
            ("Forwarded", "for=10.0.0.1"),
            ("True-Client-IP", "10.0.0.1"),
            ("user-agent", "curl/8"),
            ("authorization", "Bearer tok"),
            ("cookie", "a=1; CF_Authorization=jwt; b=2"),
            ("accept", "application/json"),
        ]);
        let out = to_upstream(inbound, &injected);
        for gone in [
            "host",
            "connection",
            "x-private",
            "keep-alive",
            "te",
            "transfer-encoding",
            "upgrade",
            "proxy-authorization",
            "x-proxy-token",
            "cf-connecting-ip",
            "x-forwarded-for",
            "x-forwarded",
            "x-client-ip",
            "x-real-ip",
            "forwarded",
            "true-client-ip",
        ] {
            assert!(out.get(gone).is_none(), "{gone} should be removed");
        }
        assert_eq!(out["cf-access-client-id"], "id.access");
        assert_eq!(out["cf-access-client-secret"], "s3cret");
        assert!(out["cf-access-client-secret"].is_sensitive());
        assert_eq!(out["user-agent"], "ua/1");
        assert_eq!(out["authorization"], "Bearer tok");
        assert!(out["authorization"].is_sensitive());
        assert_eq!(out["cookie"], "a=1; b=2");
        assert_eq!(out["accept"], "application/json");
        assert!(out.keys().all(|k| !k.as_str().starts_with("x-forwarded")));
    }

    #[test]
    fn without_a_service_token_no_cf_header_is_sent() {
        let injected = Injected::new(&settings(false)).unwrap();
        let out = to_upstream(map(&[("cf-access-client-secret", "forged")]), &injected);
        assert!(out.keys().all(|k| !is_cf_header(k)));
    }

    #[test]
    fn client_headers_keep_redirects_but_lose_the_access_cookie() {
        let out = to_client(map(&[
            (
                "location",
                "https://team.cloudflareaccess.com/cdn-cgi/access/login/x",
            ),
            ("set-cookie", "CF_Authorization=jwt; Path=/"),
            ("set-cookie", "other=1"),
            ("transfer-encoding", "chunked"),
            ("connection", "close"),
            ("cf-ray", "abc"),
        ]));
        assert_eq!(
            out["location"],
            "https://team.cloudflareaccess.com/cdn-cgi/access/login/x"
        );
        let cookies: Vec<_> = out.get_all("set-cookie").iter().collect();
        assert_eq!(cookies, vec!["other=1"]);
        assert!(out.get("transfer-encoding").is_none() && out.get("connection").is_none());
        assert_eq!(out["cf-ray"], "abc");
    }
}
