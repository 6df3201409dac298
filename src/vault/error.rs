//! Every way a vault call can fail, each with its own one-line cause and fix.
//!
//! Callers (the MCP tools, the doctor, the proxy) never see a JSON parse error
//! or a bare status code: the transport classifies each answer into one of
//! these, and [`VaultError::hint`] says what to do about it.

use std::time::Duration;

#[derive(Debug, Clone, thiserror::Error)]
pub enum VaultError {
    /// Cloudflare Access answered instead of the vault: a 302 to the login
    /// page, or its HTML 403 page.
    #[error("Cloudflare Access rejected the service token ({detail})")]
    CloudflareAccessRejected { detail: String },

    /// Cloudflare's WAF / Bot Fight Mode blocked the request before Access.
    #[error("Cloudflare blocked the request as a bot (error code 1010)")]
    CloudflareBotBlocked,

    #[error("vault unreachable at {url}: {detail}")]
    Unreachable { url: String, detail: String },

    #[error("vault did not answer within {0:?}")]
    Timeout(Duration),

    /// Universal-auth login refused the client id / secret.
    #[error("universal-auth login failed: {message}")]
    BadCredentials { message: String },

    /// The access token was refused even after a fresh login (or it was
    /// pre-issued and cannot be renewed here).
    #[error("the vault refused the access token: {message}")]
    TokenRejected { message: String, pre_issued: bool },

    /// Infisical's RBAC said no.
    #[error("permission denied by the vault: {message}")]
    PermissionDenied { message: String },

    #[error("not found: {message}")]
    NotFound { message: String },

    #[error("rate limited by the vault{}", retry_after.map(|d| format!(", retry in {} s", d.as_secs().max(1))).unwrap_or_default())]
    RateLimited { retry_after: Option<Duration> },

    #[error("the vault rejected the request ({status}): {message}")]
    BadRequest { status: u16, message: String },

    #[error("vault error {status}: {message}")]
    Server { status: u16, message: String },

    #[error("unexpected answer from {url} ({status}): {detail}")]
    UnexpectedResponse {
        url: String,
        status: u16,
        detail: String,
    },

    #[error("vault response larger than the {limit_mib} MiB limit")]
    ResponseTooLarge { limit_mib: usize },

    #[error("could not build the HTTP client: {0}")]
    Client(String),
}

impl VaultError {
    /// What the operator or agent should do next, in one line.
    pub fn hint(&self) -> String {
        if let Some(wrong) = self.misconfiguration() {
            return wrong.hint();
        }
        match self {
            Self::CloudflareAccessRejected { .. } => "check CF_ACCESS_CLIENT_ID / CF_ACCESS_CLIENT_SECRET \
                (a valid, unexpired service token), and that the Access application has a Service Auth policy \
                that includes this token"
                .into(),
            Self::CloudflareBotBlocked => "set INFISICAL_USER_AGENT to a non-default agent string, \
                or exempt the service token from Bot Fight Mode"
                .into(),
            Self::Unreachable { .. } => "check INFISICAL_HOST_URL, DNS and the network (is the tunnel up?); \
                `infisical-mcp-rs doctor` walks through it"
                .into(),
            Self::Timeout(_) => "the vault or the tunnel is slow or down; retry, or raise --call-timeout".into(),
            Self::BadCredentials { .. } => "check INFISICAL_UNIVERSAL_AUTH_CLIENT_ID / _CLIENT_SECRET: the secret may be \
                wrong, expired, revoked or out of uses (create a new client secret for the identity)"
                .into(),
            Self::TokenRejected { pre_issued: true, .. } => {
                "INFISICAL_TOKEN is expired or revoked; issue a new one, or use universal auth \
                 (INFISICAL_UNIVERSAL_AUTH_CLIENT_ID / _SECRET), which renews itself"
                    .into()
            }
            Self::TokenRejected { .. } => "the identity's token was refused right after a fresh login; \
                check that the identity and its universal-auth method are still enabled"
                .into(),
            Self::PermissionDenied { .. } => "the machine identity lacks read access there: ask the operator for \
                an additional privilege, or stay inside the configured scope"
                .into(),
            Self::NotFound { .. } => "check the secret name (case-sensitive), the environment slug and the folder path; \
                list-secrets / list-folders show what exists"
                .into(),
            Self::RateLimited { retry_after } => match retry_after {
                Some(d) => format!("wait {} s before retrying; many agents reading at once share one limit", d.as_secs().max(1)),
                None => "wait a minute before retrying".into(),
            },
            Self::BadRequest { .. } => "check projectId, environmentSlug and the path".into(),
            Self::Server { .. } => "the vault failed; retry later, and check its logs if it persists".into(),
            Self::UnexpectedResponse { .. } => "INFISICAL_HOST_URL may point at something that is not Infisical, \
                or a proxy in between rewrites answers"
                .into(),
            Self::ResponseTooLarge { .. } => "list a narrower path, or raise --max-response-mib".into(),
            Self::Client(_) => "this is a bug or a broken TLS setup; please report it".into(),
        }
    }

    /// A short stable name for audit lines and structured results.
    pub fn kind(&self) -> &'static str {
        match self {
            Self::CloudflareAccessRejected { .. } => "cloudflare_access_rejected",
            Self::CloudflareBotBlocked => "cloudflare_bot_blocked",
            Self::Unreachable { .. } => "vault_unreachable",
            Self::Timeout(_) => "timeout",
            Self::BadCredentials { .. } => "bad_credentials",
            Self::TokenRejected { .. } => "token_rejected",
            Self::PermissionDenied { .. } => "permission_denied",
            Self::NotFound { .. } => "not_found",
            Self::RateLimited { .. } => "rate_limited",
            Self::BadRequest { .. } => "bad_request",
            Self::Server { .. } => "vault_error",
            Self::UnexpectedResponse { .. } => "unexpected_response",
            Self::ResponseTooLarge { .. } => "response_too_large",
            Self::Client(_) => "client_error",
        }
    }
}
