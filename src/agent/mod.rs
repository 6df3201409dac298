//! What agents and their tools talk to, each with the scope between the
//! caller and the vault: the stdio MCP server ([`mcp`]), the loopback proxy
//! for the stock CLI and SDKs ([`proxy`]), and the credential broker that
//! uses a secret on the agent's behalf without handing it over ([`broker`]).

pub mod broker;
pub mod mcp;
pub mod proxy;
