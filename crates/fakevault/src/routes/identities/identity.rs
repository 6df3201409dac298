//! Identities themselves: create, get (answered as the org membership, as
//! the vault does), delete, and the organization's identity list.

use super::*;

pub(super) fn identity_json(i: &ManagedIdentity, generation: Generation) -> Value {
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

pub(super) fn short_identity(i: &ManagedIdentity, generation: Generation) -> Value {
    let auth_method = i.ua.as_ref().map(|_| "universal-auth");
    match generation {
        Generation::Legacy => json!({"name": i.name, "id": i.id, "authMethod": auth_method}),
        Generation::Current => json!({
            "name": i.name, "id": i.id, "authMethod": auth_method,
            "authMethods": auth_method.into_iter().collect::<Vec<_>>(),
        }),
    }
}

pub(super) fn org_membership_json(i: &ManagedIdentity, generation: Generation) -> Value {
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

pub(super) fn org_known(shared: &Shared, org_id: &str) -> bool {
    read(&shared.data).projects.iter().any(|p| p.org_id == org_id)
}

pub(super) fn list_org(shared: &Shared, ctx: &Ctx<'_>, org_id: &str) -> Result<Reply, ApiError> {
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

pub(super) fn create_identity(shared: &Shared, ctx: &Ctx<'_>) -> Result<Reply, ApiError> {
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

pub(super) fn get_identity(shared: &Shared, ctx: &Ctx<'_>, id: &str) -> Result<Reply, ApiError> {
    manager(shared, ctx, "read")?;
    let mut state = lock(&shared.org.state);
    let identity = find(&mut state, id).ok_or_else(|| identity_not_found(id))?;
    let mut body = org_membership_json(identity, shared.generation);
    body["metadata"] = json!([]);
    Ok(ok_json(&json!({ "identity": body })))
}

pub(super) fn delete_identity(shared: &Shared, ctx: &Ctx<'_>, id: &str) -> Result<Reply, ApiError> {
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
