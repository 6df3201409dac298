//! What the proxy lets through, decided before any byte goes upstream.
//!
//! In order: methods a reverse proxy never forwards (CONNECT, TRACE); the
//! DNS-rebinding guard on `Host` / `Origin` / `Sec-Fetch-Site`; ambiguous
//! request paths; the read-only rule (non-GET/HEAD refused except
//! universal-auth login and token renew, unless `--allow-writes`); and, when a
//! scope is configured, the client-side scope on every route that reads
//! secrets or folder names. Route names are compared on a canonical form
//! (percent-decoded, lower-cased, empty segments collapsed) so that spelling a
//! route differently can only make the check stricter, never skip it.

use hyper::header::{self, HeaderMap};
use hyper::{Method, Uri};
use percent_encoding::percent_decode_str;

use super::error::ProxyError;
use super::route::{Route, ScopedRead};
use crate::scope::{Scope, SecretPath};

/// The configured scope and where it came from (`--scope`, `INFISICAL_SCOPE`).
#[derive(Debug, Clone)]
pub struct ScopeRule {
    pub scope: Scope,
    pub source: String,
}

#[derive(Debug, Clone, Default)]
pub struct Policy {
    pub allow_writes: bool,
    pub allow_remote: bool,
    /// Extra `Host` names accepted besides loopback ones (`--allow-host`).
    pub allowed_hosts: Vec<String>,
    pub scope: Option<ScopeRule>,
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
    let host = host.trim_end_matches('.').to_ascii_lowercase();
    if host == "localhost" || host.ends_with(".localhost") {
        return true;
    }
    host.parse::<std::net::IpAddr>().is_ok_and(|ip| ip.is_loopback())
}

/// The route segments in canonical form, or a refusal when the path could be
/// read two ways.
pub fn canonical_segments(path: &str) -> Result<Vec<String>, ProxyError> {
    if !path.starts_with('/') {
        return Err(ProxyError::PathRefused(
            "the request target is not an absolute path".into(),
        ));
    }
    let mut out = Vec::new();
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
        out.push(decoded.to_lowercase());
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
        let host = match uri.authority() {
            Some(a) => Some(a.as_str().to_string()),
            None => match headers.get(header::HOST) {
                Some(v) => Some(
                    v.to_str()
                        .map_err(|_| ProxyError::HostRefused {
                            host: "<not text>".into(),
                            hint: self.host_hint(),
                        })?
                        .to_string(),
                ),
                None => None,
            },
        };
        if let Some(host) = host
            && !self.host_allowed(&host)
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

    /// Everything but the origin checks: method, path, writes, scope.
    pub fn check_request(&self, method: &Method, uri: &Uri) -> Result<Route, ProxyError> {
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
                });
            }
        }
        if let Some(rule) = &self.scope {
            check_scope(rule, &route, reading, uri.query().unwrap_or(""))?;
        }
        Ok(route)
    }
}

fn refuse(rule: &ScopeRule, reason: impl Into<String>) -> ProxyError {
    ProxyError::ScopeRefused {
        reason: reason.into(),
        scope: format!("{} (from {})", rule.scope, rule.source),
    }
}

/// The one value of a query parameter; a repeated parameter is refused,
/// because the vault and this check might each pick a different copy.
fn single<'q>(
    rule: &ScopeRule,
    query: &'q [(String, String)],
    names: &[&str],
) -> Result<Option<&'q str>, ProxyError> {
    let mut found = query
        .iter()
        .filter(|(k, _)| names.contains(&k.as_str()))
        .map(|(_, v)| v.as_str());
    let first = found.next();
    if found.next().is_some() {
        return Err(refuse(
            rule,
            format!(
                "the query names {} more than once, so the scope cannot be checked",
                names.join("/")
            ),
        ));
    }
    Ok(first)
}

fn check_scope(rule: &ScopeRule, route: &Route, reading: bool, query: &str) -> Result<(), ProxyError> {
    let Some(read) = route.scoped_read() else {
        if route.may_hold_secrets() {
            return Err(refuse(
                rule,
                if reading {
                    "this route can return secrets but the proxy cannot check it against the scope; \
                     use the v4 /api/v4/secrets or v3 /api/v3/secrets/raw routes"
                } else {
                    "writes to secrets cannot be checked against the scope (their target is in the body)"
                },
            ));
        }
        return Ok(());
    };
    if !reading {
        return Err(refuse(
            rule,
            "writes to secrets cannot be checked against the scope (their target is in the body)",
        ));
    }
    let pairs: Vec<(String, String)> = url::form_urlencoded::parse(query.as_bytes())
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect();
    let Some(env) = single(rule, &pairs, &["environment"])? else {
        return Err(refuse(
            rule,
            "the request names no environment, so the scope cannot be checked",
        ));
    };
    let folder = match read {
        ScopedRead::Secrets { list } => {
            if list
                && let Some(r) = single(rule, &pairs, &["recursive"])?
                && r != "false"
            {
                return Err(refuse(
                    rule,
                    "recursive secret listings can reach folders outside the scope; \
                             list each folder instead",
                ));
            }
            single(rule, &pairs, &["secretPath"])?.unwrap_or("/").to_string()
        }
        ScopedRead::Folders => {
            if let Some(r) = single(rule, &pairs, &["recursive"])?
                && !matches!(r, "" | "0" | "false")
            {
                return Err(refuse(
                    rule,
                    "recursive folder listings can reach folders outside the scope; \
                         list each folder instead",
                ));
            }
            let raw = single(rule, &pairs, &["path", "directory"])?.unwrap_or("/");
            // The folder routes put a leading slash in front themselves.
            if raw.starts_with('/') {
                raw.to_string()
            } else {
                format!("/{raw}")
            }
        }
    };
    let path = SecretPath::parse(&folder).map_err(|e| {
        refuse(
            rule,
            format!("the folder path is not one the scope can judge ({e})"),
        )
    })?;
    let allowed = match read {
        ScopedRead::Secrets { .. } => rule.scope.allows(env, &path),
        ScopedRead::Folders => rule.scope.allows(env, &path) || rule.scope.leads_into(env, &path),
    };
    if !allowed {
        return Err(refuse(
            rule,
            format!(
                "reading {} in {}:{} is outside the scope",
                match read {
                    ScopedRead::Secrets { .. } => "secrets",
                    ScopedRead::Folders => "folders",
                },
                env.escape_default(),
                path
            ),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;

    fn policy(scope: Option<&str>) -> Policy {
        Policy {
            scope: scope.map(|s| ScopeRule {
                scope: Scope::parse_list(&[s.to_string()]).unwrap(),
                source: "--scope".into(),
            }),
            ..Policy::default()
        }
    }

    fn check(p: &Policy, method: Method, target: &str) -> Result<Route, ProxyError> {
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
        ] {
            assert!(is_loopback_name(ok), "{ok}");
        }
        for bad in ["evil.com", "localhost.evil.com", "0.0.0.0", "10.0.0.1", "::"] {
            assert!(!is_loopback_name(bad), "{bad}");
        }
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
    fn scope_applies_to_every_secret_read_route() {
        let p = policy(Some("prod:/MooseQuest/**"));
        for t in [
            "/api/v4/secrets?projectId=p&environment=prod&secretPath=/MooseQuest",
            "/api/v4/secrets/KEY?projectId=p&environment=prod&secretPath=/MooseQuest/a/",
            "/api/v3/secrets/raw?workspaceId=p&environment=prod&secretPath=%2FMooseQuest%2Fb",
            "/api/v3/secrets/raw/KEY?workspaceId=p&environment=prod&secretPath=/MooseQuest&recursive=false",
            "/api/v1/folders?workspaceId=p&environment=prod&directory=/",
            "/api/v2/folders?projectId=p&environment=prod&path=MooseQuest",
            "/api/status",
            "/api/v1/workspace",
        ] {
            assert!(check(&p, Method::GET, t).is_ok(), "{t}");
        }
        for t in [
            "/api/v4/secrets?projectId=p&environment=prod&secretPath=/other",
            "/api/v4/secrets?projectId=p&environment=dev&secretPath=/MooseQuest",
            "/api/v4/secrets?projectId=p&environment=prod",
            "/api/v4/secrets/KEY?projectId=p&secretPath=/MooseQuest",
            "/api/v3/secrets/raw/KEY?workspaceId=p&environment=prod&secretPath=/MooseQuest/cloudflare/../../x",
            "/api/v3/secrets/raw?workspaceId=p&environment=prod&secretPath=/MooseQuest&secretPath=/x",
            "/api/v3/secrets/raw?workspaceId=p&environment=prod&secretPath=/MooseQuest&recursive=true",
            "/API/V4/SECRETS?projectId=p&environment=prod&secretPath=/x",
            "/api//v4/%73ecrets?projectId=p&environment=prod&secretPath=/x",
            "/api/v3/secrets/raw/id/abc",
            "/api/v3/secrets?workspaceId=p&environment=prod&secretPath=/MooseQuest",
            "/api/v1/secret-imports/secrets?workspaceId=p&environment=prod&path=/MooseQuest",
            "/api/v1/dashboard/secrets-overview",
            "/api/v1/folders?workspaceId=p&environment=prod&directory=/other",
            "/api/v1/folders?workspaceId=p&environment=prod&directory=/&recursive=true",
        ] {
            let e = check(&p, Method::GET, t).unwrap_err();
            assert_eq!(e.code(), "ProxyScopeRefused", "{t}");
            assert!(e.to_string().contains("prod:/MooseQuest/**"), "{e}");
        }
        let open = Policy {
            allow_writes: true,
            ..p.clone()
        };
        assert_eq!(
            check(&open, Method::POST, "/api/v3/secrets/raw/X")
                .unwrap_err()
                .code(),
            "ProxyScopeRefused"
        );
        assert!(check(&open, Method::POST, "/api/v1/auth/universal-auth/login").is_ok());
    }
}
