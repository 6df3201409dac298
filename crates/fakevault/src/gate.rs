//! The fake Cloudflare edge in front of the vault: the WAF / Bot Fight rule
//! that blocks scripted default User-Agents ("error code: 1010"), and the
//! Access application that wants a service token — answering a rejection the
//! two ways Access does (302 to the login page, or a 403 page on a
//! Service-Auth-only app) and handing out a `CF_Authorization` cookie on a pass.

use std::fmt;
use std::hash::{BuildHasher, RandomState};

use hyper::{HeaderMap, StatusCode, header};

use super::errors::{Reply, html_reply, text_reply};
use super::tokens::{base64url, random_string};

/// The Access team domain used in login redirects.
pub const FAKE_ACCESS_TEAM: &str = "raxx-fake";
/// The Access application AUD tag (`kid` in the login redirect).
const FAKE_ACCESS_AUD: &str = "4a7f0c8e2b1d9e6f3a5c7b0d2e4f6a8c1b3d5e7f9a0c2e4b6d8f0a1c3e5b7d9f";

/// How the fake Access application treats requests.
#[derive(Clone, PartialEq, Eq, Default)]
pub enum CfGate {
    /// No Access application in front of the vault.
    #[default]
    Off,
    /// An app that also has a login policy: rejects with a 302 to the login page.
    LoginRedirect {
        client_id: String,
        client_secret: String,
    },
    /// A Service-Auth-only app: rejects with a 403 HTML page.
    ServiceAuthOnly {
        client_id: String,
        client_secret: String,
    },
}

impl CfGate {
    fn credentials(&self) -> Option<(&str, &str)> {
        match self {
            CfGate::Off => None,
            CfGate::LoginRedirect {
                client_id,
                client_secret,
            }
            | CfGate::ServiceAuthOnly {
                client_id,
                client_secret,
            } => Some((client_id, client_secret)),
        }
    }
}

// The service-token secret is fake, but tests scan output for secrets.
impl fmt::Debug for CfGate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let kind = match self {
            CfGate::Off => return f.write_str("Off"),
            CfGate::LoginRedirect { .. } => "LoginRedirect",
            CfGate::ServiceAuthOnly { .. } => "ServiceAuthOnly",
        };
        let id = self.credentials().map(|(id, _)| id).unwrap_or_default();
        f.debug_struct(kind)
            .field("client_id", &id)
            .field("client_secret", &"<redacted>")
            .finish()
    }
}

/// The edge's mutable state: the gate, the WAF switch, and the key its
/// cookies are signed with.
#[derive(Default)]
pub(crate) struct Edge {
    pub(crate) gate: CfGate,
    pub(crate) block_default_user_agents: bool,
    /// Like Cloudflare's, a cookie is checked by its signature, not looked
    /// up: a list of the cookies handed out grew by one per service-token
    /// request, and a benchmark's half a million made the edge stall while
    /// the set was rehashed.
    cookie_key: RandomState,
}

/// The edge's verdict on one request.
pub(crate) enum Verdict {
    /// Forward to the vault, setting this cookie on the answer if any.
    Pass(Option<String>),
    Reject(Reply),
}

const SCRIPTED_AGENTS: &[&str] = &[
    "python-requests",
    "python-urllib",
    "python-httpx",
    "aiohttp",
    "curl/",
    "wget/",
    "go-http-client",
    "node-fetch",
    "undici",
    "axios",
    "okhttp",
    "java/",
    "libwww-perl",
];

impl Edge {
    pub(crate) fn new(gate: CfGate, block_default_user_agents: bool) -> Self {
        Edge {
            gate,
            block_default_user_agents,
            cookie_key: RandomState::new(),
        }
    }

    /// A new gate invalidates the cookies issued under the old one.
    pub(crate) fn set_gate(&mut self, gate: CfGate) {
        self.gate = gate;
        self.cookie_key = RandomState::new();
    }

    /// A `CF_Authorization` JWT: random claims, signed with this gate's key.
    fn issue_cookie(&self) -> String {
        let header = base64url(br#"{"alg":"RS256","kid":"fake","typ":"JWT"}"#);
        let claims = base64url(random_string(48).as_bytes());
        let signature = self.signature(&header, &claims);
        format!("{header}.{claims}.{signature}")
    }

    fn signature(&self, header: &str, claims: &str) -> String {
        base64url(&self.cookie_key.hash_one((header, claims)).to_be_bytes())
    }

    fn issued_by_this_gate(&self, cookie: &str) -> bool {
        let mut parts = cookie.split('.');
        match (parts.next(), parts.next(), parts.next(), parts.next()) {
            (Some(header), Some(claims), Some(signature), None) => {
                self.signature(header, claims) == signature
            }
            _ => false,
        }
    }

    pub(crate) fn check(&mut self, headers: &HeaderMap, path_and_query: &str) -> Verdict {
        if self.block_default_user_agents && is_scripted_agent(headers) {
            return Verdict::Reject(text_reply(StatusCode::FORBIDDEN, "error code: 1010"));
        }
        let Some((id, secret)) = self.gate.credentials() else {
            return Verdict::Pass(None);
        };
        if header_str(headers, "cf-access-client-id") == Some(id)
            && header_str(headers, "cf-access-client-secret") == Some(secret)
        {
            return Verdict::Pass(Some(self.issue_cookie()));
        }
        if presented_cookie(headers).is_some_and(|c| self.issued_by_this_gate(c)) {
            return Verdict::Pass(None);
        }
        let host = header_str(headers, "host").unwrap_or("vault.example");
        Verdict::Reject(match self.gate {
            CfGate::LoginRedirect { .. } => login_redirect(host, path_and_query),
            _ => html_reply(StatusCode::FORBIDDEN, forbidden_page(host)),
        })
    }
}

fn header_str<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers.get(name).and_then(|v| v.to_str().ok())
}

fn is_scripted_agent(headers: &HeaderMap) -> bool {
    let agent = header_str(headers, "user-agent")
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    agent.is_empty() || SCRIPTED_AGENTS.iter().any(|p| agent.starts_with(p))
}

fn presented_cookie(headers: &HeaderMap) -> Option<&str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .find_map(|pair| pair.trim().strip_prefix("CF_Authorization="))
}

fn login_redirect(host: &str, path_and_query: &str) -> Reply {
    let app_host = host.split(':').next().unwrap_or(host);
    let redirect: String = url::form_urlencoded::byte_serialize(path_and_query.as_bytes()).collect();
    let location = format!(
        "https://{FAKE_ACCESS_TEAM}.cloudflareaccess.com/cdn-cgi/access/login/{app_host}?kid={FAKE_ACCESS_AUD}&redirect_url={redirect}&meta={}",
        fake_access_jwt()
    );
    let body = "<html>\r\n<head><title>302 Found</title></head>\r\n<body>\r\n<center><h1>302 Found</h1></center>\r\n<hr><center>cloudflare</center>\r\n</body>\r\n</html>\r\n".to_owned();
    let mut reply = html_reply(StatusCode::FOUND, body);
    if let Ok(v) = header::HeaderValue::from_str(&location) {
        reply.headers_mut().insert(header::LOCATION, v);
    }
    reply
}

fn forbidden_page(host: &str) -> String {
    format!(
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head><meta charset=\"utf-8\"><title>Forbidden · Cloudflare Access</title></head>\n<body>\n<h1>Forbidden</h1>\n<p>You don't have permission to view this application: {host}.</p>\n<p>Cloudflare Access denied the request. Ask your administrator for access.</p>\n</body>\n</html>\n"
    )
}

/// A JWT-shaped random value, like the real `CF_Authorization` cookie.
fn fake_access_jwt() -> String {
    format!(
        "{}.{}.{}",
        base64url(br#"{"alg":"RS256","kid":"fake","typ":"JWT"}"#),
        base64url(random_string(48).as_bytes()),
        base64url(random_string(32).as_bytes())
    )
}
