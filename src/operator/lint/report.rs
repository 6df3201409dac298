//! The lint result, rendered grouped by severity for people or as one JSON
//! document (`--json`) for CI.

use std::fmt::Write as _;
use std::io::Write;

use serde::Serialize;

use super::rules::{Finding, Severity};

/// Exit codes: no error finding, error findings, configuration error.
pub const EXIT_OK: u8 = 0;
pub const EXIT_FINDINGS: u8 = 1;
pub const EXIT_CONFIG: u8 = 2;

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Counts {
    pub error: usize,
    pub warning: usize,
    pub info: usize,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Report {
    /// No error finding.
    pub ok: bool,
    pub counts: Counts,
    pub environments: Vec<String>,
    /// Secrets checked (companions are their metadata, not counted).
    pub secrets_checked: usize,
    pub findings: Vec<Finding>,
    /// What the audit could not cover, and why (no finding of its own).
    pub notes: Vec<String>,
    #[serde(skip)]
    pub target: String,
}

impl Report {
    pub fn new(
        target: String,
        environments: Vec<String>,
        secrets_checked: usize,
        findings: Vec<Finding>,
        notes: Vec<String>,
    ) -> Self {
        let count = |s| findings.iter().filter(|f| f.severity == s).count();
        let counts = Counts {
            error: count(Severity::Error),
            warning: count(Severity::Warning),
            info: count(Severity::Info),
        };
        Self {
            ok: counts.error == 0,
            counts,
            environments,
            secrets_checked,
            findings,
            notes,
            target,
        }
    }

    pub fn exit_code(&self) -> u8 {
        if self.ok { EXIT_OK } else { EXIT_FINDINGS }
    }

    pub fn to_json(&self) -> Result<String, serde_json::Error> {
        serde_json::to_string_pretty(self).map(|mut s| {
            s.push('\n');
            s
        })
    }

    /// Findings grouped by severity (errors first), each with its fix, then
    /// the counts.
    pub fn to_text(&self) -> String {
        let mut out = format!(
            "infisical-mcp-rs lint: {} ({}): {} secrets checked\n",
            self.target,
            self.environments.join(", "),
            self.secrets_checked
        );
        let groups = [
            (Severity::Error, "✘", "errors", self.counts.error),
            (Severity::Warning, "⚠", "warnings", self.counts.warning),
            (Severity::Info, "ℹ", "info", self.counts.info),
        ];
        let width = self.findings.iter().map(|f| f.rule.len()).max().unwrap_or(0);
        let indent = " ".repeat(width + 5);
        for (severity, symbol, title, n) in groups {
            if n == 0 {
                continue;
            }
            let _ = writeln!(out, "\n{title} ({n})");
            for f in self.findings.iter().filter(|f| f.severity == severity) {
                let _ = writeln!(
                    out,
                    "  {symbol} {:<width$} {}: {}",
                    f.rule,
                    f.location(),
                    f.message
                );
                let _ = writeln!(out, "{indent}fix: {}", f.fix);
            }
        }
        if !self.notes.is_empty() {
            let _ = writeln!(out, "\nnot covered");
            for note in &self.notes {
                let _ = writeln!(out, "  - {note}");
            }
        }
        let _ = writeln!(
            out,
            "\n{} errors, {} warnings, {} info{}",
            self.counts.error,
            self.counts.warning,
            self.counts.info,
            if self.ok { "" } else { " (exit 1)" }
        );
        out
    }

    /// The report, or with `json` the JSON document, on `out`.
    pub fn write(&self, json: bool, out: &mut dyn Write) -> std::io::Result<()> {
        let text = if json {
            self.to_json().map_err(std::io::Error::other)?
        } else {
            self.to_text()
        };
        out.write_all(text.as_bytes())?;
        out.flush()
    }
}
