//! The JSON shapes of secrets in answers (`secretRawSchema` plus the route
//! extensions, docs/vault-api.md, "Secrets"), per generation: the 2024 build lacks
//! the rotation and hidden-value fields.

use serde::Serialize;
use serde_json::Value;

use super::super::Generation;
use super::super::data::{Project, Secret};

/// Renders secrets in the generation's response shape.
pub(super) struct View<'a> {
    pub(super) generation: Generation,
    pub(super) project: &'a Project,
}

impl<'a> View<'a> {
    pub(super) fn new(generation: Generation, project: &'a Project) -> Self {
        View { generation, project }
    }

    pub(super) fn secret<'s>(
        &self,
        secret: &'s Secret,
        environment: &'s str,
        secret_path: Option<&'s str>,
        value: String,
        hidden: bool,
    ) -> SecretJson<'s>
    where
        'a: 's,
    {
        let current = self.generation == Generation::Current;
        SecretJson {
            id: &secret.id,
            underscore_id: &secret.id,
            workspace: &self.project.id,
            environment,
            version: secret.version,
            kind: "shared",
            secret_key: &secret.key,
            secret_value: value,
            secret_comment: &secret.comment,
            secret_reminder_note: None,
            secret_reminder_repeat_days: None,
            skip_multiline_encoding: secret.skip_multiline_encoding,
            metadata: (!current).then_some(Value::Null),
            created_at: &secret.created_at,
            updated_at: &secret.updated_at,
            is_rotated_secret: current.then_some(false),
            rotation_id: current.then_some(Value::Null),
            secret_path,
            secret_value_hidden: current.then_some(hidden),
            secret_metadata: current.then(Vec::new),
            tags: Some(
                secret
                    .tags
                    .iter()
                    .map(|t| TagJson {
                        id: &t.id,
                        slug: &t.slug,
                        color: &t.color,
                        name: &t.name,
                    })
                    .collect(),
            ),
        }
    }

    pub(super) fn imported(
        &self,
        secret: &'a Secret,
        environment: &str,
        value: String,
        hidden: bool,
    ) -> ImportedSecretJson<'a> {
        let current = self.generation == Generation::Current;
        ImportedSecretJson {
            id: &secret.id,
            underscore_id: &secret.id,
            // The 2024 build leaves the project out of imported secrets.
            workspace: if current { &self.project.id } else { "" },
            environment: environment.to_owned(),
            version: secret.version,
            kind: "shared",
            secret_key: &secret.key,
            secret_value: value,
            secret_comment: &secret.comment,
            skip_multiline_encoding: (!current).then_some(secret.skip_multiline_encoding),
            metadata: (!current).then_some(Value::Null),
            secret_value_hidden: current.then_some(hidden),
        }
    }
}

/// A listing; the 2024 build sends `imports` only when asked for them (or
/// when the folder does not exist).
#[derive(Serialize)]
pub(super) struct ListBody<'a> {
    pub(super) secrets: Vec<SecretJson<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(super) imports: Option<Vec<ImportJson<'a>>>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct SecretJson<'a> {
    id: &'a str,
    #[serde(rename = "_id")]
    underscore_id: &'a str,
    workspace: &'a str,
    environment: &'a str,
    version: u32,
    #[serde(rename = "type")]
    kind: &'static str,
    secret_key: &'a str,
    secret_value: String,
    secret_comment: &'a str,
    secret_reminder_note: Option<&'a str>,
    secret_reminder_repeat_days: Option<u32>,
    skip_multiline_encoding: bool,
    /// The 2024 build: always `null`.
    #[serde(skip_serializing_if = "Option::is_none")]
    metadata: Option<Value>,
    created_at: &'a str,
    updated_at: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    is_rotated_secret: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    rotation_id: Option<Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    secret_path: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    secret_value_hidden: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    secret_metadata: Option<Vec<Value>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    tags: Option<Vec<TagJson<'a>>>,
}

impl SecretJson<'_> {
    /// The 2024 build's single secret served from an import has no tags.
    pub(super) fn without_tags(mut self) -> Self {
        self.tags = None;
        self
    }

    /// The 2024 build's `tagSlugs` filter also narrows each secret's tags
    /// to the matched slugs.
    pub(super) fn narrow_tags(mut self, slugs: &[&str]) -> Self {
        if let Some(tags) = self.tags.as_mut() {
            tags.retain(|t| slugs.contains(&t.slug));
        }
        self
    }
}

#[derive(Serialize)]
struct TagJson<'a> {
    id: &'a str,
    slug: &'a str,
    color: &'a str,
    name: &'a str,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct ImportJson<'a> {
    pub(super) secret_path: String,
    pub(super) environment: String,
    pub(super) folder_id: String,
    pub(super) secrets: Vec<ImportedSecretJson<'a>>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct ImportedSecretJson<'a> {
    id: &'a str,
    #[serde(rename = "_id")]
    underscore_id: &'a str,
    workspace: &'a str,
    environment: String,
    version: u32,
    #[serde(rename = "type")]
    kind: &'static str,
    secret_key: &'a str,
    secret_value: String,
    secret_comment: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    skip_multiline_encoding: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    metadata: Option<Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    secret_value_hidden: Option<bool>,
}
