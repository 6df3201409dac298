//! Every way the broker can refuse or fail, as one enum.
//!
//! Start-up problems (a bad rules file, a rule outside the scope, a port in
//! use) end the process; per-request ones become a small JSON answer
//! (`{"statusCode","error","message"}`) with the status the variant names.
//! No message carries a header value, a query value, a body or a secret: the
//! fields are names, paths already checked, and the broker's own words.

use bytes::Bytes;
use hyper::StatusCode;

#[derive(Debug, thiserror::Error)]
pub enum BrokerError {
    /// The rules file cannot be read or does not describe valid rules.
    #[error("{0}")]
    Rules(String),

    /// A rule's secret lies outside the client-side scope.
    #[error(
        "rule '{rule}': its secret {secret} is outside the scope ({scope}); \
         widen --scope / INFISICAL_SCOPE or change the rule's secret"
    )]
    OutOfScope {
        rule: String,
        secret: String,
        scope: String,
    },

    /// The listen address is taken.
    #[error(
        "port {port} on {ip} is already in use; stop the process holding it or choose another \
         port with --listen 127.0.0.1:PORT"
    )]
    PortInUse { ip: std::net::IpAddr, port: u16 },

    /// Any other failure to listen.
    #[error("cannot listen on {addr} (--listen): {source}")]
    Bind {
        addr: std::net::SocketAddr,
        #[source]
        source: std::io::Error,
    },

    /// The upstream client cannot be built (trust roots).
    #[error("cannot set up the upstream client: {0}")]
    Client(String),

    /// The request target is in absolute form, or the method is CONNECT /
    /// TRACE: the client is trying to pick the destination.
    #[error("{0}; send origin-form requests: http://127.0.0.1:PORT/RULE/path")]
    TargetRefused(String),

    /// `Host`, `Origin` or `Sec-Fetch-Site` say this is not a local client.
    #[error("{0}")]
    OriginRefused(String),

    /// No rule of that name.
    #[error(
        "no broker rule named '{0}'; the first path segment names the rule (http://127.0.0.1:PORT/RULE/path)"
    )]
    UnknownRule(String),

    /// An ambiguous path (dot segments, encoded or doubled slashes,
    /// backslashes, semicolons, control characters).
    #[error("path refused: {0}; send a plain, normalised path")]
    PathRefused(String),

    /// The method is not in the rule's `methods`.
    #[error("rule '{rule}' does not allow {method}; it allows {allowed}")]
    MethodNotAllowed {
        rule: String,
        method: String,
        allowed: String,
    },

    /// The path is not matched by any of the rule's `paths`.
    #[error("rule '{rule}' does not allow the path {path}; it allows {allowed}")]
    PathNotAllowed {
        rule: String,
        path: String,
        allowed: String,
    },

    /// The broker token is required and missing.
    #[error(
        "this broker needs its token: send 'Proxy-Authorization: Bearer TOKEN' or \
         'X-Broker-Token: TOKEN' (the value of INFISICAL_BROKER_TOKEN)"
    )]
    TokenMissing,

    /// The broker token is wrong.
    #[error("the broker token is wrong; send the value of INFISICAL_BROKER_TOKEN")]
    TokenRefused,

    /// The request body is larger than the broker holds for a retry.
    #[error("request body larger than {0} bytes; the broker holds bodies so that it can retry once")]
    BodyTooLarge(usize),

    /// Reading the client's request body failed.
    #[error("cannot read the request body: {0}")]
    BodyRead(String),

    /// The secret could not be read from the vault.
    #[error("rule '{rule}': cannot read its secret from the vault ({kind}): {hint}")]
    Vault {
        rule: String,
        kind: &'static str,
        hint: String,
    },

    /// A GitHub App rule's installation token could not be minted.
    #[error("rule '{rule}': cannot mint a GitHub App token ({kind}): {message}; {hint}")]
    Github {
        rule: String,
        kind: &'static str,
        message: String,
        hint: String,
    },

    /// The secret's value cannot be injected as the rule says.
    #[error("rule '{0}': the secret's value cannot be sent in a header (control characters or non-ASCII)")]
    BadValue(String),

    /// The upstream could not be reached or answered garbage.
    #[error("rule '{rule}': upstream {origin} failed: {reason}")]
    Upstream {
        rule: String,
        origin: String,
        reason: String,
    },

    /// The upstream answered with an encoding the broker cannot decode, so
    /// the answer cannot be checked for the value.
    #[error(
        "rule '{rule}': upstream answered with Content-Encoding '{encoding}', which the broker cannot check for the secret"
    )]
    Encoding { rule: String, encoding: String },
}

impl BrokerError {
    pub fn status(&self) -> StatusCode {
        match self {
            Self::TargetRefused(_) | Self::PathRefused(_) | Self::BodyRead(_) => StatusCode::BAD_REQUEST,
            Self::OriginRefused(_) | Self::PathNotAllowed { .. } | Self::TokenRefused => {
                StatusCode::FORBIDDEN
            }
            Self::TokenMissing => StatusCode::PROXY_AUTHENTICATION_REQUIRED,
            Self::UnknownRule(_) => StatusCode::NOT_FOUND,
            Self::MethodNotAllowed { .. } => StatusCode::METHOD_NOT_ALLOWED,
            Self::BodyTooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
            Self::Vault { .. }
            | Self::Github { .. }
            | Self::BadValue(_)
            | Self::Upstream { .. }
            | Self::Encoding { .. } => StatusCode::BAD_GATEWAY,
            Self::Rules(_)
            | Self::OutOfScope { .. }
            | Self::PortInUse { .. }
            | Self::Bind { .. }
            | Self::Client(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// A short machine-readable name, for the audit line and logs.
    pub fn kind(&self) -> &'static str {
        match self {
            Self::Rules(_) => "rules",
            Self::OutOfScope { .. } => "out_of_scope",
            Self::PortInUse { .. } | Self::Bind { .. } => "bind",
            Self::Client(_) => "client",
            Self::TargetRefused(_) => "target_refused",
            Self::OriginRefused(_) => "origin_refused",
            Self::UnknownRule(_) => "unknown_rule",
            Self::PathRefused(_) => "path_refused",
            Self::MethodNotAllowed { .. } => "method_not_allowed",
            Self::PathNotAllowed { .. } => "path_not_allowed",
            Self::TokenMissing => "token_missing",
            Self::TokenRefused => "token_refused",
            Self::BodyTooLarge(_) => "body_too_large",
            Self::BodyRead(_) => "body_read",
            Self::Vault { .. } => "vault",
            Self::Github { .. } => "github_app",
            Self::BadValue(_) => "bad_value",
            Self::Upstream { .. } => "upstream",
            Self::Encoding { .. } => "encoding",
        }
    }

    /// The JSON body of the refusal, in the shape Infisical's errors have.
    pub fn body(&self) -> Bytes {
        let status = self.status();
        Bytes::from(
            serde_json::json!({
                "statusCode": status.as_u16(),
                "error": status.canonical_reason().unwrap_or("Error"),
                "message": self.to_string(),
                "source": "infisical-mcp-rs broker",
            })
            .to_string(),
        )
    }
}
