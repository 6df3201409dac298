//! The GitHub App JWT, per GitHub's rules: RS256, `iat` backdated 60 s for
//! clock drift, `exp` 9 minutes ahead (GitHub refuses more than 10), `iss`
//! the App ID (or client ID).
//!
//! Encoding a JWT is base64url(header) "." base64url(claims) "." base64url(sig);
//! the signature itself is ring's RSASSA-PKCS1-v1_5 with SHA-256. The result
//! is a [`SecretString`] from the moment it exists.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use ring::rand::SystemRandom;
use ring::signature::{RSA_PKCS1_SHA256, RsaKeyPair};
use secrecy::SecretString;
use serde::Serialize;
use zeroize::Zeroizing;

use super::error::GithubError;

/// How far `iat` is backdated, for a clock slightly ahead of GitHub's.
pub const BACKDATE: Duration = Duration::from_secs(60);
/// How far ahead of now `exp` lies (GitHub's limit is 10 minutes).
pub const LIFETIME: Duration = Duration::from_secs(9 * 60);

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Claims {
    pub iat: u64,
    pub exp: u64,
    pub iss: String,
}

impl Claims {
    /// The claims for a JWT issued at `now`.
    pub fn at(now: SystemTime, app_id: &str) -> Result<Self, GithubError> {
        let now = now.duration_since(UNIX_EPOCH).map_err(|_| GithubError::Clock)?;
        Ok(Self {
            iat: now.saturating_sub(BACKDATE).as_secs(),
            exp: (now + LIFETIME).as_secs(),
            iss: app_id.to_string(),
        })
    }
}

/// Signs `claims` with `key` into a compact RS256 JWT.
pub fn sign(claims: &Claims, key: &RsaKeyPair) -> Result<SecretString, GithubError> {
    let header = URL_SAFE_NO_PAD.encode(br#"{"alg":"RS256","typ":"JWT"}"#);
    let body = serde_json::to_vec(claims).map_err(|e| GithubError::Signing(e.to_string()))?;
    let mut jwt = Zeroizing::new(format!("{header}.{}", URL_SAFE_NO_PAD.encode(body)));
    let mut signature = Zeroizing::new(vec![0u8; key.public().modulus_len()]);
    key.sign(
        &RSA_PKCS1_SHA256,
        &SystemRandom::new(),
        jwt.as_bytes(),
        &mut signature,
    )
    .map_err(|_| GithubError::Signing("RSA signing failed".into()))?;
    jwt.push('.');
    jwt.push_str(&URL_SAFE_NO_PAD.encode(signature.as_slice()));
    Ok(SecretString::from(jwt.as_str()))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;

    #[test]
    fn claims_follow_githubs_rules() {
        let now = UNIX_EPOCH + Duration::from_secs(1_700_000_000);
        let c = Claims::at(now, "3501352").unwrap();
        assert_eq!(c.iat, 1_700_000_000 - 60);
        assert_eq!(c.exp, 1_700_000_000 + 540);
        assert!(c.exp - c.iat <= 600);
        assert_eq!(
            serde_json::to_string(&c).unwrap(),
            r#"{"iat":1699999940,"exp":1700000540,"iss":"3501352"}"#
        );
    }

    #[test]
    fn a_clock_before_1970_is_an_error() {
        let before = UNIX_EPOCH - Duration::from_secs(1);
        assert!(matches!(Claims::at(before, "1"), Err(GithubError::Clock)));
    }
}
