//! Identity management routes, with the bodies, errors and permission checks
//! recorded on the 2024 build (`tests/fixtures/real-infisical/` sections 14–18) and
//! read in the current source: identities, universal auth and its client
//! secrets, project memberships, and additional privileges (v2 on current
//! builds only; the v1 `additional-privilege/identity` routes on both).
//! Only an identity allowed to manage identities may call them.

use hyper::{Method, StatusCode};
use serde_json::{Value, json};

use super::super::data::stable_id;
use super::super::errors::{ApiError, Reply, ok_json, type_issue};
use super::super::org::{ClientSecret, ManagedIdentity, Membership, OrgState, Privilege, UniversalAuth};
use super::super::permissions::{Action, PermissionRule};
use super::super::tokens::{TokenCheck, random_string};
use super::super::{Generation, Shared, lock, read};
use super::projects::now_iso;
use super::{Ctx, Query, body_string, json_body, percent_decode, token_failure};

const DEFAULT_TTL: u64 = 2_592_000;

/// The identity routes and the folder writes the onboarding needs, or
/// `None` for any other route. An injected failure answers first.
pub(crate) fn route(shared: &Shared, ctx: &Ctx<'_>, segs: &[&str]) -> Option<Result<Reply, ApiError>> {
    if let Some(status) = shared.org.take_injected(ctx.method.as_str(), ctx.path) {
        let status = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        return Some(Err(if status == StatusCode::INTERNAL_SERVER_ERROR {
            ApiError::internal()
        } else {
            ApiError::new(status, "InjectedFailure", "injected by the test")
        }));
    }
    let current = shared.generation == Generation::Current;
    let m = ctx.method;
    let d = percent_decode;
    Some(match segs {
        ["api", "v2", "organizations", org, "identity-memberships"] if m == Method::GET => {
            list_org(shared, ctx, &d(org))
        }
        ["api", "v1", "identities"] if m == Method::POST => create_identity(shared, ctx),
        ["api", "v1", "identities", id] if m == Method::GET => get_identity(shared, ctx, &d(id)),
        ["api", "v1", "identities", id] if m == Method::DELETE => delete_identity(shared, ctx, &d(id)),
        ["api", "v1", "auth", "universal-auth", "identities", id] if m == Method::POST => {
            attach_ua(shared, ctx, &d(id))
        }
        ["api", "v1", "auth", "universal-auth", "identities", id] if m == Method::GET => {
            get_ua(shared, ctx, &d(id))
        }
        [
            "api",
            "v1",
            "auth",
            "universal-auth",
            "identities",
            id,
            "client-secrets",
        ] if m == Method::POST => create_client_secret(shared, ctx, &d(id)),
        [
            "api",
            "v1",
            "auth",
            "universal-auth",
            "identities",
            id,
            "client-secrets",
        ] if m == Method::GET => list_client_secrets(shared, ctx, &d(id)),
        [
            "api",
            "v1",
            "auth",
            "universal-auth",
            "identities",
            id,
            "client-secrets",
            sid,
            "revoke",
        ] if m == Method::POST => revoke_client_secret(shared, ctx, &d(id), &d(sid)),
        ["api", "v2", "workspace", project, "identity-memberships", id] if m == Method::POST => {
            create_membership(shared, ctx, &d(project), &d(id))
        }
        ["api", "v2", "workspace", project, "identity-memberships", id] if m == Method::GET => {
            get_membership(shared, ctx, &d(project), &d(id))
        }
        ["api", "v2", "workspace", project, "identity-memberships", id] if m == Method::DELETE => {
            delete_membership(shared, ctx, &d(project), &d(id))
        }
        // The current build's name for the same membership routes.
        ["api", "v1", "projects", project, "memberships", "identities", id] if current => match *m {
            Method::POST => create_membership(shared, ctx, &d(project), &d(id)),
            Method::GET => get_membership(shared, ctx, &d(project), &d(id)),
            Method::DELETE => delete_membership(shared, ctx, &d(project), &d(id)),
            _ => return None,
        },
        ["api", "v2", "identity-project-additional-privilege"] if current && m == Method::POST => {
            create_privilege(shared, ctx, PrivilegeApi::V2)
        }
        ["api", "v2", "identity-project-additional-privilege"] if current && m == Method::GET => {
            list_privileges(shared, ctx, PrivilegeApi::V2)
        }
        ["api", "v2", "identity-project-additional-privilege", id] if current && m == Method::DELETE => {
            delete_privilege_v2(shared, ctx, &d(id))
        }
        ["api", "v1", "additional-privilege", "identity", "permanent"] if m == Method::POST => {
            create_privilege(shared, ctx, PrivilegeApi::V1)
        }
        ["api", "v1", "additional-privilege", "identity"] if m == Method::GET => {
            list_privileges(shared, ctx, PrivilegeApi::V1)
        }
        ["api", "v1", "additional-privilege", "identity"] if m == Method::DELETE => {
            delete_privilege_v1(shared, ctx)
        }
        ["api", "v1", "folders"] if m == Method::POST => super::folder_writes::create(shared, ctx),
        ["api", "v1", "folders", name] if m == Method::DELETE => {
            super::folder_writes::delete(shared, ctx, &d(name))
        }
        _ => return None,
    })
}

/// A fresh v4 UUID.
pub(crate) fn new_uuid() -> String {
    stable_id(&[&random_string(32)])
}

pub(crate) fn new_identity(name: &str, org_id: &str, role: &str) -> ManagedIdentity {
    let now = now_iso();
    ManagedIdentity {
        id: new_uuid(),
        name: name.to_owned(),
        org_id: org_id.to_owned(),
        org_membership_id: new_uuid(),
        role: role.to_owned(),
        created_at: now.clone(),
        updated_at: now,
        ua: None,
        secrets: Vec::new(),
        memberships: Vec::new(),
        privileges: Vec::new(),
    }
}

/// Token check, then the org permission `action` on `identity`: only
/// identities allowed to manage identities pass.
fn manager(shared: &Shared, ctx: &Ctx<'_>, action: &str) -> Result<(), ApiError> {
    let client_id = counted_caller(shared, ctx)?;
    require_manager(shared, &client_id, action)
}

/// The caller's client id after the token check, counted by the limiter
/// (which runs after authentication and before body validation).
fn counted_caller(shared: &Shared, ctx: &Ctx<'_>) -> Result<String, ApiError> {
    let Some(header) = ctx.headers.get("authorization").and_then(|v| v.to_str().ok()) else {
        return Err(ApiError::unauthorized("Token missing"));
    };
    let token = header.get(7..).unwrap_or("");
    let check = lock(&shared.tokens).check(token);
    match check {
        TokenCheck::Valid { client_id, .. } => {
            if shared.org.is_deleted(&client_id) {
                return Err(ApiError::unauthorized("No identity access token found"));
            }
            super::rate_limit(shared, ctx)?;
            Ok(client_id)
        }
        other => Err(token_failure(other)),
    }
}

/// The org permission `action` on `identity`.
fn require_manager(shared: &Shared, client_id: &str, action: &str) -> Result<(), ApiError> {
    if shared.org.is_manager(client_id) {
        Ok(())
    } else {
        Err(identity_denied(action))
    }
}

fn identity_denied(action: &str) -> ApiError {
    ApiError::new(
        StatusCode::FORBIDDEN,
        "PermissionDenied",
        format!("You are not allowed to {action} on identity"),
    )
}

fn identity_not_found(id: &str) -> ApiError {
    ApiError::not_found("NotFound", format!("Failed to find identity with id {id}"))
}

fn find<'a>(state: &'a mut OrgState, id: &str) -> Option<&'a mut ManagedIdentity> {
    state.identities.iter_mut().find(|i| i.id == id)
}

fn identity_json(i: &ManagedIdentity, generation: Generation) -> Value {
    let auth_method = i.ua.as_ref().map(|_| "universal-auth");
    let mut v = json!({
        "id": i.id,
        "name": i.name,
        "authMethod": auth_method,
        "createdAt": i.created_at,
        "updatedAt": i.updated_at,
    });
    if generation == Generation::Current {
        v["authMethods"] = json!(auth_method.into_iter().collect::<Vec<_>>());
        v["orgId"] = json!(i.org_id);
    }
    v
}

fn short_identity(i: &ManagedIdentity, generation: Generation) -> Value {
    let auth_method = i.ua.as_ref().map(|_| "universal-auth");
    match generation {
        Generation::Legacy => json!({"name": i.name, "id": i.id, "authMethod": auth_method}),
        Generation::Current => json!({
            "name": i.name, "id": i.id, "authMethod": auth_method,
            "authMethods": auth_method.into_iter().collect::<Vec<_>>(),
        }),
    }
}

fn org_membership_json(i: &ManagedIdentity, generation: Generation) -> Value {
    json!({
        "id": i.org_membership_id,
        "role": i.role,
        "roleId": null,
        "orgId": i.org_id,
        "createdAt": i.created_at,
        "updatedAt": i.updated_at,
        "identityId": i.id,
        "identity": short_identity(i, generation),
    })
}

fn org_known(shared: &Shared, org_id: &str) -> bool {
    read(&shared.data).projects.iter().any(|p| p.org_id == org_id)
}

fn list_org(shared: &Shared, ctx: &Ctx<'_>, org_id: &str) -> Result<Reply, ApiError> {
    manager(shared, ctx, "read")?;
    let mut q = Query::new(ctx);
    q.number("offset");
    let limit = q.number("limit").unwrap_or(100) as usize;
    // The 2024 build drops unknown query keys; current filters by name
    // (`textFilter` in earlier current builds, `search` in the newest).
    let filter = if shared.generation == Generation::Current {
        let text = q.string("textFilter").unwrap_or("");
        q.string("search").unwrap_or(text).to_owned()
    } else {
        String::new()
    };
    q.finish(shared.generation)?;
    if !org_known(shared, org_id) {
        return Err(ApiError::forbidden("You are not allowed to access this resource"));
    }
    let state = lock(&shared.org.state);
    let mut items: Vec<&ManagedIdentity> = state
        .identities
        .iter()
        .filter(|i| i.org_id == org_id && i.name.to_lowercase().contains(&filter.to_lowercase()))
        .collect();
    items.sort_by(|a, b| a.name.cmp(&b.name));
    let total = items.len();
    let memberships: Vec<Value> = items
        .into_iter()
        .take(limit)
        .map(|i| org_membership_json(i, shared.generation))
        .collect();
    Ok(ok_json(
        &json!({"identityMemberships": memberships, "totalCount": total}),
    ))
}

fn create_identity(shared: &Shared, ctx: &Ctx<'_>) -> Result<Reply, ApiError> {
    let generation = shared.generation;
    let body = json_body(ctx, generation)?;
    let mut issues = Vec::new();
    let name = body_string(&body, "name", true, &mut issues);
    let org_id = body_string(&body, "organizationId", true, &mut issues);
    let role = body_string(&body, "role", false, &mut issues).unwrap_or_else(|| "no-access".into());
    let (Some(name), Some(org_id), true) = (name, org_id, issues.is_empty()) else {
        return Err(ApiError::validation(generation, issues));
    };
    manager(shared, ctx, "create")?;
    if !org_known(shared, &org_id) {
        return Err(ApiError::forbidden("You are not allowed to access this resource"));
    }
    let identity = new_identity(&name, &org_id, &role);
    let answer = json!({"identity": identity_json(&identity, generation)});
    lock(&shared.org.state).identities.push(identity);
    Ok(ok_json(&answer))
}

fn get_identity(shared: &Shared, ctx: &Ctx<'_>, id: &str) -> Result<Reply, ApiError> {
    manager(shared, ctx, "read")?;
    let mut state = lock(&shared.org.state);
    let identity = find(&mut state, id).ok_or_else(|| identity_not_found(id))?;
    let mut body = org_membership_json(identity, shared.generation);
    body["metadata"] = json!([]);
    Ok(ok_json(&json!({ "identity": body })))
}

fn delete_identity(shared: &Shared, ctx: &Ctx<'_>, id: &str) -> Result<Reply, ApiError> {
    manager(shared, ctx, "delete")?;
    let mut state = lock(&shared.org.state);
    let pos = state
        .identities
        .iter()
        .position(|i| i.id == id)
        .ok_or_else(|| identity_not_found(id))?;
    let identity = state.identities.remove(pos);
    if let Some(ua) = &identity.ua {
        state.deleted_client_ids.insert(ua.client_id.clone());
    }
    Ok(ok_json(
        &json!({"identity": identity_json(&identity, shared.generation)}),
    ))
}

/// `0.0.0.0/0` → `{type:"ipv4", prefix:0, ipAddress:"0.0.0.0"}`, as stored.
fn trusted_ip(raw: &Value) -> Option<Value> {
    let text = raw.get("ipAddress")?.as_str()?.trim();
    let (address, prefix) = match text.split_once('/') {
        Some((a, p)) => (a, p.parse::<u8>().ok()?),
        None if text.contains(':') => (text, 128),
        None => (text, 32),
    };
    let kind = if address.contains(':') { "ipv6" } else { "ipv4" };
    Some(json!({"type": kind, "prefix": prefix, "ipAddress": address}))
}

fn trusted_ips(body: &serde_json::Map<String, Value>, field: &str, issues: &mut Vec<Value>) -> Vec<Value> {
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

fn number_field(
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

fn ua_json(ua: &UniversalAuth, identity_id: &str) -> Value {
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

fn attach_ua(shared: &Shared, ctx: &Ctx<'_>, id: &str) -> Result<Reply, ApiError> {
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

fn get_ua(shared: &Shared, ctx: &Ctx<'_>, id: &str) -> Result<Reply, ApiError> {
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

fn secret_json(s: &ClientSecret, ua_id: &str) -> Value {
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

fn with_ua<'a>(state: &'a mut OrgState, id: &str) -> Result<(&'a mut ManagedIdentity, String), ApiError> {
    let identity =
        find(state, id).ok_or_else(|| ApiError::not_found("NotFound", "Failed to find identity"))?;
    let ua_id = identity
        .ua
        .as_ref()
        .map(|u| u.id.clone())
        .ok_or_else(|| ApiError::not_found("NotFound", "Failed to find identity"))?;
    Ok((identity, ua_id))
}

fn create_client_secret(shared: &Shared, ctx: &Ctx<'_>, id: &str) -> Result<Reply, ApiError> {
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

fn list_client_secrets(shared: &Shared, ctx: &Ctx<'_>, id: &str) -> Result<Reply, ApiError> {
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

fn revoke_client_secret(
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

fn project_exists(shared: &Shared, project_id: &str) -> Result<(), ApiError> {
    read(&shared.data)
        .project_by_id(project_id)
        .map(|_| ())
        .ok_or_else(|| super::projects::project_not_found(shared.generation, project_id))
}

fn create_membership(shared: &Shared, ctx: &Ctx<'_>, project_id: &str, id: &str) -> Result<Reply, ApiError> {
    let generation = shared.generation;
    let body = json_body(ctx, generation)?;
    let mut issues = Vec::new();
    let role = body_string(&body, "role", false, &mut issues).unwrap_or_else(|| "no-access".into());
    if !issues.is_empty() {
        return Err(ApiError::validation(generation, issues));
    }
    manager(shared, ctx, "create")?;
    project_exists(shared, project_id)?;
    let mut state = lock(&shared.org.state);
    let identity = find(&mut state, id).ok_or_else(|| identity_not_found(id))?;
    if identity.memberships.iter().any(|m| m.project_id == project_id) {
        return Err(ApiError::bad_request(format!(
            "Identity with id {id} already exists in project with id {project_id}"
        )));
    }
    let membership = Membership {
        id: new_uuid(),
        project_id: project_id.to_owned(),
        role,
        role_id: new_uuid(),
        created_at: now_iso(),
    };
    let answer = json!({"identityMembership": {
        "id": membership.id,
        "projectId": project_id,
        "identityId": id,
        "createdAt": membership.created_at,
        "updatedAt": membership.created_at,
    }});
    identity.memberships.push(membership);
    Ok(ok_json(&answer))
}

fn get_membership(shared: &Shared, ctx: &Ctx<'_>, project_id: &str, id: &str) -> Result<Reply, ApiError> {
    manager(shared, ctx, "read")?;
    project_exists(shared, project_id)?;
    let project_name = read(&shared.data)
        .project_by_id(project_id)
        .map(|p| p.name.clone())
        .unwrap_or_default();
    let mut state = lock(&shared.org.state);
    let identity = find(&mut state, id).ok_or_else(|| identity_not_found(id))?;
    let m = identity
        .memberships
        .iter()
        .find(|m| m.project_id == project_id)
        .ok_or_else(|| identity_not_found(id))?;
    Ok(ok_json(&json!({"identityMembership": {
        "id": m.id,
        "identityId": id,
        "createdAt": m.created_at,
        "updatedAt": m.created_at,
        "roles": [{
            "id": m.role_id, "role": m.role, "customRoleId": null, "customRoleName": null,
            "customRoleSlug": null, "isTemporary": false, "temporaryMode": null,
            "temporaryRange": null, "temporaryAccessStartTime": null, "temporaryAccessEndTime": null,
        }],
        "identity": short_identity(identity, shared.generation),
        "project": {"name": project_name, "id": project_id},
    }})))
}

fn delete_membership(shared: &Shared, ctx: &Ctx<'_>, project_id: &str, id: &str) -> Result<Reply, ApiError> {
    manager(shared, ctx, "delete")?;
    project_exists(shared, project_id)?;
    let mut state = lock(&shared.org.state);
    let identity = find(&mut state, id).ok_or_else(|| identity_not_found(id))?;
    let pos = identity
        .memberships
        .iter()
        .position(|m| m.project_id == project_id)
        .ok_or_else(|| identity_not_found(id))?;
    let m = identity.memberships.remove(pos);
    // Privileges hang off the membership row and go with it.
    identity.privileges.retain(|p| p.membership_id != m.id);
    Ok(ok_json(&json!({"identityMembership": {
        "id": m.id,
        "projectId": project_id,
        "identityId": id,
        "createdAt": m.created_at,
        "updatedAt": m.created_at,
    }})))
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum PrivilegeApi {
    /// `POST /api/v1/additional-privilege/identity/permanent` (`projectSlug`).
    V1,
    /// `POST /api/v2/identity-project-additional-privilege` (`projectId`).
    V2,
}

fn slug_issues(slug: &str) -> Vec<Value> {
    let mut issues = Vec::new();
    if slug != slug.to_lowercase() {
        issues.push(json!({"code": "custom", "message": "Must be lowercase", "path": ["slug"]}));
    }
    let valid = !slug.is_empty()
        && slug.len() <= 60
        && slug.split('-').all(|part| {
            !part.is_empty() && part.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit())
        });
    if !valid {
        issues.push(json!({"code": "custom", "message": "Slug must be a valid slug", "path": ["slug"]}));
    }
    issues
}

fn parse_action(name: &str) -> Option<Action> {
    Some(match name {
        "read" => Action::Read,
        "create" => Action::Create,
        "edit" => Action::Edit,
        "delete" => Action::Delete,
        "describeSecret" => Action::DescribeSecret,
        "readValue" => Action::ReadValue,
        _ => return None,
    })
}

/// One permission's conditions as a rule, or the zod issues it raises.
fn rule_from(
    actions: &[String],
    conditions: Option<&Value>,
    path: Value,
) -> Result<PermissionRule, Vec<Value>> {
    let mut parsed = Vec::new();
    for a in actions {
        match parse_action(a) {
            Some(action) => parsed.push(action),
            None => {
                return Err(vec![json!({
                    "received": a, "code": "invalid_enum_value",
                    "options": ["read", "create", "edit", "delete"], "path": path,
                    "message": format!("Invalid enum value. Expected 'read' | 'create' | 'edit' | 'delete', received '{a}'"),
                })]);
            }
        }
    }
    let environment = match conditions.and_then(|c| c.get("environment")) {
        Some(Value::String(s)) => s.clone(),
        Some(Value::Object(o)) => o.get("$eq").and_then(Value::as_str).unwrap_or("*").to_owned(),
        _ => "*".to_owned(),
    };
    let glob = match conditions.and_then(|c| c.get("secretPath")) {
        Some(Value::String(s)) => s.clone(),
        Some(Value::Object(o)) => o
            .get("$glob")
            .or_else(|| o.get("$eq"))
            .and_then(Value::as_str)
            .unwrap_or("/**")
            .to_owned(),
        _ => "/**".to_owned(),
    };
    Ok(PermissionRule::new(&parsed, &environment, &glob))
}

fn rule_json(rule: &PermissionRule, conditions: Option<&Value>) -> Value {
    json!({
        "subject": "secrets",
        "action": rule.actions.iter().map(|a| a.as_str()).collect::<Vec<_>>(),
        "conditions": conditions.cloned().unwrap_or_else(|| json!({})),
    })
}

fn parse_permissions(
    body: &serde_json::Map<String, Value>,
    api: PrivilegeApi,
    generation: Generation,
) -> Result<(Vec<PermissionRule>, Value), ApiError> {
    let mut rules = Vec::new();
    let mut shown = Vec::new();
    if let Some(Value::Array(items)) = body.get("permissions") {
        for (i, item) in items.iter().enumerate() {
            let actions = match item.get("action") {
                Some(Value::String(s)) => vec![s.clone()],
                // The v1 schema takes one action string; v2 takes either.
                Some(Value::Array(list)) if api == PrivilegeApi::V2 => list
                    .iter()
                    .filter_map(|a| a.as_str().map(str::to_owned))
                    .collect(),
                Some(Value::Array(_)) => {
                    return Err(ApiError::validation(
                        generation,
                        vec![json!({
                            "expected": "'read' | 'create' | 'edit' | 'delete'", "received": "array",
                            "code": "invalid_type", "path": ["permissions", i, "action"],
                            "message": "Expected 'read' | 'create' | 'edit' | 'delete', received array",
                        })],
                    ));
                }
                _ => {
                    return Err(ApiError::validation(
                        generation,
                        vec![type_issue("permissions", "string", "undefined")],
                    ));
                }
            };
            let rule = rule_from(
                &actions,
                item.get("conditions"),
                json!(["permissions", i, "action"]),
            )
            .map_err(|issues| ApiError::validation(generation, issues))?;
            shown.push(rule_json(&rule, item.get("conditions")));
            rules.push(rule);
        }
    } else if let (PrivilegeApi::V1, Some(pp)) = (api, body.get("privilegePermission")) {
        let actions: Vec<String> = pp
            .get("actions")
            .and_then(Value::as_array)
            .map(|l| l.iter().filter_map(|a| a.as_str().map(str::to_owned)).collect())
            .unwrap_or_default();
        let rule = rule_from(
            &actions,
            pp.get("conditions"),
            json!(["privilegePermission", "actions"]),
        )
        .map_err(|issues| ApiError::validation(generation, issues))?;
        shown.push(rule_json(&rule, pp.get("conditions")));
        rules.push(rule);
    } else if api == PrivilegeApi::V1 {
        return Err(ApiError::unauthorized(
            "Permission or privilegePermission must be provided",
        ));
    } else {
        return Err(ApiError::validation(
            generation,
            vec![type_issue("permissions", "array", "undefined")],
        ));
    }
    Ok((rules, Value::Array(shown)))
}

fn privilege_json(p: &Privilege, identity_id: &str, api: PrivilegeApi, with_permissions: bool) -> Value {
    let mut v = json!({
        "id": p.id,
        "slug": p.slug,
        "projectMembershipId": p.membership_id,
        "isTemporary": false,
        "temporaryMode": null,
        "temporaryRange": null,
        "temporaryAccessStartTime": null,
        "temporaryAccessEndTime": null,
        "createdAt": p.created_at,
        "updatedAt": p.created_at,
    });
    if with_permissions {
        v["permissions"] = p.permissions.clone();
    }
    if api == PrivilegeApi::V2 {
        v["identityId"] = json!(identity_id);
        v["projectId"] = json!(p.project_id);
    }
    v
}

/// The project a privilege call names: `projectId` (v2) or `projectSlug` (v1;
/// an unknown slug is the 2024 build's 500 "Find project by slug").
fn privilege_project(shared: &Shared, api: PrivilegeApi, key: &str) -> Result<String, ApiError> {
    let data = read(&shared.data);
    match api {
        PrivilegeApi::V2 => data
            .project_by_id(key)
            .map(|p| p.id.clone())
            .ok_or_else(|| super::projects::project_not_found(shared.generation, key)),
        PrivilegeApi::V1 => data
            .projects
            .iter()
            .find(|p| p.slug == key)
            .map(|p| p.id.clone())
            .ok_or_else(|| {
                ApiError::new(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "Find project by slug",
                    "Something went wrong",
                )
            }),
    }
}

fn create_privilege(shared: &Shared, ctx: &Ctx<'_>, api: PrivilegeApi) -> Result<Reply, ApiError> {
    let generation = shared.generation;
    let caller = counted_caller(shared, ctx)?;
    let body = json_body(ctx, generation)?;
    let mut issues = Vec::new();
    let identity_id = body_string(&body, "identityId", true, &mut issues);
    let project_key = match api {
        PrivilegeApi::V1 => body_string(&body, "projectSlug", true, &mut issues),
        PrivilegeApi::V2 => body_string(&body, "projectId", true, &mut issues),
    };
    let slug = body_string(&body, "slug", false, &mut issues);
    if let Some(slug) = &slug {
        issues.extend(slug_issues(slug));
    }
    if api == PrivilegeApi::V2 && body.get("type").and_then(|t| t.get("isTemporary")) != Some(&json!(false)) {
        issues.push(json!({"code": "invalid_union_discriminator", "options": [false, true], "path": ["type", "isTemporary"], "message": "Invalid discriminator value. Expected false | true"}));
    }
    let (Some(identity_id), Some(project_key), true) = (identity_id, project_key, issues.is_empty()) else {
        return Err(ApiError::validation(generation, issues));
    };
    let (rules, permissions) = parse_permissions(&body, api, generation)?;
    require_manager(shared, &caller, "edit")?;
    let project_id = privilege_project(shared, api, &project_key)?;
    let mut state = lock(&shared.org.state);
    let identity = find(&mut state, &identity_id).ok_or_else(|| identity_not_found(&identity_id))?;
    let membership_id = identity
        .memberships
        .iter()
        .find(|m| m.project_id == project_id)
        .map(|m| m.id.clone())
        .ok_or_else(|| identity_not_found(&identity_id))?;
    let slug = slug.unwrap_or_else(|| random_string(8).to_lowercase());
    if identity.privileges.iter().any(|p| p.slug == slug) {
        return Err(ApiError::bad_request(
            "Additional privilege of provided slug exist",
        ));
    }
    let privilege = Privilege {
        id: new_uuid(),
        slug,
        project_id,
        membership_id,
        permissions,
        rules,
        created_at: now_iso(),
    };
    let answer = json!({"privilege": privilege_json(&privilege, &identity_id, api, true)});
    identity.privileges.push(privilege);
    Ok(ok_json(&answer))
}

fn list_privileges(shared: &Shared, ctx: &Ctx<'_>, api: PrivilegeApi) -> Result<Reply, ApiError> {
    let mut q = Query::new(ctx);
    let identity_id = q.required("identityId");
    let project_key = q.required(match api {
        PrivilegeApi::V1 => "projectSlug",
        PrivilegeApi::V2 => "projectId",
    });
    q.finish(shared.generation)?;
    let (Some(identity_id), Some(project_key)) = (identity_id, project_key) else {
        return Err(ApiError::internal());
    };
    manager(shared, ctx, "edit")?;
    let project_id = privilege_project(shared, api, project_key)?;
    let mut state = lock(&shared.org.state);
    let identity = find(&mut state, identity_id).ok_or_else(|| identity_not_found(identity_id))?;
    let privileges: Vec<Value> = identity
        .privileges
        .iter()
        .filter(|p| p.project_id == project_id)
        .map(|p| privilege_json(p, identity_id, api, api == PrivilegeApi::V1))
        .collect();
    Ok(ok_json(&json!({ "privileges": privileges })))
}

fn delete_privilege_v2(shared: &Shared, ctx: &Ctx<'_>, privilege_id: &str) -> Result<Reply, ApiError> {
    manager(shared, ctx, "edit")?;
    let mut state = lock(&shared.org.state);
    for identity in &mut state.identities {
        if let Some(pos) = identity.privileges.iter().position(|p| p.id == privilege_id) {
            let p = identity.privileges.remove(pos);
            return Ok(ok_json(
                &json!({"privilege": privilege_json(&p, &identity.id, PrivilegeApi::V2, true)}),
            ));
        }
    }
    Err(ApiError::not_found(
        "NotFound",
        format!("Additional privilege with ID {privilege_id} not found"),
    ))
}

fn delete_privilege_v1(shared: &Shared, ctx: &Ctx<'_>) -> Result<Reply, ApiError> {
    let generation = shared.generation;
    let body = json_body(ctx, generation)?;
    let mut issues = Vec::new();
    let slug = body_string(&body, "privilegeSlug", true, &mut issues);
    let identity_id = body_string(&body, "identityId", true, &mut issues);
    let project_slug = body_string(&body, "projectSlug", true, &mut issues);
    let (Some(slug), Some(identity_id), Some(project_slug), true) =
        (slug, identity_id, project_slug, issues.is_empty())
    else {
        return Err(ApiError::validation(generation, issues));
    };
    manager(shared, ctx, "edit")?;
    let project_id = privilege_project(shared, PrivilegeApi::V1, &project_slug)?;
    let mut state = lock(&shared.org.state);
    let identity = find(&mut state, &identity_id).ok_or_else(|| identity_not_found(&identity_id))?;
    let pos = identity
        .privileges
        .iter()
        .position(|p| p.slug == slug && p.project_id == project_id)
        .ok_or_else(|| ApiError::not_found("NotFound", "Identity additional privilege not found"))?;
    let p = identity.privileges.remove(pos);
    Ok(ok_json(
        &json!({"privilege": privilege_json(&p, &identity_id, PrivilegeApi::V1, true)}),
    ))
}
