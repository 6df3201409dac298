//! Additional privileges: the v2 routes (current builds) and the v1
//! `additional-privilege/identity` routes (both builds), their slug and
//! permission validation, and how a privilege is answered.

use super::*;

#[derive(Clone, Copy, PartialEq, Eq)]
pub(super) enum PrivilegeApi {
    /// `POST /api/v1/additional-privilege/identity/permanent` (`projectSlug`).
    V1,
    /// `POST /api/v2/identity-project-additional-privilege` (`projectId`).
    V2,
}

pub(super) fn slug_issues(slug: &str) -> Vec<Value> {
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

pub(super) fn parse_action(name: &str) -> Option<Action> {
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
pub(super) fn rule_from(
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

pub(super) fn rule_json(rule: &PermissionRule, conditions: Option<&Value>) -> Value {
    json!({
        "subject": "secrets",
        "action": rule.actions.iter().map(|a| a.as_str()).collect::<Vec<_>>(),
        "conditions": conditions.cloned().unwrap_or_else(|| json!({})),
    })
}

pub(super) fn parse_permissions(
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

pub(super) fn privilege_json(
    p: &Privilege,
    identity_id: &str,
    api: PrivilegeApi,
    with_permissions: bool,
) -> Value {
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
pub(super) fn privilege_project(shared: &Shared, api: PrivilegeApi, key: &str) -> Result<String, ApiError> {
    let data = read(&shared.data);
    match api {
        PrivilegeApi::V2 => data
            .project_by_id(key)
            .map(|p| p.id.clone())
            .ok_or_else(|| super::super::projects::project_not_found(shared.generation, key)),
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

pub(super) fn create_privilege(shared: &Shared, ctx: &Ctx<'_>, api: PrivilegeApi) -> Result<Reply, ApiError> {
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

pub(super) fn list_privileges(shared: &Shared, ctx: &Ctx<'_>, api: PrivilegeApi) -> Result<Reply, ApiError> {
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

pub(super) fn delete_privilege_v2(
    shared: &Shared,
    ctx: &Ctx<'_>,
    privilege_id: &str,
) -> Result<Reply, ApiError> {
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

pub(super) fn delete_privilege_v1(shared: &Shared, ctx: &Ctx<'_>) -> Result<Reply, ApiError> {
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
