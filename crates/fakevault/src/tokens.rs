//! Access tokens: minting JWT-shaped strings, and the lifecycle Infisical
//! gives them (expiry, renewal within the max TTL, revocation), plus the
//! universal-auth login lockout. Tokens are opaque to the fake: validity comes
//! from this store, not from a signature.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use rand::Rng;
use rand::distr::Alphanumeric;

/// Failures within this window count towards a lockout…
const LOCKOUT_WINDOW: Duration = Duration::from_secs(30);
/// …of this many failures…
const LOCKOUT_THRESHOLD: usize = 3;
/// …which then lasts this long (Infisical's defaults).
const LOCKOUT_DURATION: Duration = Duration::from_secs(300);

/// One `identity_access_tokens` row: renewals mint new JWTs for the same row.
struct TokenRow {
    client_id: String,
    created: Instant,
    ttl: Duration,
    max_ttl: Duration,
    revoked: bool,
}

struct Jwt {
    row: String,
    expires_at: Option<Instant>,
    force_expired: bool,
}

/// What the auth layer concludes about a presented token.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum TokenCheck {
    Valid {
        client_id: String,
        row: String,
    },
    /// Not JWT-shaped at all.
    Malformed,
    /// JWT-shaped but never issued here: a signature failure in Infisical.
    BadSignature,
    Expired,
    /// Revoked, or deleted by a failed renewal.
    Revoked,
}

/// Why a renewal was refused.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum RenewError {
    Token(TokenCheck),
    MaxTtlExpired,
    PastMaxTtl,
}

/// A freshly minted token and the lifetimes to report with it.
pub(crate) struct Minted {
    pub(crate) token: String,
    pub(crate) expires_in: u64,
    pub(crate) max_ttl: u64,
}

#[derive(Default)]
pub(crate) struct TokenStore {
    rows: HashMap<String, TokenRow>,
    jwts: HashMap<String, Jwt>,
    failures: HashMap<String, Vec<Instant>>,
    locked_until: HashMap<String, Instant>,
}

impl TokenStore {
    pub(crate) fn issue(&mut self, client_id: &str, ttl: Duration, max_ttl: Duration) -> Minted {
        let row = random_string(24);
        self.rows.insert(
            row.clone(),
            TokenRow {
                client_id: client_id.to_owned(),
                created: Instant::now(),
                ttl,
                max_ttl,
                revoked: false,
            },
        );
        self.mint_for_row(&row, client_id, ttl, max_ttl)
    }

    fn mint_for_row(&mut self, row: &str, client_id: &str, ttl: Duration, max_ttl: Duration) -> Minted {
        let token = fake_jwt(client_id, row, ttl);
        let expires_at = (!ttl.is_zero()).then(|| Instant::now() + ttl);
        self.jwts.insert(
            token.clone(),
            Jwt {
                row: row.to_owned(),
                expires_at,
                force_expired: false,
            },
        );
        Minted {
            token,
            expires_in: ttl.as_secs(),
            max_ttl: max_ttl.as_secs(),
        }
    }

    /// Checks in Infisical's order: JWT verification (403s) before the
    /// database lookup (401).
    pub(crate) fn check(&self, token: &str) -> TokenCheck {
        let Some(jwt) = self.jwts.get(token) else {
            return if looks_like_jwt(token) {
                TokenCheck::BadSignature
            } else {
                TokenCheck::Malformed
            };
        };
        if jwt.force_expired || jwt.expires_at.is_some_and(|t| Instant::now() >= t) {
            return TokenCheck::Expired;
        }
        match self.rows.get(&jwt.row) {
            Some(row) if !row.revoked => TokenCheck::Valid {
                client_id: row.client_id.clone(),
                row: jwt.row.clone(),
            },
            _ => TokenCheck::Revoked,
        }
    }

    /// A new JWT for the same row, unless that would outlive the max TTL, in
    /// which case the row is deleted (observed on the 2024 build too). With
    /// `keep_token` the same JWT string comes back with its lifetime
    /// extended, as the recorded 2024 build answers.
    pub(crate) fn renew(&mut self, token: &str, keep_token: bool) -> Result<Minted, RenewError> {
        let (client_id, row_id) = match self.check(token) {
            TokenCheck::Valid { client_id, row } => (client_id, row),
            other => return Err(RenewError::Token(other)),
        };
        let Some(row) = self.rows.get(&row_id) else {
            return Err(RenewError::Token(TokenCheck::Revoked));
        };
        let (ttl, max_ttl) = (row.ttl, row.max_ttl);
        if !max_ttl.is_zero() {
            let max_expiry = row.created + max_ttl;
            let now = Instant::now();
            if now > max_expiry {
                return Err(RenewError::MaxTtlExpired);
            }
            // `ttl >= max_ttl` makes the equal-TTL case deterministic: any renewal
            // after issue would pass the max, whatever the clock resolution.
            if ttl >= max_ttl || now + ttl > max_expiry {
                self.rows.remove(&row_id);
                return Err(RenewError::PastMaxTtl);
            }
        }
        if keep_token {
            if let Some(jwt) = self.jwts.get_mut(token) {
                jwt.expires_at = (!ttl.is_zero()).then(|| Instant::now() + ttl);
            }
            return Ok(Minted {
                token: token.to_owned(),
                expires_in: ttl.as_secs(),
                max_ttl: max_ttl.as_secs(),
            });
        }
        Ok(self.mint_for_row(&row_id, &client_id, ttl, max_ttl))
    }

    pub(crate) fn revoke_row(&mut self, row: &str) {
        if let Some(r) = self.rows.get_mut(row) {
            r.revoked = true;
        }
    }

    pub(crate) fn expire_all(&mut self) {
        self.jwts.values_mut().for_each(|j| j.force_expired = true);
    }

    pub(crate) fn revoke_all(&mut self) {
        self.rows.values_mut().for_each(|r| r.revoked = true);
    }

    pub(crate) fn is_locked(&self, client_id: &str) -> bool {
        self.locked_until
            .get(client_id)
            .is_some_and(|t| Instant::now() < *t)
    }

    pub(crate) fn record_failure(&mut self, client_id: &str) {
        let now = Instant::now();
        let failures = self.failures.entry(client_id.to_owned()).or_default();
        failures.retain(|t| now.duration_since(*t) < LOCKOUT_WINDOW);
        failures.push(now);
        if failures.len() >= LOCKOUT_THRESHOLD {
            failures.clear();
            self.locked_until
                .insert(client_id.to_owned(), now + LOCKOUT_DURATION);
        }
    }

    pub(crate) fn clear_failures(&mut self, client_id: &str) {
        self.failures.remove(client_id);
    }
}

fn looks_like_jwt(token: &str) -> bool {
    let parts: Vec<&str> = token.split('.').collect();
    parts.len() == 3
        && token.starts_with("eyJ")
        && parts.iter().all(|p| {
            !p.is_empty()
                && p.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        })
}

/// `header.payload.signature` with Infisical's payload fields; the signature
/// is random bytes, so every token is unique and unguessable.
fn fake_jwt(client_id: &str, row: &str, ttl: Duration) -> String {
    let iat = time::OffsetDateTime::now_utc().unix_timestamp();
    let exp = if ttl.is_zero() {
        String::new()
    } else {
        format!(
            r#","exp":{}"#,
            iat.saturating_add(i64::try_from(ttl.as_secs()).unwrap_or(i64::MAX))
        )
    };
    let payload = format!(
        r#"{{"identityId":"{}","clientSecretId":"{}","identityAccessTokenId":"{row}","authTokenType":"identityAccessToken","iat":{iat}{exp}}}"#,
        crate::data::stable_id(&["identity", client_id]),
        crate::data::stable_id(&["client-secret", client_id]),
    );
    let mut signature = [0u8; 32];
    rand::rng().fill(&mut signature);
    format!(
        "{}.{}.{}",
        base64url(br#"{"alg":"HS256","typ":"JWT"}"#),
        base64url(payload.as_bytes()),
        base64url(&signature)
    )
}

pub(crate) fn random_string(len: usize) -> String {
    rand::rng()
        .sample_iter(Alphanumeric)
        .take(len)
        .map(char::from)
        .collect()
}

/// Unpadded base64url, enough for token shapes.
pub(crate) fn base64url(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let n = chunk
            .iter()
            .enumerate()
            .fold(0u32, |acc, (i, &b)| acc | (u32::from(b) << (16 - 8 * i)));
        for i in 0..=chunk.len() {
            out.push(char::from(ALPHABET[((n >> (18 - 6 * i)) & 63) as usize]));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64url_matches_known_vectors() {
        assert_eq!(base64url(b"f"), "Zg");
        assert_eq!(base64url(b"fo"), "Zm8");
        assert_eq!(base64url(b"foo"), "Zm9v");
        assert_eq!(
            base64url(br#"{"alg":"HS256","typ":"JWT"}"#),
            "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9"
        );
    }

    #[test]
    fn lifecycle() {
        let mut store = TokenStore::default();
        let day = Duration::from_secs(86_400);
        let t = store.issue("c", day, day * 2).token;
        assert!(looks_like_jwt(&t));
        assert!(matches!(store.check(&t), TokenCheck::Valid { .. }));
        assert_eq!(store.check("garbage"), TokenCheck::Malformed);
        assert_eq!(store.check("eyJa.eyJb.c"), TokenCheck::BadSignature);
        let kept = store.renew(&t, true).map(|m| m.token).unwrap_or_default();
        assert_eq!(kept, t);
        let renewed = store.renew(&t, false).map(|m| m.token).unwrap_or_default();
        assert_ne!(renewed, t);
        assert!(matches!(store.check(&renewed), TokenCheck::Valid { .. }));
        store.expire_all();
        assert_eq!(store.check(&renewed), TokenCheck::Expired);

        let same = store.issue("c", day, day).token;
        assert!(matches!(store.renew(&same, true), Err(RenewError::PastMaxTtl)));
        assert_eq!(store.check(&same), TokenCheck::Revoked);
    }

    #[test]
    fn lockout_after_three_failures() {
        let mut store = TokenStore::default();
        for _ in 0..3 {
            assert!(!store.is_locked("c"));
            store.record_failure("c");
        }
        assert!(store.is_locked("c"));
    }
}
