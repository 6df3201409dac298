//! Why a tool call failed, as the agent will read it: one line of cause and
//! one line of fix, returned as an `isError` result rather than a protocol
//! error, so the model can correct itself. The same cause and fix travel as
//! `structuredContent` too: Claude Code hands the model that part alone.

use rmcp::model::{CallToolResult, ContentBlock};

use super::tools::{ErrorDetail, ErrorOutput};

use crate::vault::VaultError;

#[derive(Debug, thiserror::Error)]
pub enum ToolError {
    /// The arguments do not fit the tool's schema.
    #[error("invalid arguments for {tool}: {detail}")]
    InvalidArguments { tool: String, detail: String },

    /// A path or name that could be read more than one way.
    #[error("{what} rejected: {detail}")]
    Rejected { what: &'static str, detail: String },

    /// No argument and no configured default.
    #[error("{argument} was not given and the server has no default ({variable} is unset)")]
    MissingDefault {
        argument: &'static str,
        variable: &'static str,
    },

    /// Refused here, before any request left the machine.
    #[error("out of scope: {environment}:{path} is outside this server's scope ({scope})")]
    OutOfScope {
        environment: String,
        path: String,
        scope: String,
        /// The call to make instead (never the one just refused).
        next: String,
    },

    /// A project other than the configured ones, refused before any request.
    #[error("project out of scope: {project} is not a project this server may read (it may read: {allowed})")]
    ProjectOutOfScope { project: String, allowed: String },

    /// A `${…}` reference in the value points outside the scope: the value is
    /// withheld rather than returned half expanded.
    #[error(
        "reference out of scope: {secret} refers to {reference}, which lies in {environment}:{path}, \
         outside this server's scope ({scope}); the value was not returned"
    )]
    ReferenceOutOfScope {
        secret: String,
        reference: String,
        environment: String,
        path: String,
        scope: String,
    },

    /// The vault refused a secret that the value refers to.
    #[error(
        "the vault refused {target}, which {secret} refers to as {reference} ({message}); \
         the value was not returned"
    )]
    ReferenceRefused {
        secret: String,
        reference: String,
        /// `env:/path KEY`
        target: String,
        message: String,
    },

    /// Neither the folder nor any import the scope allows holds the key.
    #[error("{}", not_found_text(key, location, skipped, similar))]
    NotFoundInScope {
        key: String,
        location: String,
        skipped: Vec<String>,
        /// Close names in the same folder ("did you mean").
        similar: Vec<String>,
    },

    #[error("{0}")]
    Vault(#[from] VaultError),

    /// The client withdrew the request.
    #[error("cancelled by the client")]
    Cancelled,

    /// A secret the operator brokers with `use_only`: agents use it through
    /// the broker and never see its value.
    #[error("{key} is use-only: the credential broker injects it (rule '{rule}'); its value is not returned")]
    BrokeredOnly {
        key: String,
        rule: String,
        url: String,
        curl: String,
    },
}

fn not_found_text(key: &str, location: &str, skipped: &[String], similar: &[String]) -> String {
    let mut text = if skipped.is_empty() {
        format!("not found: {key} is not in {location} nor in any folder it imports")
    } else {
        format!(
            "not found: {key} is not in {location} nor in the imports this server may read; \
             imports outside the scope were not consulted: {}",
            skipped.join(", ")
        )
    };
    if !similar.is_empty() {
        text.push_str(&format!("; did you mean {}?", similar.join(", ")));
    }
    text
}

impl ToolError {
    pub fn hint(&self) -> String {
        match self {
            Self::InvalidArguments { .. } => "check the argument names and types against the tool's input schema".into(),
            Self::Rejected { .. } => {
                "give an absolute folder path such as /agents/warden, without '..', '.', '//', '%', '\\' or glob characters"
                    .into()
            }
            Self::MissingDefault { argument, variable } => {
                format!("pass {argument}, or have the operator set {variable} for this server")
            }
            Self::OutOfScope { next, .. } => next.clone(),
            Self::ProjectOutOfScope { .. } => "leave projectId out to read the configured project; the operator \
                names other projects with INFISICAL_ALLOWED_PROJECTS (or --allow-project ID)"
                .into(),
            Self::ReferenceOutOfScope { .. } => {
                "call again with expandSecretReferences=false to get the stored text with its ${…} reference, \
                 or ask the operator to widen the scope to the referenced folder"
                    .into()
            }
            Self::ReferenceRefused { .. } => "call again with expandSecretReferences=false to get the stored text, \
                or ask the operator for read access to the referenced folder"
                .into(),
            Self::NotFoundInScope { similar, .. } if !similar.is_empty() => {
                "the names are case-sensitive: call get-secret again with one of the names above".into()
            }
            Self::NotFoundInScope { skipped, .. } if !skipped.is_empty() => {
                "the secret may live in an import outside the scope; ask the operator to widen the scope, \
                 or read it where it lives if that is in scope"
                    .into()
            }
            Self::NotFoundInScope { .. } => VaultError::NotFound { message: String::new() }.hint(),
            Self::Vault(e) => e.hint(),
            Self::Cancelled => "nothing to do".into(),
            Self::BrokeredOnly { url, curl, .. } => format!(
                "send the API request through the broker at {url}<path> instead, e.g. {curl}; \
                 the broker adds the credential and takes it out of the answer"
            ),
        }
    }

    /// Short stable name for logs and the audit trail.
    pub fn kind(&self) -> &'static str {
        match self {
            Self::InvalidArguments { .. } => "invalid_arguments",
            Self::Rejected { .. } => "rejected_input",
            Self::MissingDefault { .. } => "missing_default",
            Self::OutOfScope { .. } => "out_of_scope",
            Self::ProjectOutOfScope { .. } => "project_out_of_scope",
            Self::ReferenceOutOfScope { .. } => "reference_out_of_scope",
            Self::ReferenceRefused { .. } => "reference_refused",
            Self::NotFoundInScope { .. } => "not_found",
            Self::Vault(e) => e.kind(),
            Self::Cancelled => "cancelled",
            Self::BrokeredOnly { .. } => "brokered_use_only",
        }
    }

    pub fn into_result(self) -> CallToolResult {
        let detail = ErrorDetail {
            kind: self.kind().to_string(),
            message: self.to_string(),
            hint: self.hint(),
        };
        let mut result = CallToolResult::error(vec![ContentBlock::text(format!(
            "{}\nhint: {}",
            detail.message, detail.hint
        ))]);
        result.structured_content = serde_json::to_value(ErrorOutput { error: detail }).ok();
        result
    }
}
