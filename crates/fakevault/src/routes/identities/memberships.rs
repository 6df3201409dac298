//! Project memberships of identities: create, get and delete, under both
//! the 2024 route and the current one.

use super::*;

pub(super) fn project_exists(shared: &Shared, project_id: &str) -> Result<(), ApiError> {
    read(&shared.data)
        .project_by_id(project_id)
        .map(|_| ())
        .ok_or_else(|| super::super::projects::project_not_found(shared.generation, project_id))
}

pub(super) fn create_membership(
    shared: &Shared,
    ctx: &Ctx<'_>,
    project_id: &str,
    id: &str,
) -> Result<Reply, ApiError> {
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

pub(super) fn get_membership(
    shared: &Shared,
    ctx: &Ctx<'_>,
    project_id: &str,
    id: &str,
) -> Result<Reply, ApiError> {
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

pub(super) fn delete_membership(
    shared: &Shared,
    ctx: &Ctx<'_>,
    project_id: &str,
    id: &str,
) -> Result<Reply, ApiError> {
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
