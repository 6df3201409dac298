//! The report of a `provision` / `deprovision` run, like the doctor's: one
//! ✔/✘/⚠ line per step with its time, then the verification, the undo and
//! what remains, and the lines to export (variable names, never values).
//! `--json` gives the same as one document.

use std::fmt::Write as _;
use std::time::Instant;

use serde::Serialize;

pub use crate::operator::doctor::Status;

pub const EXIT_OK: u8 = 0;
pub const EXIT_FAILED: u8 = 1;
pub const EXIT_CONFIG: u8 = 2;

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Line {
    pub name: String,
    pub status: Status,
    pub elapsed_ms: u64,
    pub detail: String,
}

impl Line {
    pub fn new(name: &str, status: Status, started: Instant, detail: impl Into<String>) -> Self {
        Line {
            name: name.to_owned(),
            status,
            elapsed_ms: u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX),
            detail: detail.into(),
        }
    }

    pub fn plan(name: &str, detail: impl Into<String>) -> Self {
        Line {
            name: name.to_owned(),
            status: Status::Skip,
            elapsed_ms: 0,
            detail: detail.into(),
        }
    }
}

#[derive(Debug, Clone, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Outcome {
    pub ok: bool,
    pub command: String,
    pub name: String,
    pub dry_run: bool,
    /// `provisioned`, `already provisioned`, `rotated`, `deprovisioned`,
    /// `nothing to remove`, `plan`, `refused`, `failed`.
    pub result: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub api_generation: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub identity_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub client_id: Option<String>,
    pub warnings: Vec<String>,
    pub steps: Vec<Line>,
    pub verification: Vec<Line>,
    pub undo: Vec<Line>,
    /// What is left in the vault after a failure the undo could not clean.
    pub remains: Vec<String>,
    pub notes: Vec<String>,
    /// Variables to set for the agent, and where each value comes from.
    pub export: Vec<Export>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mcp_config: Option<String>,
    #[serde(skip)]
    pub target: String,
    #[serde(skip)]
    pub exit: u8,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Export {
    pub variable: String,
    /// `vault:ENV:PATH/KEY` or a literal that is not a secret.
    pub from: String,
}

impl Outcome {
    pub fn new(command: &str, name: &str, dry_run: bool) -> Self {
        Outcome {
            command: command.to_owned(),
            name: name.to_owned(),
            dry_run,
            ..Outcome::default()
        }
    }

    pub fn failed(&self) -> bool {
        self.steps
            .iter()
            .chain(&self.verification)
            .any(|l| l.status == Status::Fail)
    }

    pub fn to_json(&self) -> Result<String, serde_json::Error> {
        serde_json::to_string_pretty(self).map(|mut s| {
            s.push('\n');
            s
        })
    }

    pub fn to_text(&self) -> String {
        let mut out = format!(
            "infisical-mcp-rs {} {}: {}\n",
            self.command, self.name, self.target
        );
        let all = self.steps.iter().chain(&self.verification).chain(&self.undo);
        let width = all.map(|s| s.name.len()).max().unwrap_or(0);
        let section = |out: &mut String, title: &str, lines: &[Line]| {
            if lines.is_empty() {
                return;
            }
            if !title.is_empty() {
                let _ = writeln!(out, "{title}:");
            }
            for l in lines {
                let (symbol, time) = match l.status {
                    Status::Pass => ("✔", format!("{} ms", l.elapsed_ms)),
                    Status::Fail => ("✘", format!("{} ms", l.elapsed_ms)),
                    Status::Warn => ("⚠", format!("{} ms", l.elapsed_ms)),
                    Status::Skip => ("-", String::new()),
                };
                let _ = writeln!(out, "{symbol} {:<width$} {:>8}  {}", l.name, time, l.detail);
            }
        };
        for w in &self.warnings {
            let _ = writeln!(out, "⚠ {w}");
        }
        section(
            &mut out,
            if self.dry_run {
                "plan (nothing is written)"
            } else {
                ""
            },
            &self.steps,
        );
        section(&mut out, "verification", &self.verification);
        section(&mut out, "undo", &self.undo);
        if !self.remains.is_empty() {
            let _ = writeln!(out, "still in the vault (remove by hand):");
            for r in &self.remains {
                let _ = writeln!(out, "  - {r}");
            }
        }
        for n in &self.notes {
            let _ = writeln!(out, "note: {n}");
        }
        let _ = writeln!(out, "result: {}", self.result);
        if !self.export.is_empty() {
            let _ = writeln!(
                out,
                "\nexport for the agent (values stay in the vault; read them there, never paste them into a chat):"
            );
            let w = self.export.iter().map(|e| e.variable.len()).max().unwrap_or(0);
            for e in &self.export {
                let _ = writeln!(out, "  {:<w$}  <- {}", e.variable, e.from);
            }
        }
        if let Some(line) = &self.mcp_config {
            let _ = writeln!(out, "then:\n  {line}");
        }
        out
    }
}
