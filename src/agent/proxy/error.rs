//! Every way the proxy can fail or refuse, as one enum.
//!
//! Start-up failures (the port is taken, the upstream client cannot be built)
//! end the process; per-request failures become a JSON answer in the shape
//! Infisical itself uses (`{"statusCode","error","message"}`), so clients that
//! already print Infisical's errors print ours too. Messages never carry a
//! header value, a query value or a body.

use std::net::SocketAddr;
use std::time::Duration;

use bytes::Bytes;
use hyper::StatusCode;

#[derive(Debug, thiserror::Error)]
pub enum ProxyError {
    /// The listen address is taken by another process.
    #[error(
        "port {port} on {ip} is already in use; stop the process holding it (lsof -i :{port}) \
         or choose another port with --listen 127.0.0.1:PORT (or VAULT_PROXY_PORT=PORT)"
    )]
    PortInUse { ip: std::net::IpAddr, port: u16 },

    /// Any other failure to bind the listen address.
    #[error("cannot listen on {addr} (--listen): {source}")]
    Bind {
        addr: SocketAddr,
        #[source]
        source: std::io::Error,
    },

    /// The listener would not say its own address.
    #[error("cannot read the listening address: {0}")]
    Listener(#[source] std::io::Error),

    /// The upstream HTTP client could not be built (TLS roots, bad header value).
    #[error("cannot set up the upstream client: {0}")]
    Client(String),

    /// Non-GET/HEAD request while writes are not allowed.
    #[error(
        "{method} {path} refused: the proxy is read-only (only GET, HEAD, universal-auth login and \
         token renew pass); {}",
        if *scoped {
            "a proxy with a scope (--scope / INFISICAL_SCOPE) never forwards writes: make the write \
             with another client (the Infisical web app or CLI), not through this proxy"
        } else {
            "restart it with --allow-writes to let writes through"
        }
    )]
    WriteRefused {
        method: String,
        path: String,
        scoped: bool,
    },

    /// `Host` (or an absolute request target) names something that is not
    /// this machine: the signature of DNS rebinding.
    #[error(
        "Host '{host}' is not a loopback name; the proxy only answers requests addressed to \
         localhost, 127.0.0.1 or [::1] (DNS-rebinding protection){hint}"
    )]
    HostRefused { host: String, hint: &'static str },

    /// `Origin` names a web page that is not on this machine, or a browser
    /// said the request is cross-site.
    #[error(
        "request from origin '{origin}' refused: only loopback origins may use the proxy \
         (browser pages from other sites must not reach the vault)"
    )]
    OriginRefused { origin: String },

    /// A secret read outside the configured client-side scope (or one whose
    /// target cannot be checked against it).
    #[error("{reason}; the proxy's scope is {scope}")]
    ScopeRefused { reason: String, scope: String },

    /// A read naming a project other than the configured ones.
    #[error(
        "project {project} refused: this proxy reads only {allowed}; name other projects with \
         INFISICAL_ALLOWED_PROJECTS (or --allow-project ID) where the proxy runs"
    )]
    ProjectRefused { project: String, allowed: String },

    /// The upstream is the proxy's own listening address: every request
    /// would come back to it until the call timeout.
    #[error(
        "{upstream_var} ({upstream}) is this proxy's own listening address ({listen}, --listen): every request \
         would loop back into the proxy; point {upstream_var} at the vault itself"
    )]
    SelfLoop {
        upstream_var: String,
        upstream: String,
        listen: SocketAddr,
    },

    /// A request target that could mean two different things (dot segments,
    /// encoded slashes, backslashes, control characters).
    #[error("request path refused: {0}; send a plain /api/... path")]
    PathRefused(String),

    /// Methods that make no sense through a reverse proxy (CONNECT, TRACE).
    #[error("{0} is not supported by the vault proxy")]
    MethodRefused(String),

    /// A non-loopback client sent no client token (`--allow-remote`).
    #[error(
        "this proxy accepts clients on other machines only with its client token: send it as \
         'X-Proxy-Token: TOKEN' or 'Proxy-Authorization: Bearer TOKEN' (the value of \
         INFISICAL_PROXY_TOKEN where the proxy runs)"
    )]
    ClientTokenMissing,

    /// A non-loopback client sent a client token that is not the proxy's.
    #[error(
        "the client token is not this proxy's (INFISICAL_PROXY_TOKEN where the proxy runs); \
         check the value sent in X-Proxy-Token or Proxy-Authorization"
    )]
    ClientTokenRefused,

    /// A scoped read's answer is larger than the proxy will hold to check it.
    #[error(
        "the vault's answer is larger than {limit_mib} MiB, the most a scoped proxy holds to check \
         it; list a narrower path, or restart the proxy with a larger --max-response-mib"
    )]
    ResponseTooLarge { limit_mib: usize },

    /// A scoped read's answer is not in a shape the proxy can check.
    #[error("the vault's answer to a scoped read cannot be checked against the scope: {0}")]
    UncheckableAnswer(String),

    /// The request could not be built into an upstream request.
    #[error("bad request: {0}")]
    BadRequest(String),

    /// No connection to the vault (DNS, refused, TLS, connect timeout).
    #[error("the vault at {upstream} is unreachable: {detail}")]
    UpstreamUnreachable { upstream: String, detail: String },

    /// The vault accepted the connection but did not answer in time.
    #[error("the vault at {upstream} did not answer within {} s (--call-timeout)", .timeout.as_secs())]
    UpstreamTimeout { upstream: String, timeout: Duration },

    /// The connection broke while the request was being sent.
    #[error("the exchange with the vault at {upstream} failed: {detail}")]
    UpstreamFailed { upstream: String, detail: String },
}

impl ProxyError {
    /// The HTTP status a per-request failure is answered with.
    pub fn status(&self) -> StatusCode {
        match self {
            Self::WriteRefused { .. }
            | Self::HostRefused { .. }
            | Self::OriginRefused { .. }
            | Self::ScopeRefused { .. }
            | Self::ProjectRefused { .. }
            | Self::ClientTokenRefused => StatusCode::FORBIDDEN,
            Self::ClientTokenMissing => StatusCode::UNAUTHORIZED,
            Self::ResponseTooLarge { .. } | Self::UncheckableAnswer(_) => StatusCode::BAD_GATEWAY,
            Self::PathRefused(_) | Self::BadRequest(_) => StatusCode::BAD_REQUEST,
            Self::MethodRefused(_) => StatusCode::METHOD_NOT_ALLOWED,
            Self::UpstreamTimeout { .. } => StatusCode::GATEWAY_TIMEOUT,
            Self::UpstreamUnreachable { .. } | Self::UpstreamFailed { .. } => StatusCode::BAD_GATEWAY,
            Self::PortInUse { .. }
            | Self::Bind { .. }
            | Self::Listener(_)
            | Self::Client(_)
            | Self::SelfLoop { .. } => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// The `error` field of the JSON body: a stable name clients can match on.
    pub fn code(&self) -> &'static str {
        match self {
            Self::WriteRefused { .. } => "ProxyWriteRefused",
            Self::HostRefused { .. } => "ProxyHostRefused",
            Self::OriginRefused { .. } => "ProxyOriginRefused",
            Self::ScopeRefused { .. } => "ProxyScopeRefused",
            Self::ProjectRefused { .. } => "ProxyProjectRefused",
            Self::PathRefused(_) => "ProxyPathRefused",
            Self::MethodRefused(_) => "ProxyMethodRefused",
            Self::BadRequest(_) => "ProxyBadRequest",
            Self::ClientTokenMissing => "ProxyClientTokenMissing",
            Self::ClientTokenRefused => "ProxyClientTokenRefused",
            Self::ResponseTooLarge { .. } => "ProxyResponseTooLarge",
            Self::UncheckableAnswer(_) => "ProxyAnswerUncheckable",
            Self::UpstreamUnreachable { .. } => "ProxyUpstreamUnreachable",
            Self::UpstreamTimeout { .. } => "ProxyUpstreamTimeout",
            Self::UpstreamFailed { .. } => "ProxyUpstreamFailed",
            Self::PortInUse { .. }
            | Self::Bind { .. }
            | Self::Listener(_)
            | Self::Client(_)
            | Self::SelfLoop { .. } => "ProxyInternalError",
        }
    }

    /// `{"statusCode":..,"error":..,"message":..}`, Infisical's error shape.
    pub fn json_body(&self) -> Bytes {
        let body = serde_json::json!({
            "statusCode": self.status().as_u16(),
            "error": self.code(),
            "message": self.to_string(),
        });
        Bytes::from(body.to_string())
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;

    #[test]
    fn write_refusal_has_infisicals_error_shape() {
        let e = ProxyError::WriteRefused {
            method: "DELETE".into(),
            path: "/api/v3/secrets/raw/X".into(),
            scoped: false,
        };
        let v: serde_json::Value = serde_json::from_slice(&e.json_body()).unwrap();
        assert_eq!(v["statusCode"], 403);
        assert_eq!(v["error"], "ProxyWriteRefused");
        assert!(v["message"].as_str().unwrap().contains("--allow-writes"));
        let scoped = ProxyError::WriteRefused {
            method: "DELETE".into(),
            path: "/api/v3/secrets/raw/X".into(),
            scoped: true,
        };
        let text = scoped.to_string();
        assert!(
            !text.contains("--allow-writes") && text.contains("never forwards writes"),
            "{text}"
        );
    }

    #[test]
    fn port_in_use_names_the_port_and_the_flag() {
        let e = ProxyError::PortInUse {
            ip: [127, 0, 0, 1].into(),
            port: 2019,
        };
        let s = e.to_string();
        assert!(s.contains("2019") && s.contains("--listen"), "{s}");
    }
}
