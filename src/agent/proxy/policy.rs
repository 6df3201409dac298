//! What the proxy lets through, decided before any byte goes upstream.
//!
//! In order: the client token of a non-loopback client (`--allow-remote`);
//! methods a reverse proxy never forwards (CONNECT, TRACE); the
//! DNS-rebinding guard on `Host` / `Origin` / `Sec-Fetch-Site`; ambiguous
//! request paths; the read-only rule (non-GET/HEAD refused except
//! universal-auth login and token renew, unless `--allow-writes`); and, when a
//! scope is configured, an allow-list of routes, each read checked against
//! the scope (`scoped`). Route names are compared on a canonical form
//! (percent-decoded, lower-cased, empty segments collapsed) so that spelling
//! a route differently can only make the check stricter, never skip it.
//!
//! What passes is a [`Plan`]: the route, and for a scoped read the query to
//! send instead of the client's and what to check in the answer.

use std::borrow::Cow;

use hyper::header::{self, HeaderMap};
use hyper::{Method, Uri};
use percent_encoding::percent_decode_str;

use secrecy::SecretString;

use super::error::ProxyError;
use super::route::Route;
use super::scoped::check_scope;
pub use super::scoped::{AnswerCheck, AnswerKind, FORCED_OFF, ProjectRule, ScopeRule};

/// A request that passed the policy, and what it needs on its way.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Plan {
    pub route: Route,
    /// The query to send instead of the client's (scoped secret reads).
    pub query: Option<String>,
    /// Parameters the client sent with a value other than `false`, which the
    /// proxy turned off; named in a response header so a client can tell.
    pub turned_off: Vec<&'static str>,
    /// Set when the answer must be buffered and checked before the client
    /// sees it.
    pub check: Option<AnswerCheck>,
}

impl Plan {
    pub(super) fn pass(route: Route) -> Self {
        Self {
            route,
            query: None,
            turned_off: Vec::new(),
            check: None,
        }
    }
}

#[derive(Debug, Clone, Default)]
pub struct Policy {
    pub allow_writes: bool,
    pub allow_remote: bool,
    /// Extra `Host` names accepted besides loopback ones (`--allow-host`).
    pub allowed_hosts: Vec<String>,
    pub scope: Option<ScopeRule>,
    /// `INFISICAL_PROXY_TOKEN`: what non-loopback clients must present.
    pub client_token: Option<SecretString>,
}

/// Splits a `host[:port]` authority into the host alone.
fn host_part(authority: &str) -> &str {
    if let Some(rest) = authority.strip_prefix('[') {
        return rest.split(']').next().unwrap_or(rest);
    }
    match authority.rsplit_once(':') {
        Some((host, port)) if port.chars().all(|c| c.is_ascii_digit()) => host,
        _ => authority,
    }
}

/// `localhost`, `*.localhost` (RFC 6761: never resolved through DNS), and
/// loopback IP literals.
pub fn is_loopback_name(host: &str) -> bool {
    // Compared without lower-casing a copy: this runs for every request.
    let host = host.trim_end_matches('.');
    let suffix = host
        .len()
        .checked_sub(".localhost".len())
        .and_then(|at| host.get(at..));
    if host.eq_ignore_ascii_case("localhost") || suffix.is_some_and(|s| s.eq_ignore_ascii_case(".localhost"))
    {
        return true;
    }
    host.parse::<std::net::IpAddr>().is_ok_and(|ip| ip.is_loopback())
}

/// The route segments in canonical form, or a refusal when the path could be
/// read two ways. A segment is copied only when decoding or lower-casing
/// changes it.
pub fn canonical_segments(path: &str) -> Result<Vec<Cow<'_, str>>, ProxyError> {
    if !path.starts_with('/') {
        return Err(ProxyError::PathRefused(
            "the request target is not an absolute path".into(),
        ));
    }
    // Room for any route's segments without regrowing.
    let mut out = Vec::with_capacity(super::route::MOST_SEGMENTS);
    for raw in path.split('/').filter(|s| !s.is_empty()) {
        let decoded = percent_decode_str(raw)
            .decode_utf8()
            .map_err(|_| ProxyError::PathRefused("a path segment is not UTF-8 once decoded".into()))?;
        if raw.contains('\\') || decoded.contains(['/', '\\']) {
            return Err(ProxyError::PathRefused(
                "a path segment holds a slash or backslash".into(),
            ));
        }
        if decoded == "." || decoded == ".." {
            return Err(ProxyError::PathRefused("dot segments (. or ..)".into()));
        }
        if decoded.chars().any(char::is_control) {
            return Err(ProxyError::PathRefused("control characters".into()));
        }
        // Text that is all ASCII without capitals is its own lower case.
        let lower = if decoded.bytes().any(|b| !b.is_ascii() || b.is_ascii_uppercase()) {
            Cow::Owned(decoded.to_lowercase())
        } else {
            decoded
        };
        out.push(lower);
    }
    Ok(out)
}

impl Policy {
    fn host_allowed(&self, host: &str) -> bool {
        let name = host_part(host);
        if is_loopback_name(name) {
            return true;
        }
        if self
            .allowed_hosts
            .iter()
            .any(|h| h.eq_ignore_ascii_case(name.trim_end_matches('.')))
        {
            return true;
        }
        // An IP literal cannot be rebound by DNS; with --allow-remote the
        // listener's own addresses are reached that way.
        self.allow_remote && name.parse::<std::net::IpAddr>().is_ok()
    }

    fn host_hint(&self) -> &'static str {
        if self.allow_remote {
            "; add the name with --allow-host to accept it"
        } else {
            ""
        }
    }

    /// The DNS-rebinding guard.
    pub fn check_origin(&self, uri: &Uri, headers: &HeaderMap) -> Result<(), ProxyError> {
        // Borrowed: a request that passes costs no copy of its host.
        let host = match uri.authority() {
            Some(a) => Some(a.as_str()),
            None => match headers.get(header::HOST) {
                Some(v) => Some(v.to_str().map_err(|_| ProxyError::HostRefused {
                    host: "<not text>".into(),
                    hint: self.host_hint(),
                })?),
                None => None,
            },
        };
        if let Some(host) = host
            && !self.host_allowed(host)
        {
            return Err(ProxyError::HostRefused {
                host: host.escape_default().to_string(),
                hint: self.host_hint(),
            });
        }
        for origin in headers.get_all(header::ORIGIN) {
            let text = origin.to_str().unwrap_or("<not text>");
            let ok = url::Url::parse(text)
                .ok()
                .filter(|u| matches!(u.scheme(), "http" | "https"))
                .and_then(|u| u.host_str().map(str::to_string))
                .is_some_and(|h| self.host_allowed(&h));
            if !ok {
                return Err(ProxyError::OriginRefused {
                    origin: text.escape_default().to_string(),
                });
            }
        }
        if let Some(site) = headers.get("sec-fetch-site")
            && site.as_bytes().eq_ignore_ascii_case(b"cross-site")
        {
            return Err(ProxyError::OriginRefused {
                origin: "a cross-site browser request (Sec-Fetch-Site: cross-site)".into(),
            });
        }
        Ok(())
    }

    /// A client that is not on this machine must present the proxy's client
    /// token (`X-Proxy-Token: T` or `Proxy-Authorization: Bearer T`);
    /// loopback clients need none.
    pub fn check_client(&self, peer: std::net::IpAddr, headers: &HeaderMap) -> Result<(), ProxyError> {
        if peer.to_canonical().is_loopback() {
            return Ok(());
        }
        let Some(expected) = &self.client_token else {
            // Only reachable if the listener is not loopback without
            // --allow-remote's token, which configuration refuses.
            return Err(ProxyError::ClientTokenMissing);
        };
        let presented = super::client_auth::presented_token(headers, "x-proxy-token");
        match presented {
            None | Some("") => Err(ProxyError::ClientTokenMissing),
            Some(token) if super::client_auth::same_token(token, expected) => Ok(()),
            Some(_) => Err(ProxyError::ClientTokenRefused),
        }
    }

    /// Everything but the origin checks: method, path, writes, scope.
    pub fn check_request(&self, method: &Method, uri: &Uri) -> Result<Plan, ProxyError> {
        if *method == Method::CONNECT || *method == Method::TRACE {
            return Err(ProxyError::MethodRefused(method.to_string()));
        }
        let segments = canonical_segments(uri.path())?;
        let route = Route::classify(&segments);
        let reading = *method == Method::GET || *method == Method::HEAD;
        if !reading {
            let exempt = *method == Method::POST && route.is_auth();
            if !exempt && !self.allow_writes {
                return Err(ProxyError::WriteRefused {
                    method: method.to_string(),
                    path: uri.path().to_string(),
                    scoped: self.scope.is_some(),
                });
            }
        }
        match &self.scope {
            Some(rule) => check_scope(
                rule,
                route,
                &segments,
                *method == Method::GET,
                reading,
                uri.path(),
                uri.query().unwrap_or(""),
            ),
            None => Ok(Plan::pass(route)),
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;

    fn policy(scope: Option<&str>) -> Policy {
        Policy {
            scope: scope.map(|s| ScopeRule {
                scope: crate::scope::Scope::parse_list(&[s.to_string()]).unwrap(),
                source: "--scope".into(),
                projects: None,
            }),
            ..Policy::default()
        }
    }

    fn check(p: &Policy, method: Method, target: &str) -> Result<Plan, ProxyError> {
        p.check_request(&method, &target.parse::<Uri>().unwrap())
    }

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut m = HeaderMap::new();
        for (k, v) in pairs {
            m.append(*k, v.parse().unwrap());
        }
        m
    }

    #[test]
    fn loopback_names() {
        for ok in [
            "localhost",
            "LOCALHOST.",
            "app.localhost",
            "127.0.0.1",
            "127.9.9.9",
            "::1",
            "App.LocalHost",
            "a.b.LOCALHOST..",
            "::1.",
        ] {
            assert!(is_loopback_name(ok), "{ok}");
        }
        for bad in [
            "evil.com",
            "localhost.evil.com",
            "0.0.0.0",
            "10.0.0.1",
            "::",
            "xlocalhost",
            "évil-localhost",
            "€localhost",
            "",
        ] {
            assert!(!is_loopback_name(bad), "{bad}");
        }
    }

    #[test]
    fn segments_are_decoded_and_lower_cased_and_copied_only_when_changed() {
        let segments = canonical_segments("/api//V3/%73ecrets/raw/CF_Key/ÉTÉ").expect("a plain path");
        let text: Vec<&str> = segments.iter().map(|s| s.as_ref()).collect();
        assert_eq!(text, ["api", "v3", "secrets", "raw", "cf_key", "été"]);
        let copied: Vec<bool> = segments.iter().map(|s| matches!(s, Cow::Owned(_))).collect();
        assert_eq!(copied, [false, true, true, false, true, true]);
        // The same lower case as before the copy-on-change: Unicode, not ASCII only.
        assert_eq!(canonical_segments("/\u{212A}EY").expect("a path")[0], "key");
    }

    #[test]
    fn host_and_origin_must_be_loopback() {
        let p = policy(None);
        let uri: Uri = "/api/status".parse().unwrap();
        for host in ["localhost:2019", "127.0.0.1:2019", "[::1]:2019", "localhost"] {
            assert!(
                p.check_origin(&uri, &headers(&[("host", host)])).is_ok(),
                "{host}"
            );
        }
        for host in ["evil.com:2019", "vault.example.com", "10.0.0.5:2019"] {
            let e = p.check_origin(&uri, &headers(&[("host", host)])).unwrap_err();
            assert_eq!(e.code(), "ProxyHostRefused");
        }
        for origin in ["http://evil.com", "null", "file://"] {
            let e = p
                .check_origin(&uri, &headers(&[("host", "localhost"), ("origin", origin)]))
                .unwrap_err();
            assert_eq!(e.code(), "ProxyOriginRefused", "{origin}");
        }
        assert!(
            p.check_origin(
                &uri,
                &headers(&[("host", "localhost"), ("origin", "http://localhost:3000")])
            )
            .is_ok()
        );
        let abs: Uri = "http://evil.com/api/status".parse().unwrap();
        assert!(p.check_origin(&abs, &HeaderMap::new()).is_err());
        assert!(
            p.check_origin(&uri, &headers(&[("sec-fetch-site", "cross-site")]))
                .is_err()
        );
    }

    #[test]
    fn remote_mode_accepts_ip_literals_and_named_hosts_only() {
        let p = Policy {
            allow_remote: true,
            allowed_hosts: vec!["proxy.lan".into()],
            ..Policy::default()
        };
        let uri: Uri = "/api/status".parse().unwrap();
        for host in ["10.0.0.5:2019", "proxy.lan:2019", "PROXY.LAN"] {
            assert!(
                p.check_origin(&uri, &headers(&[("host", host)])).is_ok(),
                "{host}"
            );
        }
        assert!(p.check_origin(&uri, &headers(&[("host", "evil.com")])).is_err());
    }

    #[test]
    fn writes_are_refused_except_login_and_renew() {
        let p = policy(None);
        for (m, t) in [
            (Method::POST, "/api/v3/secrets/raw/X"),
            (Method::PATCH, "/api/v4/secrets/X"),
            (Method::DELETE, "/api/v3/secrets/raw/X"),
            (Method::PUT, "/api/v1/folders"),
            (Method::OPTIONS, "/api/status"),
            (Method::POST, "/api/v1/auth/token/revoke"),
            (Method::GET.clone(), "/api/status"),
        ]
        .into_iter()
        .filter(|(m, _)| *m != Method::GET)
        {
            let e = check(&p, m.clone(), t).unwrap_err();
            assert_eq!(e.code(), "ProxyWriteRefused", "{m} {t}");
        }
        for t in [
            "/api/v1/auth/universal-auth/login",
            "/api/v1/auth/universal-auth/login/",
            "/api/v1/auth/token/renew",
        ] {
            assert!(check(&p, Method::POST, t).is_ok(), "{t}");
        }
        assert!(check(&p, Method::PUT, "/api/v1/auth/universal-auth/login").is_err());
        for t in ["/api/v3/secrets/raw/X", "/api/status"] {
            assert!(check(&p, Method::GET, t).is_ok());
            assert!(check(&p, Method::HEAD, t).is_ok());
        }
        let open = Policy {
            allow_writes: true,
            ..Policy::default()
        };
        assert!(check(&open, Method::DELETE, "/api/v3/secrets/raw/X").is_ok());
        assert_eq!(
            check(&open, Method::CONNECT, "/").unwrap_err().code(),
            "ProxyMethodRefused"
        );
    }

    #[test]
    fn ambiguous_paths_are_refused() {
        let p = policy(None);
        for t in [
            "/api/v1/auth/universal-auth/login/../../../v3/secrets/raw/X",
            "/api/v4/secrets/%2e%2e/x",
            "/api/v4/sec%2Frets",
            "/api/v4/secrets/a%5Cb",
            "/api/v4/secrets/%00",
        ] {
            let e = check(&p, Method::GET, t).unwrap_err();
            assert_eq!(e.code(), "ProxyPathRefused", "{t}");
        }
    }

    #[test]
    fn remote_clients_need_the_client_token() {
        let p = Policy {
            allow_remote: true,
            client_token: Some(SecretString::from("client-token-0123456789")),
            ..Policy::default()
        };
        let remote: std::net::IpAddr = "10.0.0.7".parse().unwrap();
        assert!(
            p.check_client("127.0.0.1".parse().unwrap(), &HeaderMap::new())
                .is_ok()
        );
        assert!(
            p.check_client("::ffff:127.0.0.1".parse().unwrap(), &HeaderMap::new())
                .is_ok()
        );
        assert_eq!(
            p.check_client(remote, &HeaderMap::new()).unwrap_err().code(),
            "ProxyClientTokenMissing"
        );
        for (name, value) in [
            ("x-proxy-token", "client-token-0123456789"),
            ("proxy-authorization", "Bearer client-token-0123456789"),
            ("proxy-authorization", "bearer  client-token-0123456789 "),
        ] {
            assert!(
                p.check_client(remote, &headers(&[(name, value)])).is_ok(),
                "{name}: {value}"
            );
        }
        for (name, value) in [
            ("x-proxy-token", "client-token-0123456780"),
            ("proxy-authorization", "Bearer nope"),
        ] {
            assert_eq!(
                p.check_client(remote, &headers(&[(name, value)]))
                    .unwrap_err()
                    .code(),
                "ProxyClientTokenRefused"
            );
        }
        assert_eq!(
            p.check_client(remote, &headers(&[("proxy-authorization", "Basic eDp5")]))
                .unwrap_err()
                .code(),
            "ProxyClientTokenMissing"
        );
        // No token configured: remote peers are refused outright.
        assert!(Policy::default().check_client(remote, &HeaderMap::new()).is_err());
    }
}
