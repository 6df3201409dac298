//! infisical-mcp-rs: read-only, scoped access to a self-hosted Infisical vault
//! behind Cloudflare Access, for MCP clients (stdio) and for other tools (proxy).
//!
//! The binary in `main.rs` only parses flags and dispatches; everything it runs
//! lives here so that tests can drive the same code.

pub mod audit;
pub mod config;
pub mod demo;
pub mod doctor;
pub mod fakevault;
pub mod github;
pub mod lifecycle;
pub mod lint;
pub mod log_writer;
pub mod mcp;
pub mod mcp_config;
pub mod provision;
pub mod proxy;
pub mod scope;
pub mod taxonomy;
pub mod vault;
