//! infisical-mcp-rs: read-only, scoped access to a self-hosted Infisical vault
//! behind Cloudflare Access, for agents (MCP over stdio, a loopback proxy, a
//! credential broker) and for the operator who sets that access up.
//!
//! The layout follows what protects what (ARCHITECTURE.md): [`agent`] holds
//! the three ways in, each of which puts the scope ([`scope`], the
//! `infisical-scope` crate) between the caller and [`vault`], the one
//! Infisical client every command uses; [`operator`] holds the commands that
//! set up, check and audit that access. `main.rs` only parses flags and
//! dispatches, so tests drive the same code. The fake vault behind the tests
//! and `demo` is the `infisical-fakevault` crate, not part of this API.

pub mod agent;
pub mod audit;
pub mod config;
pub mod github_app;
pub mod lifecycle;
pub mod operator;
/// Client-side scope: the `infisical-scope` crate, under its old name.
pub use infisical_scope as scope;
pub mod taxonomy;
#[cfg(test)]
mod test_support;
pub mod vault;
