//! Universal auth on an identity: attaching it (TTLs, trusted IPs) and its
//! client secrets (create, list, revoke).

use super::*;

/// `0.0.0.0/0` → `{type:"ipv4", prefix:0, ipAddress:"0.0.0.0"}`, as stored.
pub(super) fn trusted_ip(raw: &Value) -> Option<Value> {
    let text = raw.get("ipAddress")?.as_str()?.trim();
    let (address, prefix) = match text.split_once('/') {
        Some((a, p)) => (a, p.parse::<u8>().ok()?),
        None if text.contains(':') => (text, 128),
        None => (text, 32),
    };
    let kind = if address.contains(':') { "ipv6" } else { "ipv4" };
    Some(json!({"type": kind, "prefix": prefix, "ipAddress": address}))
}

pub(super) fn trusted_ips(
    body: &serde_json::Map<String, Value>,
    field: &str,
    issues: &mut Vec<Value>,
) -> Vec<Value> {
    match body.get(field) {
        None => vec![
            json!({"type": "ipv4", "prefix": 0, "ipAddress": "0.0.0.0"}),
            json!({"type": "ipv6", "prefix": 0, "ipAddress": "::"}),
        ],
        Some(Value::Array(items)) => {
            let parsed: Vec<Value> = items.iter().filter_map(trusted_ip).collect();
            if parsed.len() != items.len() {
                issues.push(json!({"code": "custom", "message": "The IP is not a valid IPv4, IPv6, or CIDR block", "path": [field]}));
            }
            parsed
        }
        Some(_) => {
            issues.push(type_issue(field, "array", "object"));
            Vec::new()
        }
    }
}

pub(super) fn number_field(
    body: &serde_json::Map<String, Value>,
    field: &str,
    default: u64,
    issues: &mut Vec<Value>,
) -> u64 {
    match body.get(field) {
        None => default,
        Some(v) => v.as_u64().unwrap_or_else(|| {
            issues.push(type_issue(field, "number", "string"));
            default
        }),
    }
}

pub(super) fn ua_json(ua: &UniversalAuth, identity_id: &str) -> Value {
    json!({
        "id": ua.id,
        "clientId": ua.client_id,
        "accessTokenTTL": ua.ttl,
        "accessTokenMaxTTL": ua.max_ttl,
        "accessTokenNumUsesLimit": ua.num_uses_limit,
        "clientSecretTrustedIps": ua.client_secret_ips,
        "accessTokenTrustedIps": ua.access_token_ips,
        "createdAt": ua.created_at,
        "updatedAt": ua.updated_at,
        "identityId": identity_id,
    })
}

pub(super) fn attach_ua(shared: &Shared, ctx: &Ctx<'_>, id: &str) -> Result<Reply, ApiError> {
    let generation = shared.generation;
    let body = json_body(ctx, generation)?;
    let mut issues = Vec::new();
    let ttl = number_field(&body, "accessTokenTTL", DEFAULT_TTL, &mut issues);
    let max_ttl = number_field(&body, "accessTokenMaxTTL", DEFAULT_TTL, &mut issues);
    let num_uses_limit = number_field(&body, "accessTokenNumUsesLimit", 0, &mut issues);
    let access_token_ips = trusted_ips(&body, "accessTokenTrustedIps", &mut issues);
    let client_secret_ips = trusted_ips(&body, "clientSecretTrustedIps", &mut issues);
    if !issues.is_empty() {
        return Err(ApiError::validation(generation, issues));
    }
    manager(shared, ctx, "create")?;
    let mut state = lock(&shared.org.state);
    let identity =
        find(&mut state, id).ok_or_else(|| ApiError::not_found("NotFound", "Failed to find identity"))?;
    if identity.ua.is_some() {
        return Err(ApiError::bad_request(
            "Failed to add universal auth to already configured identity",
        ));
    }
    if ttl > max_ttl {
        return Err(ApiError::bad_request(
            "Access token TTL cannot be greater than max TTL",
        ));
    }
    let now = now_iso();
    let ua = UniversalAuth {
        id: new_uuid(),
        client_id: new_uuid(),
        ttl,
        max_ttl,
        num_uses_limit,
        access_token_ips,
        client_secret_ips,
        created_at: now.clone(),
        updated_at: now.clone(),
    };
    identity.updated_at = now;
    let answer = json!({"identityUniversalAuth": ua_json(&ua, id)});
    identity.ua = Some(ua);
    Ok(ok_json(&answer))
}

pub(super) fn get_ua(shared: &Shared, ctx: &Ctx<'_>, id: &str) -> Result<Reply, ApiError> {
    manager(shared, ctx, "read")?;
    let mut state = lock(&shared.org.state);
    let identity =
        find(&mut state, id).ok_or_else(|| ApiError::not_found("NotFound", "Failed to find identity"))?;
    let ua = identity
        .ua
        .as_ref()
        .ok_or_else(|| ApiError::bad_request("The identity does not have universal auth"))?;
    Ok(ok_json(&json!({"identityUniversalAuth": ua_json(ua, id)})))
}

pub(super) fn secret_json(s: &ClientSecret, ua_id: &str) -> Value {
    json!({
        "id": s.id,
        "createdAt": s.created_at,
        "updatedAt": s.updated_at,
        "description": s.description,
        "clientSecretPrefix": s.value.get(..4).unwrap_or(""),
        "clientSecretNumUses": s.num_uses,
        "clientSecretNumUsesLimit": s.num_uses_limit,
        "clientSecretTTL": s.ttl,
        "identityUAId": ua_id,
        "isClientSecretRevoked": s.revoked,
    })
}

pub(super) fn with_ua<'a>(
    state: &'a mut OrgState,
    id: &str,
) -> Result<(&'a mut ManagedIdentity, String), ApiError> {
    let identity =
        find(state, id).ok_or_else(|| ApiError::not_found("NotFound", "Failed to find identity"))?;
    let ua_id = identity
        .ua
        .as_ref()
        .map(|u| u.id.clone())
        .ok_or_else(|| ApiError::not_found("NotFound", "Failed to find identity"))?;
    Ok((identity, ua_id))
}

pub(super) fn create_client_secret(shared: &Shared, ctx: &Ctx<'_>, id: &str) -> Result<Reply, ApiError> {
    let generation = shared.generation;
    let body = json_body(ctx, generation)?;
    let mut issues = Vec::new();
    let description = body_string(&body, "description", false, &mut issues).unwrap_or_default();
    let ttl = number_field(&body, "ttl", 0, &mut issues);
    let num_uses_limit = number_field(&body, "numUsesLimit", 0, &mut issues);
    if !issues.is_empty() {
        return Err(ApiError::validation(generation, issues));
    }
    manager(shared, ctx, "create")?;
    let mut state = lock(&shared.org.state);
    let (identity, ua_id) = with_ua(&mut state, id)?;
    let now = now_iso();
    let secret = ClientSecret {
        id: new_uuid(),
        value: format!("{}{}", random_string(32), random_string(32)).to_lowercase(),
        description,
        ttl,
        num_uses_limit,
        num_uses: 0,
        revoked: false,
        created_at: now.clone(),
        updated_at: now,
    };
    let answer = json!({
        "clientSecret": secret.value,
        "clientSecretData": secret_json(&secret, &ua_id),
    });
    identity.secrets.push(secret.clone());
    state.issued_secrets.push(secret.value);
    Ok(ok_json(&answer))
}

pub(super) fn list_client_secrets(shared: &Shared, ctx: &Ctx<'_>, id: &str) -> Result<Reply, ApiError> {
    manager(shared, ctx, "read")?;
    let mut state = lock(&shared.org.state);
    let (identity, ua_id) = with_ua(&mut state, id)?;
    let data: Vec<Value> = identity
        .secrets
        .iter()
        .filter(|s| !s.revoked)
        .map(|s| secret_json(s, &ua_id))
        .collect();
    Ok(ok_json(&json!({ "clientSecretData": data })))
}

pub(super) fn revoke_client_secret(
    shared: &Shared,
    ctx: &Ctx<'_>,
    id: &str,
    secret_id: &str,
) -> Result<Reply, ApiError> {
    manager(shared, ctx, "delete")?;
    let mut state = lock(&shared.org.state);
    let (identity, ua_id) = with_ua(&mut state, id)?;
    let secret = identity
        .secrets
        .iter_mut()
        .find(|s| s.id == secret_id)
        .ok_or_else(|| ApiError::not_found("NotFound", "Failed to find client secret"))?;
    secret.revoked = true;
    secret.updated_at = now_iso();
    Ok(ok_json(&json!({"clientSecretData": secret_json(secret, &ua_id)})))
}
