//! Universal-auth login, token renewal and revocation, on both generations
//! (docs/vault-api.md, "Authentication").

use std::sync::atomic::Ordering;

use serde::Serialize;

use super::super::errors::{ApiError, Reply, ok_json};
use super::super::tokens::{Minted, RenewError};
use super::super::{Generation, Shared, lock};
use super::{Ctx, body_string, json_body, rate_limit, token_failure};

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct TokenBody {
    access_token: String,
    expires_in: u64,
    #[serde(rename = "accessTokenMaxTTL")]
    access_token_max_ttl: u64,
    token_type: &'static str,
}

impl From<Minted> for TokenBody {
    fn from(m: Minted) -> Self {
        TokenBody {
            access_token: m.token,
            expires_in: m.expires_in,
            access_token_max_ttl: m.max_ttl,
            token_type: "Bearer",
        }
    }
}

pub(super) fn login(shared: &Shared, ctx: &Ctx<'_>) -> Result<Reply, ApiError> {
    shared.logins.fetch_add(1, Ordering::SeqCst);
    rate_limit(shared, ctx)?;
    let generation = shared.generation;
    let body = json_body(ctx, generation)?;
    let mut issues = Vec::new();
    let client_id = body_string(&body, "clientId", true, &mut issues);
    let client_secret = body_string(&body, "clientSecret", true, &mut issues);
    let (Some(client_id), Some(client_secret)) = (client_id, client_secret) else {
        return Err(ApiError::validation(generation, issues));
    };

    let Some(identity) = shared.identity(&client_id) else {
        return Err(match generation {
            Generation::Current => ApiError::unauthorized("Invalid credentials"),
            Generation::Legacy => {
                ApiError::not_found("NotFound", "No identity with specified client ID was found")
            }
        });
    };
    let mut tokens = lock(&shared.tokens);
    if shared.login_lockout && tokens.is_locked(&client_id) {
        return Err(ApiError::unauthorized(
            "This identity auth method is temporarily locked, please try again later",
        ));
    }
    let accepted = shared
        .org
        .check_secret(&client_id, &client_secret)
        .unwrap_or(identity.client_secret == client_secret);
    if !accepted {
        if shared.login_lockout {
            tokens.record_failure(&client_id);
        }
        return Err(ApiError::unauthorized("Invalid credentials"));
    }
    tokens.clear_failures(&client_id);
    let minted = tokens.issue(
        &client_id,
        identity.access_token_ttl,
        identity.access_token_max_ttl,
    );
    Ok(ok_json(&TokenBody::from(minted)))
}

pub(super) fn renew(shared: &Shared, ctx: &Ctx<'_>) -> Result<Reply, ApiError> {
    let token = body_token(shared, ctx)?;
    let keep_token = shared.generation == Generation::Legacy;
    let renewed = lock(&shared.tokens).renew(&token, keep_token);
    match renewed {
        Ok(minted) => Ok(ok_json(&TokenBody::from(minted))),
        Err(RenewError::Token(check)) => Err(token_failure(check)),
        Err(RenewError::MaxTtlExpired) => Err(ApiError::unauthorized(
            "Failed to renew MI access token due to Max TTL expiration",
        )),
        Err(RenewError::PastMaxTtl) => Err(ApiError::unauthorized(
            "Failed to renew MI access token past its Max TTL expiration",
        )),
    }
}

pub(super) fn revoke(shared: &Shared, ctx: &Ctx<'_>) -> Result<Reply, ApiError> {
    let token = body_token(shared, ctx)?;
    let mut tokens = lock(&shared.tokens);
    match tokens.check(&token) {
        super::TokenCheck::Valid { row, .. } => {
            tokens.revoke_row(&row);
            Ok(ok_json(
                &serde_json::json!({"message": "Successfully revoked access token"}),
            ))
        }
        other => Err(token_failure(other)),
    }
}

fn body_token(shared: &Shared, ctx: &Ctx<'_>) -> Result<String, ApiError> {
    rate_limit(shared, ctx)?;
    let body = json_body(ctx, shared.generation)?;
    let mut issues = Vec::new();
    body_string(&body, "accessToken", true, &mut issues)
        .ok_or_else(|| ApiError::validation(shared.generation, issues))
}
