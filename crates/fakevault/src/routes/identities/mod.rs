//! Identity management routes, with the bodies, errors and permission checks
//! of the recorded servers (`crates/fakevault/tests/fixtures/real-infisical/`,
//! sections 14–18 of each recording): identities, universal auth and its
//! client secrets, project memberships, and additional privileges (v2 on
//! current builds only; the v1 `additional-privilege/identity` routes on
//! both). Only an identity allowed to manage identities may call them; the
//! limiter counts a call once its token is good, before its body is read.

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

mod identity;
mod memberships;
mod privileges;
mod universal_auth;

use identity::*;
use memberships::*;
use privileges::*;
use universal_auth::*;

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
        ["api", "v1", "auth", "universal-auth", "identities", id, rest @ ..] => {
            let id = d(id);
            match (rest, m) {
                ([], &Method::POST) => attach_ua(shared, ctx, &id),
                ([], &Method::GET) => get_ua(shared, ctx, &id),
                (["client-secrets"], &Method::POST) => create_client_secret(shared, ctx, &id),
                (["client-secrets"], &Method::GET) => list_client_secrets(shared, ctx, &id),
                (["client-secrets", sid, "revoke"], &Method::POST) => {
                    revoke_client_secret(shared, ctx, &id, &d(sid))
                }
                _ => return None,
            }
        }
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
