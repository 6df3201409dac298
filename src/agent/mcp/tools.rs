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
#[derive(Debug, Default, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", default)]
pub struct ListSecretsArgs {
    /// The ID of the project to list the secrets from. Defaults to the server's configured project.
    pub project_id: Option<String>,
    /// The slug of the environment to list the secrets from. Defaults to the server's configured environment.
    pub environment_slug: Option<String>,
    /// The folder to list, e.g. /agents/warden. Defaults to the server's configured path, else /.
    pub secret_path: Option<String>,
    /// Also list the secrets of every folder below the path (Defaults to false).
    pub recursive: Option<bool>,
    /// Whether to expand secret references; only matters when the server shows values (Defaults to true).
    pub expand_secret_references: Option<bool>,
    /// Whether to include secrets from secret imports (Defaults to true).
    pub include_imports: Option<bool>,
    /// How many entries to skip, to page through a long listing (Defaults to 0).
    pub offset: Option<usize>,
    /// How many entries to return at most (Defaults to 100, at most 500).
    pub limit: Option<usize>,
}

/// Arguments of `list-folders`.
#[derive(Debug, Default, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", default)]
pub struct ListFoldersArgs {
    /// The ID of the project. Defaults to the server's configured project.
    pub project_id: Option<String>,
    /// The slug of the environment. Defaults to the server's configured environment.
    pub environment_slug: Option<String>,
    /// The folder whose sub-folders to list (Defaults to /).
    pub path: Option<String>,
    /// List every folder below the path, not only direct children (Defaults to false).
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
    /// Where this page sits in the listing and how to get the next one.
    pub note: String,
    /// Where the scope lies relative to the listed path, and what was left out.
    pub scope_note: String,
    /// What the agent should know about the listing: imports outside the scope
    /// that were not read, values withheld because of a reference, a walk cut short.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<String>,
    /// Set when the answer came from this server's cache: its age in seconds.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cached_age_seconds: Option<u64>,
}

/// What this server may do with a folder `list-folders` shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum FolderAccess {
    /// Its secrets are in scope: list-secrets and get-secret work here.
    Readable,
    /// Its own secrets are out of scope; it is only on the way to folders that are.
    LeadsIntoScope,
}

impl FolderAccess {
    pub fn of(readable: bool) -> Self {
        if readable {
            Self::Readable
        } else {
            Self::LeadsIntoScope
        }
    }
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
    /// readable: its secrets are in scope; leads-into-scope: only folders below it are.
    pub access: FolderAccess,
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
    /// Where the scope lies, what the access values mean, and what to call next.
    pub note: String,
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

/// What a failed call carries as `structuredContent` (with `isError`): the
/// same cause and fix as its text block, for clients that hand the model
/// only the structured part.
#[derive(Debug, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ErrorOutput {
    pub error: ErrorDetail,
}

/// Why a call failed and what to do about it.
#[derive(Debug, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ErrorDetail {
    /// Stable name of the failure, e.g. out_of_scope, not_found, permission_denied.
    pub kind: String,
    /// What went wrong, in one sentence.
    pub message: String,
    /// What to do next.
    pub hint: String,
}

/// `format` values a JSON Schema validator knows; schemars also writes Rust
/// integer widths (`uint64`, `uint`), on which strict validators (ajv in the
/// TypeScript SDK) warn at every call. `minimum: 0` already says what matters.
const KNOWN_FORMATS: [&str; 7] = ["date-time", "date", "time", "duration", "email", "uri", "uuid"];

/// Rewrites a generated schema into plain JSON Schema that every client
/// reads the same way: no `$ref`/`$defs` (inlined), no nullable type arrays
/// or `anyOf`/`oneOf` with `null` (an optional field is simply not
/// required), no `default: null`, one `enum` for a string enum, and only
/// standard `format`s. Inspector 0.15 converts `--tool-arg` strings by the
/// property's `type`, so a `["boolean","null"]` left `recursive=true` a string.
pub(crate) fn portable(schema: &JsonObject) -> JsonObject {
    let defs = schema
        .get("$defs")
        .and_then(serde_json::Value::as_object)
        .cloned()
        .unwrap_or_default();
    let mut value = serde_json::Value::Object(schema.clone());
    if let serde_json::Value::Object(map) = &mut value {
        map.remove("$defs");
    }
    simplify(&mut value, &defs, 0);
    match value {
        serde_json::Value::Object(map) => map,
        _ => JsonObject::new(),
    }
}

/// Deeper than any of our types nest; stops a self-referencing `$ref`.
const MAX_DEPTH: usize = 32;

fn simplify(value: &mut serde_json::Value, defs: &JsonObject, depth: usize) {
    use serde_json::Value;
    match value {
        Value::Object(map) => {
            if let Some(target) = map.get("$ref").and_then(Value::as_str).map(str::to_string) {
                let name = target.trim_start_matches("#/$defs/");
                if let (Some(Value::Object(def)), true) = (defs.get(name), depth < MAX_DEPTH) {
                    map.remove("$ref");
                    for (k, v) in def {
                        // The referring site's own description is the more specific one.
                        map.entry(k.clone()).or_insert_with(|| v.clone());
                    }
                }
            }
            if map.get("default").is_some_and(Value::is_null) {
                map.remove("default");
            }
            if let Some(Value::Array(types)) = map.get("type") {
                let kept: Vec<Value> = types.iter().filter(|t| *t != "null").cloned().collect();
                let single = match kept.as_slice() {
                    [one] => one.clone(),
                    _ => Value::Array(kept),
                };
                map.insert("type".into(), single);
            }
            for key in ["anyOf", "oneOf"] {
                let Some(Value::Array(branches)) = map.get(key) else {
                    continue;
                };
                let branches: Vec<Value> = branches
                    .iter()
                    .filter(|b| b.get("type").is_none_or(|t| t != "null"))
                    .cloned()
                    .collect();
                let strings: Option<Vec<Value>> = branches
                    .iter()
                    .map(|b| {
                        (b.get("type").is_some_and(|t| t == "string")).then_some(())?;
                        match (b.get("enum"), b.get("const")) {
                            (Some(Value::Array(e)), None) => Some(e.clone()),
                            (None, Some(c)) => Some(vec![c.clone()]),
                            _ => None,
                        }
                    })
                    .collect::<Option<Vec<Vec<Value>>>>()
                    .map(|v| v.concat());
                map.remove(key);
                if let Some(values) = strings.filter(|_| !branches.is_empty()) {
                    map.insert("type".into(), Value::String("string".into()));
                    map.insert("enum".into(), Value::Array(values));
                } else if let [only] = branches.as_slice() {
                    if let Value::Object(inner) = only {
                        for (k, v) in inner {
                            map.entry(k.clone()).or_insert_with(|| v.clone());
                        }
                    }
                } else {
                    map.insert(key.into(), Value::Array(branches));
                }
            }
            if map
                .get("format")
                .and_then(Value::as_str)
                .is_some_and(|f| !KNOWN_FORMATS.contains(&f))
            {
                map.remove("format");
            }
            map.values_mut().for_each(|v| simplify(v, defs, depth + 1));
        }
        Value::Array(items) => items.iter_mut().for_each(|v| simplify(v, defs, depth + 1)),
        _ => {}
    }
}

/// The output schema: the result type's fields, plus the `error` object a
/// failed call carries instead. Either the result's required fields or
/// `error` must be present, so that a validating client (the TypeScript SDK
/// checks `structuredContent` even on `isError` results) accepts both.
fn output_schema<Out: JsonSchema + 'static>() -> JsonObject {
    use serde_json::Value;
    let mut schema = portable(&schema_for_output::<Out>());
    let error = portable(&schema_for_output::<ErrorOutput>());
    if let (Some(Value::Object(props)), Some(error_prop)) = (
        schema.get_mut("properties"),
        error.get("properties").and_then(|p| p.get("error")),
    ) {
        let mut error_prop = error_prop.clone();
        if let Value::Object(e) = &mut error_prop {
            e.insert(
                "description".into(),
                Value::String("Present only on a failed call (isError): why, and what to do next.".into()),
            );
        }
        props.insert("error".into(), error_prop);
    }
    if let Some(required) = schema.remove("required") {
        schema.insert(
            "anyOf".into(),
            serde_json::json!([{ "required": required }, { "required": ["error"] }]),
        );
    }
    schema
}

fn tool<In: JsonSchema + 'static, Out: JsonSchema + 'static>(
    name: &'static str,
    title: &str,
    description: String,
) -> Result<Tool, String> {
    Ok(
        Tool::new(name, description, Arc::new(portable(&*schema_for_input::<In>()?)))
            .with_title(title)
            .with_raw_output_schema(Arc::new(output_schema::<Out>()))
            .with_annotations(read_only(title)),
    )
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
