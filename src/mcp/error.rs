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
    },

    #[error("{0}")]
    Vault(#[from] VaultError),

    /// The client withdrew the request.
    #[error("cancelled by the client")]
    Cancelled,
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
            Self::OutOfScope { .. } => {
                "read only inside the scope; list-folders at / shows the folders that lead into it".into()
            }
            Self::Vault(e) => e.hint(),
            Self::Cancelled => "nothing to do".into(),
        }
    }

    /// Short stable name for logs and the audit trail.
    pub fn kind(&self) -> &'static str {
        match self {
            Self::InvalidArguments { .. } => "invalid_arguments",
            Self::Rejected { .. } => "rejected_input",
            Self::MissingDefault { .. } => "missing_default",
            Self::OutOfScope { .. } => "out_of_scope",
            Self::Vault(e) => e.kind(),
            Self::Cancelled => "cancelled",
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
