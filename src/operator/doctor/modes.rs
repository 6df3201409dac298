//! The failure modes A–E a vault proxy setup meets (docs/runbook-modes.md):
//! titles, causes and fixes, in terms of this binary's own commands
//! (`proxy`, `mcp-config --write`).

use serde::Serialize;

/// One of the runbook's named failure modes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum FailureMode {
    /// Proxy not running / port collision.
    A,
    /// CF Access 403 (stale or wrong token).
    B,
    /// Identity 401 (revoked or wrong credentials).
    C,
    /// Out-of-scope 403 (identity RBAC).
    D,
    /// `.mcp.json` missing / MCP server not loaded.
    E,
}

impl FailureMode {
    /// The runbook's heading for the mode.
    pub fn title(self) -> &'static str {
        match self {
            Self::A => "proxy not running / port collision",
            Self::B => "CF Access 403 (stale or wrong token)",
            Self::C => "Identity 401 (revoked or wrong credentials)",
            Self::D => "Out-of-scope 403 (identity RBAC)",
            Self::E => ".mcp.json missing / MCP server not loaded",
        }
    }

    pub fn letter(self) -> char {
        match self {
            Self::A => 'A',
            Self::B => 'B',
            Self::C => 'C',
            Self::D => 'D',
            Self::E => 'E',
        }
    }
}

/// Mode A: nothing (or the wrong thing) on the proxy's port.
pub fn fix_a(port: u16) -> String {
    format!(
        "Proxy process not started, or port {port} in use by another process. Check what's on port {port}: \
         `lsof -i :{port}`. If something else: change the port (`infisical-mcp-rs proxy --listen 127.0.0.1:<other>`) \
         and re-run `infisical-mcp-rs mcp-config --write`. If nothing: start the proxy \
         (`infisical-mcp-rs proxy --listen 127.0.0.1:{port}`)."
    )
}

/// Mode B, Access rejecting the service token.
pub const FIX_B: &str = "CF_ACCESS_CLIENT_ID / CF_ACCESS_CLIENT_SECRET env vars are missing, stale, or pointing \
     to the wrong CF Access application. Issue or fetch a current service token for the Access application in \
     front of the vault, and check that its policy includes Service Auth for that token.";

/// Mode B, the WAF / Bot Fight rule answering before Access.
pub const FIX_B_WAF: &str = "403 from CF — verify CF_ACCESS_CLIENT_ID and CF_ACCESS_CLIENT_SECRET are set and not \
     stale. Also verify that a WAF skip rule exempts the service token from Bot Fight Mode; \
     INFISICAL_USER_AGENT must not be a stock client's agent.";

/// Mode C.
pub const FIX_C: &str = "Infisical identity client secret has been rotated or revoked; env vars not updated. \
     Fetch the identity's current client secret from wherever it is stored (provision keeps it in the folder \
     given by --store-root), or create a new one for the identity. Update \
     INFISICAL_UNIVERSAL_AUTH_CLIENT_SECRET (or the variable .mcp.json references). Re-run \
     `infisical-mcp-rs mcp-config --write` if needed.";

/// Mode C with a pre-issued token, which cannot be renewed here.
pub const FIX_C_TOKEN: &str = "INFISICAL_TOKEN is expired or revoked: issue a new one, or use universal auth \
     (INFISICAL_UNIVERSAL_AUTH_CLIENT_ID / _SECRET), which renews itself.";

/// Mode D, an in-scope path refused.
pub const FIX_D_IN_SCOPE: &str = "If a path in scope returns 403, check the identity's additional privilege in \
     Infisical admin (the one `provision` attached, or your own). Confirm the path is in scope; verify the \
     privilege is still attached.";

/// Mode D the other way round: the identity can do more than it should.
pub const FIX_D_OVER_PRIVILEGED: &str = "Give the MCP identity no permission beyond the reads its agents \
     need: in Infisical admin, leave it read only (no write/create/delete) with the narrowest secretPath glob, \
     matching --scope / INFISICAL_SCOPE.";

/// Mode E.
pub const FIX_E: &str = ".mcp.json was removed or was never generated. Re-run the session start steps: \
     `infisical-mcp-rs mcp-config --write` writes it to the repo root; it references env vars — not literal \
     secret values — and must be gitignored. Then reload Claude Code.";

/// No letter: "502 — proxy is running but the vault is unreachable".
pub const FIX_VAULT_DOWN: &str = "The vault is unreachable. Check that the Infisical server is up (its host \
     and database), the tunnel or network in between, and INFISICAL_HOST_URL.";
