//! The one GitHub REST call: `POST /app/installations/{id}/access_tokens`
//! with the App JWT, turning each answer into the token or a [`GithubError`].
//!
//! Redirects are not followed (the JWT must not travel elsewhere); the
//! answer body is bounded; the token is a [`SecretString`] once parsed, and
//! the raw body is wiped. Standard proxy variables (HTTPS_PROXY) apply, as
//! they do for `gh` itself.

use std::time::Duration;

use reqwest::StatusCode;
use reqwest::header::{ACCEPT, AUTHORIZATION, HeaderValue};
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;
use url::Url;
use zeroize::Zeroizing;

use super::error::GithubError;

/// GitHub's answers here are a few hundred bytes.
const MAX_BODY: usize = 256 * 1024;
const API_VERSION: &str = "2022-11-28";

/// A minted installation token.
pub struct InstallationToken {
    pub token: SecretString,
    /// As GitHub sent it, e.g. `2026-01-01T12:00:00Z`.
    pub expires_at: String,
}

impl std::fmt::Debug for InstallationToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("InstallationToken")
            .field("expires_at", &self.expires_at)
            .finish_non_exhaustive()
    }
}

#[derive(Deserialize)]
struct TokenAnswer {
    token: SecretString,
    #[serde(default)]
    expires_at: String,
}

#[derive(Deserialize, Default)]
struct GithubMessage {
    #[serde(default)]
    message: String,
}

pub struct GithubApi {
    http: reqwest::Client,
    base: Url,
    timeout: Duration,
}

impl GithubApi {
    pub fn new(
        base: Url,
        user_agent: &str,
        connect_timeout: Duration,
        timeout: Duration,
        extra_roots: &[rustls::pki_types::CertificateDer<'static>],
    ) -> Result<Self, GithubError> {
        let mut builder = reqwest::Client::builder();
        for der in extra_roots {
            let root = reqwest::Certificate::from_der(der).map_err(|e| GithubError::Client(e.to_string()))?;
            builder = builder.add_root_certificate(root);
        }
        let http = builder
            .user_agent(user_agent)
            .redirect(reqwest::redirect::Policy::none())
            .connect_timeout(connect_timeout)
            .timeout(timeout)
            .build()
            .map_err(|e| GithubError::Client(e.to_string()))?;
        Ok(Self { http, base, timeout })
    }

    fn url(&self, installation_id: u64) -> String {
        format!(
            "{}/app/installations/{installation_id}/access_tokens",
            self.base.as_str().trim_end_matches('/')
        )
    }

    /// Mints an installation token for `installation_id` with the App `jwt`.
    pub async fn mint(
        &self,
        jwt: &SecretString,
        installation_id: u64,
        app_id: &str,
    ) -> Result<InstallationToken, GithubError> {
        let url = self.url(installation_id);
        let mut auth = HeaderValue::from_str(&format!("Bearer {}", jwt.expose_secret()))
            .map_err(|_| GithubError::Signing("the JWT is not a valid header value".into()))?;
        auth.set_sensitive(true);
        let response = self
            .http
            .post(&url)
            .header(ACCEPT, "application/vnd.github+json")
            .header("X-GitHub-Api-Version", API_VERSION)
            .header(AUTHORIZATION, auth)
            .send()
            .await
            .map_err(|e| self.transport_error(&url, &e))?;
        let status = response.status();
        let headers = response.headers().clone();
        let body = self.read_body(&url, response).await?;
        tracing::debug!(status = status.as_u16(), installation_id, "GitHub answered");

        if status == StatusCode::CREATED || status == StatusCode::OK {
            let answer: TokenAnswer =
                serde_json::from_slice(&body).map_err(|_| GithubError::GithubUnexpected {
                    url: url.clone(),
                    status: status.as_u16(),
                    detail: "no token in the answer".into(),
                })?;
            return Ok(InstallationToken {
                token: answer.token,
                expires_at: answer.expires_at,
            });
        }
        let message = github_message(&body);
        let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok()).map(str::trim);
        let retry_after = header("retry-after")
            .and_then(|v| v.parse::<u64>().ok())
            .map(Duration::from_secs);
        Err(match status {
            StatusCode::UNAUTHORIZED => GithubError::JwtRejected { message },
            StatusCode::NOT_FOUND => GithubError::InstallationNotFound {
                installation_id,
                app_id: app_id.to_string(),
                message,
            },
            StatusCode::TOO_MANY_REQUESTS => GithubError::GithubRateLimited { retry_after },
            StatusCode::FORBIDDEN if header("x-ratelimit-remaining") == Some("0") => {
                GithubError::GithubRateLimited { retry_after }
            }
            s if s.is_redirection() => GithubError::GithubUnexpected {
                url,
                status: s.as_u16(),
                detail: "a redirect (not followed)".into(),
            },
            s if s.is_client_error() => GithubError::GithubRefused {
                status: s.as_u16(),
                message,
            },
            s if s.is_server_error() => GithubError::GithubServer {
                status: s.as_u16(),
                message,
            },
            s => GithubError::GithubUnexpected {
                url,
                status: s.as_u16(),
                detail: message,
            },
        })
    }

    async fn read_body(
        &self,
        url: &str,
        mut response: reqwest::Response,
    ) -> Result<Zeroizing<Vec<u8>>, GithubError> {
        let mut body = Zeroizing::new(Vec::new());
        while let Some(chunk) = response
            .chunk()
            .await
            .map_err(|e| self.transport_error(url, &e))?
        {
            if body.len() + chunk.len() > MAX_BODY {
                return Err(GithubError::GithubUnexpected {
                    url: url.to_string(),
                    status: response.status().as_u16(),
                    detail: format!("an answer larger than {} KiB", MAX_BODY / 1024),
                });
            }
            body.extend_from_slice(&chunk);
        }
        Ok(body)
    }

    fn transport_error(&self, url: &str, e: &reqwest::Error) -> GithubError {
        if e.is_timeout() {
            return GithubError::GithubTimeout(self.timeout);
        }
        // The innermost cause names the real problem (DNS, refused, TLS).
        let mut detail = e.to_string();
        let mut source = std::error::Error::source(e);
        while let Some(s) = source {
            detail = s.to_string();
            source = s.source();
        }
        GithubError::GithubUnreachable {
            url: url.to_string(),
            detail,
        }
    }
}

/// GitHub's `message`, shortened and stripped of control characters; or a
/// note that the answer was not GitHub's JSON.
fn github_message(body: &[u8]) -> String {
    let parsed: GithubMessage = serde_json::from_slice(body).unwrap_or_default();
    if parsed.message.is_empty() {
        return "no message".into();
    }
    let clean: String = parsed
        .message
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .take(200)
        .collect();
    format!("\"{clean}\"")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_are_bounded_and_clean() {
        assert_eq!(github_message(b"<html>"), "no message");
        assert_eq!(
            github_message(br#"{"message":"Bad\ncredentials"}"#),
            "\"Bad credentials\""
        );
        let long = format!(r#"{{"message":"{}"}}"#, "x".repeat(500));
        assert_eq!(github_message(long.as_bytes()).len(), 202);
    }
}
