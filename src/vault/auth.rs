//! The access token: obtained by universal-auth login, shared by every
//! concurrent caller (one login in flight at a time), renewed before it
//! expires, and replaced when the vault refuses it.
//!
//! The official server logs in once and never again, so after the token TTL
//! every call fails; this session does not.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use reqwest::{Method, StatusCode};
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;
use tokio::sync::Mutex;
use tokio::time::Instant;

use super::error::VaultError;
use super::http::{Request, Transport, gateway_error};
use crate::config::Credentials;

pub(crate) const LOGIN_PATH: &str = "/api/v1/auth/universal-auth/login";
pub(crate) const RENEW_PATH: &str = "/api/v1/auth/token/renew";

/// Renew once this share of the token's lifetime has passed, so a slow call
/// never starts with a token about to lapse.
const RENEW_AT_FRACTION: f64 = 0.75;

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct TokenAnswer {
    access_token: SecretString,
    #[serde(default)]
    expires_in: u64,
    #[serde(default, rename = "accessTokenMaxTTL")]
    access_token_max_ttl: u64,
}

/// A token and what we know of its lifetime.
struct Token {
    value: SecretString,
    /// Which login or renewal produced it; lets a caller that saw it refused
    /// invalidate exactly this one and not a newer one.
    generation: u64,
    /// When to stop using it as is (renew or log in again). `None`: no expiry.
    refresh_at: Option<Instant>,
    /// Renewal cannot extend past the max TTL, counted from the login.
    max_until: Option<Instant>,
    ttl: Duration,
}

impl Token {
    fn from_answer(
        answer: TokenAnswer,
        generation: u64,
        login_at: Instant,
        max_until: Option<Instant>,
    ) -> Self {
        let now = Instant::now();
        let ttl = Duration::from_secs(answer.expires_in);
        // The vault's numbers are not trusted to fit: a lifetime past what
        // the clock can represent is no expiry at all (the token is then used
        // until refused, and replaced by a login).
        let refresh_at = (answer.expires_in > 0)
            .then(|| now.checked_add(ttl.mul_f64(RENEW_AT_FRACTION)))
            .flatten();
        let max_until = max_until.or_else(|| {
            (answer.access_token_max_ttl > 0)
                .then(|| login_at.checked_add(Duration::from_secs(answer.access_token_max_ttl)))
                .flatten()
        });
        Self {
            value: answer.access_token,
            generation,
            refresh_at,
            max_until,
            ttl,
        }
    }

    fn fresh(&self) -> bool {
        self.refresh_at.is_none_or(|at| Instant::now() < at)
    }

    /// Renewal helps only while a whole new TTL still fits under the max TTL;
    /// older vaults even delete the token when asked to renew past it.
    fn renewable(&self) -> bool {
        !self.ttl.is_zero()
            && self
                .max_until
                .zip(Instant::now().checked_add(self.ttl))
                .is_some_and(|(max, renewed_until)| renewed_until < max)
    }
}

#[derive(serde::Serialize)]
#[serde(rename_all = "camelCase")]
struct LoginBody<'a> {
    client_id: &'a str,
    client_secret: &'a str,
}

#[derive(serde::Serialize)]
#[serde(rename_all = "camelCase")]
struct RenewBody<'a> {
    access_token: &'a str,
}

/// The login JSON, written straight from the borrowed secret into one
/// buffer sized for the worst case (every character escaped as `\uXXXX`),
/// so that no intermediate `String` or reallocation leaves an unwiped copy
/// behind; the `Request` holding it wipes it when dropped.
fn login_body(client_id: &str, client_secret: &SecretString) -> Result<Vec<u8>, VaultError> {
    let secret = client_secret.expose_secret();
    let mut out = Vec::with_capacity(64 + 6 * (client_id.len() + secret.len()));
    serde_json::to_writer(
        &mut out,
        &LoginBody {
            client_id,
            client_secret: secret,
        },
    )
    .map_err(|e| VaultError::Client(e.to_string()))?;
    Ok(out)
}

pub(crate) struct Session {
    credentials: Credentials,
    current: Mutex<Option<Token>>,
    next_generation: AtomicU64,
    logins: AtomicU64,
}

impl Session {
    pub fn new(credentials: Credentials) -> Self {
        Self {
            credentials,
            current: Mutex::new(None),
            next_generation: AtomicU64::new(1),
            logins: AtomicU64::new(0),
        }
    }

    pub fn is_pre_issued(&self) -> bool {
        matches!(self.credentials, Credentials::AccessToken(_))
    }

    /// How many universal-auth logins this session has made.
    pub fn login_count(&self) -> u64 {
        self.logins.load(Ordering::Relaxed)
    }

    /// A usable token and its generation. Concurrent callers wait on one
    /// lock, so only the first of them logs in; the rest reuse its token.
    pub async fn token(
        &self,
        transport: &Transport,
        deadline: Instant,
    ) -> Result<(SecretString, u64), VaultError> {
        let (client_id, client_secret) = match &self.credentials {
            Credentials::AccessToken(token) => return Ok((token.clone(), 0)),
            Credentials::UniversalAuth {
                client_id,
                client_secret,
            } => (client_id, client_secret),
        };
        let mut current = self.current.lock().await;
        if let Some(token) = current.as_ref().filter(|t| t.fresh()) {
            return Ok((token.value.clone(), token.generation));
        }
        if let Some(old) = current.take().filter(Token::renewable) {
            match self.renew(transport, &old, deadline).await {
                Ok(token) => {
                    let out = (token.value.clone(), token.generation);
                    *current = Some(token);
                    return Ok(out);
                }
                // A failed renewal is not fatal: a fresh login may still work.
                Err(e) => tracing::info!(error = %e, "token renewal failed; logging in again"),
            }
        }
        let token = self.login(transport, client_id, client_secret, deadline).await?;
        let out = (token.value.clone(), token.generation);
        *current = Some(token);
        Ok(out)
    }

    /// Forgets the token of `generation` after the vault refused it, unless a
    /// newer one has already replaced it.
    pub async fn invalidate(&self, generation: u64) {
        let mut current = self.current.lock().await;
        if current.as_ref().is_some_and(|t| t.generation == generation) {
            *current = None;
        }
    }

    async fn login(
        &self,
        transport: &Transport,
        client_id: &str,
        client_secret: &SecretString,
        deadline: Instant,
    ) -> Result<Token, VaultError> {
        let request = Request {
            method: Method::POST,
            path: LOGIN_PATH.into(),
            query: Vec::new(),
            body: Some(login_body(client_id, client_secret)?),
            // A second login only mints a second token: safe to retry when the
            // first never arrived.
            idempotent: true,
        };
        let login_at = Instant::now();
        self.logins.fetch_add(1, Ordering::Relaxed);
        let answer = transport.execute(&request, None, deadline).await?;
        let url = transport.url(LOGIN_PATH);
        if let Some(e) = gateway_error(&url, &answer) {
            return Err(e);
        }
        if !answer.is_success() {
            let message = answer.api_error().text();
            return Err(match answer.status {
                // Older vaults say 404 for an unknown client id, and 401 for a
                // body they cannot validate.
                StatusCode::UNAUTHORIZED | StatusCode::FORBIDDEN | StatusCode::NOT_FOUND => {
                    VaultError::BadCredentials { message }
                }
                s if s.is_client_error() => VaultError::BadRequest {
                    status: s.as_u16(),
                    message,
                },
                s => VaultError::Server {
                    status: s.as_u16(),
                    message,
                },
            });
        }
        let parsed: TokenAnswer =
            serde_json::from_slice(&answer.body).map_err(|_| VaultError::UnexpectedResponse {
                url,
                status: answer.status.as_u16(),
                detail: "login answer is not Infisical's token JSON".into(),
            })?;
        let generation = self.next_generation.fetch_add(1, Ordering::Relaxed);
        tracing::info!(
            generation,
            ttl_s = parsed.expires_in,
            "logged in with universal auth"
        );
        Ok(Token::from_answer(parsed, generation, login_at, None))
    }

    async fn renew(
        &self,
        transport: &Transport,
        old: &Token,
        deadline: Instant,
    ) -> Result<Token, VaultError> {
        let token = old.value.expose_secret();
        let mut body = Vec::with_capacity(32 + 6 * token.len());
        serde_json::to_writer(&mut body, &RenewBody { access_token: token })
            .map_err(|e| VaultError::Client(e.to_string()))?;
        let request = Request {
            method: Method::POST,
            path: RENEW_PATH.into(),
            query: Vec::new(),
            body: Some(body),
            idempotent: false,
        };
        let answer = transport.execute(&request, None, deadline).await?;
        let url = transport.url(RENEW_PATH);
        if let Some(e) = gateway_error(&url, &answer) {
            return Err(e);
        }
        if !answer.is_success() {
            return Err(VaultError::TokenRejected {
                message: answer.api_error().text(),
                pre_issued: false,
            });
        }
        let parsed: TokenAnswer =
            serde_json::from_slice(&answer.body).map_err(|_| VaultError::UnexpectedResponse {
                url,
                status: answer.status.as_u16(),
                detail: "renew answer is not Infisical's token JSON".into(),
            })?;
        let generation = self.next_generation.fetch_add(1, Ordering::Relaxed);
        tracing::info!(generation, "renewed access token");
        Ok(Token::from_answer(
            parsed,
            generation,
            Instant::now(),
            old.max_until,
        ))
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;

    #[test]
    fn the_login_body_is_infisicals_json_and_fits_its_buffer() {
        let secret = SecretString::from("s\"e\u{1}cr\u{e9}t");
        let body = login_body("id-1", &secret).unwrap();
        let v: serde_json::Value = serde_json::from_slice(&body).unwrap();
        assert_eq!(v["clientId"], "id-1");
        assert_eq!(v["clientSecret"], "s\"e\u{1}cr\u{e9}t");
        // No reallocation happened: the first buffer is the only one.
        assert!(body.len() <= 64 + 6 * (4 + secret.expose_secret().len()));
    }

    #[test]
    fn lifetimes_past_the_clocks_range_are_no_expiry_not_a_panic() {
        for (expires_in, max_ttl) in [
            (u64::MAX, u64::MAX),
            (u64::MAX, 0),
            (0, u64::MAX),
            (1, u64::MAX - 1),
        ] {
            let answer: TokenAnswer = serde_json::from_value(serde_json::json!({
                "accessToken": "t", "expiresIn": expires_in, "accessTokenMaxTTL": max_ttl
            }))
            .unwrap();
            let token = Token::from_answer(answer, 1, Instant::now(), None);
            let _ = (token.fresh(), token.renewable());
        }
        let answer: TokenAnswer =
            serde_json::from_value(serde_json::json!({"accessToken": "t", "expiresIn": u64::MAX})).unwrap();
        let token = Token::from_answer(answer, 1, Instant::now(), None);
        assert!(token.refresh_at.is_none() && token.fresh() && !token.renewable());
    }
}
