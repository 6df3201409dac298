//! The three tools as MCP clients see them: argument and result types (their
//! JSON Schemas are generated from these), names, descriptions and
//! annotations. Argument names follow the official `@infisical/mcp` server so
//! prompts written for it keep working.

use std::sync::Arc;

use rmcp::handler::server::common::{schema_for_input, schema_for_output};
use rmcp::model::{JsonObject, Tool, ToolAnnotations};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::scope::Scope;
use crate::taxonomy::ExpiryStatus;
use std::collections::BTreeMap;

pub const GET_SECRET: &str = "get-secret";
pub const LIST_SECRETS: &str = "list-secrets";
pub const LIST_FOLDERS: &str = "list-folders";

/// Arguments of `get-secret`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct GetSecretArgs {
    /// The name of the secret to get (required), e.g. CF_DNS_EDIT_RAXX_APP. Case-sensitive.
    pub secret_name: String,
    /// The ID of the project to get the secret from. Defaults to the server's configured project.
    #[serde(default)]
    pub project_id: Option<String>,
    /// The slug of the environment to get the secret from (e.g. dev, staging, prod). Defaults to the server's configured environment.
    #[serde(default)]
    pub environment_slug: Option<String>,
    /// The folder of the secret, e.g. /agents/warden. Defaults to the server's configured path, else /.
    #[serde(default)]
    pub secret_path: Option<String>,
    /// Whether to expand secret references such as ${OTHER_KEY} (Defaults to true).
    #[serde(default)]
    pub expand_secret_references: Option<bool>,
    /// Whether to look in secret imports when the secret is not in the folder itself (Defaults to true).
    #[serde(default)]
    pub include_imports: Option<bool>,
}

/// Arguments of `list-secrets`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ListSecretsArgs {
    /// The ID of the project to list the secrets from. Defaults to the server's configured project.
    #[serde(default)]
    pub project_id: Option<String>,
    /// The slug of the environment to list the secrets from. Defaults to the server's configured environment.
    #[serde(default)]
    pub environment_slug: Option<String>,
    /// The folder to list, e.g. /agents/warden. Defaults to the server's configured path, else /.
    #[serde(default)]
    pub secret_path: Option<String>,
    /// Also list the secrets of every folder below the path (Defaults to false).
    #[serde(default)]
    pub recursive: Option<bool>,
    /// Whether to expand secret references; only matters when the server shows values (Defaults to true).
    #[serde(default)]
    pub expand_secret_references: Option<bool>,
    /// Whether to include secrets from secret imports (Defaults to true).
    #[serde(default)]
    pub include_imports: Option<bool>,
    /// How many entries to skip, to page through a long listing (Defaults to 0).
    #[serde(default)]
    pub offset: Option<usize>,
    /// How many entries to return at most (Defaults to 100, at most 500).
    #[serde(default)]
    pub limit: Option<usize>,
}

/// Arguments of `list-folders`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ListFoldersArgs {
    /// The ID of the project. Defaults to the server's configured project.
    #[serde(default)]
    pub project_id: Option<String>,
    /// The slug of the environment. Defaults to the server's configured environment.
    #[serde(default)]
    pub environment_slug: Option<String>,
    /// The folder whose sub-folders to list (Defaults to /).
    #[serde(default)]
    pub path: Option<String>,
    /// List every folder below the path, not only direct children (Defaults to false).
    #[serde(default)]
    pub recursive: Option<bool>,
}

/// Result of `get-secret`.
#[derive(Debug, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct SecretOutput {
    pub secret_key: String,
    /// The secret's value, verbatim.
    pub secret_value: String,
    pub project_id: String,
    pub environment: String,
    /// The folder the secret was read from.
    pub secret_path: String,
    pub version: u64,
    /// Empty when the secret has no comment.
    pub comment: String,
    /// Tag slugs, e.g. function-dns-edit.
    pub tags: Vec<String>,
    #[serde(flatten)]
    pub metadata: Metadata,
    /// Set when the answer came from this server's cache: its age in seconds.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cached_age_seconds: Option<u64>,
    /// Set when the value came through an import: the folder it lives in, as ENV:PATH.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub imported_from: Option<String>,
    /// The import hops from the requested folder to `importedFrom`, each ENV:PATH.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub import_chain: Vec<String>,
    /// What the agent should know about how the answer was found (imports
    /// that lie outside the scope and were not consulted, and the like).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<String>,
}

/// What a secret's companions (`<KEY>__EXPIRES_AT`, `__SCOPES`,
/// `__CLIENT_ID`) and tags say about it.
#[derive(Debug, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Metadata {
    /// From the `<KEY>__EXPIRES_AT` companion, as stored (ISO-8601 UTC).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub expires_at: Option<String>,
    /// ok, expiring (within the server's warning window), expired, or unknown (no or unparseable expiry).
    pub expiry_status: ExpiryStatus,
    /// From the `<KEY>__SCOPES` companion: the vendor scopes the token holds.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub scopes: Option<String>,
    /// From the `<KEY>__CLIENT_ID` companion; a value, so only where values are shown.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub client_id: Option<String>,
    /// Suffixes of the companions folded into this entry, e.g. EXPIRES_AT.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub companions: Vec<String>,
    /// Tags by taxonomy dimension (function, sensitivity, consumer, rotation; the rest under other).
    pub tag_groups: BTreeMap<String, Vec<String>>,
}

/// One entry of `list-secrets`.
#[derive(Debug, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct SecretSummary {
    pub secret_key: String,
    /// The folder the secret lives in.
    pub secret_path: String,
    pub environment: String,
    pub version: u64,
    pub comment: String,
    pub tags: Vec<String>,
    #[serde(flatten)]
    pub metadata: Metadata,
    /// Set when the secret comes from an import, as ENV:PATH.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub imported_from: Option<String>,
    /// Present only when the operator started the server with --list-values.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub secret_value: Option<String>,
}

/// Result of `list-secrets`.
#[derive(Debug, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct SecretListOutput {
    pub project_id: String,
    pub environment: String,
    pub secret_path: String,
    pub recursive: bool,
    /// Whether values are included (only with the server's --list-values).
    pub values_included: bool,
    /// Entries in scope, before paging.
    pub total: usize,
    pub offset: usize,
    pub secrets: Vec<SecretSummary>,
    /// Offset for the next page; absent on the last page.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_offset: Option<usize>,
    /// Said when the path lies above the configured scope.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub scope_note: Option<String>,
    /// What the agent should know about the listing: imports outside the scope
    /// that were not read, values withheld because of a reference, a walk cut short.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<String>,
    /// Set when the answer came from this server's cache: its age in seconds.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cached_age_seconds: Option<u64>,
}

/// One entry of `list-folders`.
#[derive(Debug, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct FolderSummary {
    pub name: String,
    /// The folder's full path, to pass as secretPath or path.
    pub path: String,
    /// Whether secrets directly in this folder are in scope (else it only leads into the scope).
    pub readable: bool,
}

/// Result of `list-folders`.
#[derive(Debug, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct FolderListOutput {
    pub project_id: String,
    pub environment: String,
    pub path: String,
    pub recursive: bool,
    pub folders: Vec<FolderSummary>,
    /// Set when the walk stopped early (too many folders); narrow the path.
    pub truncated: bool,
    /// Set when the answer came from this server's cache: the oldest answer's age in seconds.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cached_age_seconds: Option<u64>,
}

fn read_only(title: &str) -> ToolAnnotations {
    ToolAnnotations::with_title(title)
        .read_only(true)
        .destructive(false)
        .idempotent(true)
        .open_world(false)
}

/// schemars writes Rust integer widths as `format` (`uint64`, `uint`), which
/// JSON Schema does not define; strict validators (ajv in the TypeScript SDK)
/// warn on every call. `minimum: 0` already says what matters.
fn drop_rust_formats(value: &mut serde_json::Value) {
    match value {
        serde_json::Value::Object(map) => {
            let rust_width = map.get("format").and_then(|f| f.as_str()).is_some_and(|f| {
                matches!(
                    f,
                    "uint"
                        | "int"
                        | "uint8"
                        | "uint16"
                        | "uint32"
                        | "uint64"
                        | "int8"
                        | "int16"
                        | "int32"
                        | "int64"
                        | "double"
                        | "float"
                )
            });
            if rust_width {
                map.remove("format");
            }
            map.values_mut().for_each(drop_rust_formats);
        }
        serde_json::Value::Array(items) => items.iter_mut().for_each(drop_rust_formats),
        _ => {}
    }
}

fn clean(schema: Arc<JsonObject>) -> Arc<JsonObject> {
    let mut value = serde_json::Value::Object(schema.as_ref().clone());
    drop_rust_formats(&mut value);
    match value {
        serde_json::Value::Object(map) => Arc::new(map),
        _ => schema,
    }
}

fn tool<In: JsonSchema + 'static, Out: JsonSchema + 'static>(
    name: &'static str,
    title: &str,
    description: String,
) -> Result<Tool, String> {
    Ok(Tool::new(name, description, clean(schema_for_input::<In>()?))
        .with_title(title)
        .with_raw_output_schema(clean(schema_for_output::<Out>()))
        .with_annotations(read_only(title)))
}

/// The tool list, with the configured scope in each description so that an
/// agent knows where it may read before it tries.
pub fn definitions(scope: &Scope, list_values: bool) -> Result<Arc<Vec<Tool>>, String> {
    let scope_line = format!("This server may only read inside its scope: {scope}.");
    let values_line = if list_values {
        "Values are included (the operator enabled --list-values)."
    } else {
        "Values are never included: use get-secret for the one value you need."
    };
    Ok(Arc::new(vec![
        tool::<GetSecretArgs, SecretOutput>(
            GET_SECRET,
            "Get secret",
            format!("Get one secret's value and metadata from Infisical. {scope_line}"),
        )?,
        tool::<ListSecretsArgs, SecretListOutput>(
            LIST_SECRETS,
            "List secrets",
            format!(
                "List the secrets in an Infisical folder: names, tags, comment, version and expiry. \
                 {values_line} Long listings are paged (offset/limit). {scope_line}"
            ),
        )?,
        tool::<ListFoldersArgs, FolderListOutput>(
            LIST_FOLDERS,
            "List folders",
            format!(
                "List the folders under a path in Infisical, to find where secrets live. \
                 Only folders inside the scope, or leading into it, are shown. {scope_line}"
            ),
        )?,
    ]))
}
