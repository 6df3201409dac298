//! The recorded real Infisical servers in `tests/fixtures/real-infisical/`
//! (an Oct 2024 build and a mid-2026 one, same data set): loading a file, and seeding a fake vault with its data set (project,
//! environments, folders, secrets with versions and tags, the import, and the
//! identities with their privileges), keeping the server's ids so that the
//! recorded requests, which name objects by id, work unchanged.
//!
//! Client secrets are redacted in the recording; each identity gets a known
//! test secret instead ([`test_secret`]). The recording's admin user (a human
//! with a JWT) has no universal auth: it is seeded as an all-powerful machine
//! identity, [`ADMIN_USER_CLIENT_ID`].

use std::time::Duration;

use infisical_fakevault::{
    Action, FakeVault, Generation, Identity, PermissionRule, SecretEntry, Tag, VaultData,
};
use serde_json::Value;

use super::Res;

/// The Oct 2024 self-hosted build's recording.
pub const FIXTURE_2024: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/tests/fixtures/real-infisical/responses-2024-10.json"
);

/// The recording of a build of upstream from mid-2026.
pub const FIXTURE_2026: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/tests/fixtures/real-infisical/responses-2026-06.json"
);

/// Stands in for the recording's admin user.
pub const ADMIN_USER_CLIENT_ID: &str = "recorded-admin-user";

/// short-ttl-probe's recorded TTL is 3 s; a fresh token must not expire
/// while a loaded machine sends its next request, so the replay seeds a
/// longer one and expires the token on purpose where the recording waited.
pub const SHORT_TTL_STAND_IN: Duration = Duration::from_secs(300);

pub struct Recording {
    pub dataset: Value,
    pub records: Vec<Value>,
}

pub fn load(fixture: &str) -> Res<Recording> {
    let text = std::fs::read_to_string(fixture)?;
    let mut file: Value = serde_json::from_str(&text)?;
    let dataset = file["dataset"].take();
    let records = match file["records"].take() {
        Value::Array(records) => records,
        _ => return Err("the fixture has no records array".into()),
    };
    Ok(Recording { dataset, records })
}

/// The known client secret the replay uses for a seeded identity.
pub fn test_secret(client_id: &str) -> String {
    format!("test-secret-of-{client_id}")
}

fn text<'a>(v: &'a Value, key: &str) -> Res<&'a str> {
    v[key]
        .as_str()
        .ok_or_else(|| format!("dataset: missing string {key} in {v}").into())
}

/// The recorded data set as vault content, ids included.
pub fn vault_data(dataset: &Value) -> Res<VaultData> {
    let project = &dataset["project"];
    let pid = text(project, "id")?;
    let mut data = VaultData::new().project(pid, text(project, "name")?, text(project, "slug")?);
    for env in project["environments"].as_array().into_iter().flatten() {
        data = data.environment_with_id(pid, text(env, "slug")?, text(env, "name")?, text(env, "id")?);
    }
    // Parents before children, so that children are created under pinned ids.
    let mut folders: Vec<(&String, &Value)> = dataset["folders"]["ids"]
        .as_object()
        .map(|m| m.iter().collect())
        .unwrap_or_default();
    folders.sort_by_key(|(k, _)| k.matches('/').count());
    for (key, id) in folders {
        let (env, path) = key.split_once(':').ok_or("dataset: folder key without env")?;
        data = data.folder_with_id(pid, env, path, id.as_str().unwrap_or_default());
    }
    let tags: Vec<Tag> = dataset["tags"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|t| {
            Ok(Tag {
                id: text(t, "id")?.to_owned(),
                slug: text(t, "slug")?.to_owned(),
                // This build answers name == slug.
                name: text(t, "slug")?.to_owned(),
                color: text(t, "color")?.to_owned(),
            })
        })
        .collect::<Res<_>>()?;
    for s in dataset["secrets"].as_array().into_iter().flatten() {
        let mut entry = SecretEntry::new(text(s, "key")?, text(s, "value")?)
            .id(text(s, "id")?)
            .version(u32::try_from(s["version"].as_u64().unwrap_or(1))?);
        for slug in s["tags"].as_array().into_iter().flatten() {
            let tag = tags
                .iter()
                .find(|t| Some(t.slug.as_str()) == slug.as_str())
                .ok_or_else(|| format!("dataset: unknown tag {slug}"))?;
            entry = entry.tag_as(tag.clone());
        }
        data = data.add_secret(pid, text(s, "environment")?, text(s, "path")?, entry);
    }
    if let Some(org_id) = dataset["organization"]["id"].as_str() {
        data = data.organization(org_id);
    }
    for i in dataset["imports"].as_array().into_iter().flatten() {
        data = data.import(
            pid,
            text(i, "environment")?,
            text(i, "path")?,
            text(i, "importEnv")?,
            text(i, "importPath")?,
        );
    }
    Ok(data)
}

/// The recorded identities (warden-ro, short-ttl-probe) with their
/// privileges, plus the admin user's stand-in.
pub fn identities(dataset: &Value) -> Res<Vec<Identity>> {
    let mut out = Vec::new();
    for ident in dataset["identities"].as_array().into_iter().flatten() {
        let client_id = text(ident, "clientId")?;
        let mut rules = Vec::new();
        for privilege in ident["additionalPrivileges"].as_array().into_iter().flatten() {
            for p in privilege["permissions"].as_array().into_iter().flatten() {
                if p["subject"] != "secrets" {
                    continue;
                }
                let actions = p["action"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .map(|a| match a.as_str() {
                        Some("read") => Ok(Action::Read),
                        Some("create") => Ok(Action::Create),
                        Some("edit") => Ok(Action::Edit),
                        Some("delete") => Ok(Action::Delete),
                        other => Err(format!("dataset: unknown action {other:?}").into()),
                    })
                    .collect::<Res<Vec<_>>>()?;
                let env = p["conditions"]["environment"].as_str().unwrap_or("*");
                let glob = p["conditions"]["secretPath"]["$glob"].as_str().unwrap_or("/**");
                rules.push(PermissionRule::new(&actions, env, glob));
            }
        }
        let ua = &ident["universalAuth"];
        let secs = |k: &str| Duration::from_secs(ua[k].as_u64().unwrap_or(2_592_000));
        let (mut ttl, mut max_ttl) = (secs("accessTokenTTL"), secs("accessTokenMaxTTL"));
        if ttl < Duration::from_secs(60) {
            (ttl, max_ttl) = (SHORT_TTL_STAND_IN, SHORT_TTL_STAND_IN);
        }
        out.push(Identity::new(client_id, &test_secret(client_id), rules).ttl(ttl, max_ttl));
    }
    out.push(
        Identity::new(
            ADMIN_USER_CLIENT_ID,
            &test_secret(ADMIN_USER_CLIENT_ID),
            vec![PermissionRule::all("*", "/**")],
        )
        .tag_actions(&Action::ALL),
    );
    Ok(out)
}

/// A fake vault holding the recorded data set and identities.
pub fn recorded_vault(dataset: &Value, generation: Generation) -> Res<FakeVault> {
    let mut vault = FakeVault::new(vault_data(dataset)?).generation(generation);
    for identity in identities(dataset)? {
        vault = vault.identity(identity);
    }
    Ok(vault)
}
