//! The MCP server: three read-only tools over stdio.
//!
//! Tool failures (scope, vault, Cloudflare, arguments) come back as `isError`
//! results the agent can read and act on; JSON-RPC errors are kept for
//! requests that cannot be routed at all, such as an unknown tool.

mod calls;
mod checks;
mod companions;
mod error;
mod guidance;
mod place;
mod render;
mod resolve;
mod stdin_guard;
mod stdio;
pub mod tools;

use std::future::Future;
use std::sync::Arc;
use std::time::Instant;

use rmcp::model::{
    CallToolRequestParams, CallToolResponse, CallToolResult, ContentBlock, Implementation, InitializeResult,
    ListToolsResult, PaginatedRequestParams, ServerCapabilities, Tool,
};
use rmcp::service::RequestContext;
use rmcp::{ErrorData, RoleServer, ServerHandler, ServiceExt};
use serde::Serialize;
use serde::de::DeserializeOwned;

pub use calls::Context;

use crate::audit::{self, AuditLog, Target};
pub use error::ToolError;

/// The MCP server. Cheap to clone: all state is shared.
#[derive(Clone)]
pub struct Server {
    context: Arc<Context>,
    tools: Arc<Vec<Tool>>,
    audit: Option<Arc<AuditLog>>,
    /// `--broker-rules`: brokered secrets are marked, use-only ones refused.
    broker: Option<Arc<crate::agent::broker::mcp::Brokered>>,
}

#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    #[error("could not build the tool list: {0}")]
    Tools(String),
    #[error("MCP session failed to start: {0}")]
    Start(String),
    #[error("MCP session ended abnormally: {0}")]
    Session(String),
}

fn parse_args<T: DeserializeOwned>(
    tool: &str,
    arguments: Option<rmcp::model::JsonObject>,
) -> Result<T, ToolError> {
    let value = serde_json::Value::Object(arguments.unwrap_or_default());
    serde_json::from_value(value).map_err(|e| ToolError::InvalidArguments {
        tool: tool.to_string(),
        detail: e.to_string(),
    })
}

fn success<T: Serialize>(output: &T, text: String) -> CallToolResult {
    let mut result = CallToolResult::success(vec![ContentBlock::text(text)]);
    match serde_json::to_value(output) {
        Ok(value) => result.structured_content = Some(value),
        Err(e) => tracing::error!(error = %e, "could not serialise a tool result"),
    }
    result
}

fn stdio_transport() -> rmcp::transport::async_rw::AsyncRwTransport<
    RoleServer,
    impl tokio::io::AsyncRead + Send + Unpin + 'static,
    impl tokio::io::AsyncWrite + Send + Unpin + 'static,
> {
    // The guard answers over-long lines itself; rmcp's own limit stays as a
    // second fence just above it.
    rmcp::transport::async_rw::AsyncRwTransport::new_server(stdin_guard::guarded_stdin(), stdio::stdout())
        .with_max_line_length(stdin_guard::MAX_MESSAGE_BYTES + 1024)
}

impl Server {
    pub fn new(context: Context) -> Result<Self, ServeError> {
        let tools = tools::definitions(&context.scope, context.list_values).map_err(ServeError::Tools)?;
        Ok(Self {
            context: Arc::new(context),
            tools,
            audit: None,
            broker: None,
        })
    }

    /// Appends one line per tool call to `log`.
    pub fn with_audit(mut self, log: AuditLog) -> Self {
        self.audit = Some(Arc::new(log));
        self
    }

    /// Marks the secrets the credential broker injects, and refuses the
    /// values of its `use_only` ones.
    pub fn with_broker(mut self, brokered: crate::agent::broker::mcp::Brokered) -> Self {
        self.broker = Some(Arc::new(brokered));
        self
    }

    pub fn tools(&self) -> &[Tool] {
        &self.tools
    }

    /// Runs one tool call to completion; never fails at the protocol level
    /// except for a tool that does not exist.
    /// Runs one tool call to completion, or until `cancelled` resolves (the
    /// client withdrew it: its vault requests are dropped mid-flight). Never
    /// fails at the protocol level except for a tool that does not exist.
    pub async fn call(
        &self,
        name: &str,
        arguments: Option<rmcp::model::JsonObject>,
        request_id: &str,
        cancelled: impl Future<Output = ()>,
    ) -> Result<CallToolResult, ErrorData> {
        if !matches!(
            name,
            tools::GET_SECRET | tools::LIST_SECRETS | tools::LIST_FOLDERS
        ) {
            return Err(ErrorData::invalid_params(
                format!("unknown tool '{name}': this server has get-secret, list-secrets and list-folders"),
                None,
            ));
        }
        let ctx = &self.context;
        let started = Instant::now();
        let mut target = Target::default();
        let work = async {
            match name {
                tools::GET_SECRET => {
                    let out = ctx.get_secret(parse_args(name, arguments)?, &mut target).await?;
                    if let Some(refusal) = self
                        .broker
                        .as_ref()
                        .and_then(|b| b.use_only(&out.environment, &out.secret_path, &out.secret_key))
                    {
                        return Err(ToolError::BrokeredOnly {
                            key: out.secret_key.clone(),
                            rule: refusal.rule,
                            url: refusal.url,
                            curl: refusal.curl,
                        });
                    }
                    Ok(success(&out, render::secret(&out)))
                }
                tools::LIST_SECRETS => {
                    let mut out = ctx
                        .list_secrets(parse_args(name, arguments)?, &mut target)
                        .await?;
                    if let Some(broker) = &self.broker {
                        let notes = broker.notes(out.secrets.iter().map(|s| {
                            (
                                s.environment.as_str(),
                                s.secret_path.as_str(),
                                s.secret_key.as_str(),
                            )
                        }));
                        out.notes.extend(notes);
                    }
                    Ok(success(&out, render::secret_list(&out)))
                }
                _ => {
                    let out = ctx
                        .list_folders(parse_args(name, arguments)?, &mut target)
                        .await?;
                    Ok(success(&out, render::folder_list(&out)))
                }
            }
        };
        let outcome: Result<CallToolResult, ToolError> = tokio::select! {
            outcome = work => outcome,
            () = cancelled => Err(ToolError::Cancelled),
        };
        let latency_ms = started.elapsed().as_millis() as u64;
        let kind = outcome.as_ref().err().map_or("ok", ToolError::kind);
        tracing::info!(tool = name, latency_ms, outcome = kind, request_id, "tool call");
        if let Some(log) = &self.audit {
            log.record(&audit::Entry {
                time: audit::now(),
                tool: name,
                target: &target,
                outcome: kind,
                latency_ms,
                request_id: request_id.to_string(),
            });
        }
        Ok(outcome.unwrap_or_else(ToolError::into_result))
    }

    /// Serves MCP on stdin/stdout until the client closes stdin or `shutdown`
    /// resolves.
    pub async fn serve_stdio(self, shutdown: impl Future<Output = ()>) -> Result<(), ServeError> {
        tokio::pin!(shutdown);
        // A signal must stop the server even before the client initializes.
        let started = tokio::select! {
            started = self.serve(stdio_transport()) => started,
            () = &mut shutdown => return Ok(()),
        };
        let running = match started {
            Ok(running) => running,
            // The client hung up before initializing: a clean end, not a failure.
            Err(rmcp::service::ServerInitializeError::ConnectionClosed(_)) => {
                tracing::info!("client closed stdin before initializing");
                return Ok(());
            }
            Err(e) => return Err(ServeError::Start(e.to_string())),
        };
        let cancel = running.cancellation_token();
        tokio::select! {
            ended = running.waiting() => {
                ended.map_err(|e| ServeError::Session(e.to_string()))?;
            }
            () = shutdown => {
                tracing::info!("shutting down on signal");
                cancel.cancel();
            }
        }
        Ok(())
    }
}

impl ServerHandler for Server {
    fn get_info(&self) -> InitializeResult {
        let mut info = InitializeResult::new(ServerCapabilities::builder().enable_tools().build());
        info.server_info = Implementation::new("infisical-mcp-rs", env!("CARGO_PKG_VERSION"));
        info.instructions = Some(format!(
            "Read-only access to an Infisical vault. Scope: {}. Use list-folders to find folders, \
             list-secrets for names and metadata, get-secret for one value.",
            self.context.scope
        ));
        info
    }

    async fn list_tools(
        &self,
        _request: Option<PaginatedRequestParams>,
        _context: RequestContext<RoleServer>,
    ) -> Result<ListToolsResult, ErrorData> {
        Ok(ListToolsResult::with_all_items(self.tools.as_ref().clone()))
    }

    fn get_tool(&self, name: &str) -> Option<Tool> {
        self.tools.iter().find(|t| t.name == name).cloned()
    }

    async fn call_tool(
        &self,
        request: CallToolRequestParams,
        context: RequestContext<RoleServer>,
    ) -> Result<CallToolResponse, ErrorData> {
        if request.name == stdin_guard::OVERSIZED_TOOL {
            return Err(stdin_guard::oversized_error());
        }
        let request_id = context.id.to_string();
        self.call(
            &request.name,
            request.arguments,
            &request_id,
            context.ct.cancelled(),
        )
        .await
        .map(CallToolResponse::from)
    }
}
