//! What the operator runs to set up, check and audit the agents' access:
//! [`doctor`] (the diagnosis, in order), [`lint`] (the token taxonomy),
//! [`provision`] (a read-only agent identity, onboarded and undone),
//! [`github`] (GitHub App installation tokens), [`mcp_config`] (a
//! `.mcp.json` entry without values) and [`demo`] (a sample vault to try
//! the server against).

pub mod demo;
pub mod doctor;
pub mod github;
pub mod lint;
pub mod mcp_config;
pub mod provision;
