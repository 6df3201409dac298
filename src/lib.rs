//! infisical-mcp-rs: read-only, scoped access to a self-hosted Infisical vault
//! behind Cloudflare Access, for MCP clients (stdio) and for other tools (proxy).
//!
//! The binary in `main.rs` only parses flags and dispatches; everything it runs
//! lives here so that tests can drive the same code. The scope matcher is the
//! `infisical-scope` crate (re-exported as [`scope`]); the fake vault behind
//! the tests and `demo` is the `infisical-fakevault` crate, not part of this
//! library's API.

pub mod audit;
pub mod broker;
pub mod config;
pub mod demo;
pub mod doctor;
pub mod github;
pub mod lifecycle;
pub mod lint;
pub mod mcp;
pub mod mcp_config;
pub mod provision;
pub mod proxy;
/// Client-side scope: the `infisical-scope` crate, under its old name.
pub use infisical_scope as scope;
pub mod taxonomy;
#[cfg(test)]
mod test_cli;
pub mod vault;
