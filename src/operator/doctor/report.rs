//! The doctor's result: one [`Step`] per check, rendered as a checklist for
//! people or as one JSON document (`--json`) for machines.

use std::fmt::Write as _;

use serde::Serialize;

use super::modes::FailureMode;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    Pass,
    Fail,
    /// Could not be proven either way; does not fail the run.
    Warn,
    /// Not run, because a step it depends on did not pass.
    Skip,
}

impl Status {
    fn symbol(self) -> &'static str {
        match self {
            Self::Pass => "✔",
            Self::Fail => "✘",
            Self::Warn => "⚠",
            Self::Skip => "-",
        }
    }
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Step {
    pub name: &'static str,
    pub status: Status,
    pub elapsed_ms: u64,
    pub detail: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub failure_mode: Option<FailureMode>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fix: Option<String>,
}

impl Step {
    pub fn pass(name: &'static str, detail: impl Into<String>) -> Self {
        Self::new(name, Status::Pass, detail)
    }

    pub fn fail(name: &'static str, detail: impl Into<String>) -> Self {
        Self::new(name, Status::Fail, detail)
    }

    pub fn warn(name: &'static str, detail: impl Into<String>) -> Self {
        Self::new(name, Status::Warn, detail)
    }

    pub fn skip(name: &'static str, because: &str) -> Self {
        Self::new(name, Status::Skip, format!("skipped: {because}"))
    }

    fn new(name: &'static str, status: Status, detail: impl Into<String>) -> Self {
        Self {
            name,
            status,
            elapsed_ms: 0,
            detail: detail.into(),
            failure_mode: None,
            fix: None,
        }
    }

    pub fn mode(mut self, mode: FailureMode) -> Self {
        self.failure_mode = Some(mode);
        self
    }

    pub fn fix(mut self, fix: impl Into<String>) -> Self {
        self.fix = Some(fix.into());
        self
    }

    pub fn passed(&self) -> bool {
        self.status == Status::Pass
    }
}

/// Every step of one run, in order.
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    pub ok: bool,
    pub steps: Vec<Step>,
    /// What was diagnosed, for the checklist's first line.
    #[serde(skip)]
    pub target: String,
    /// The configuration was invalid (exit code 2).
    #[serde(skip)]
    pub config_error: bool,
}

/// Exit codes: everything passed (warnings allowed), a check failed, the
/// configuration is invalid.
pub const EXIT_OK: u8 = 0;
pub const EXIT_FAILED: u8 = 1;
pub const EXIT_CONFIG: u8 = 2;

impl Report {
    pub fn new(target: String, steps: Vec<Step>, config_error: bool) -> Self {
        let ok = !config_error && steps.iter().all(|s| s.status != Status::Fail);
        Self {
            ok,
            steps,
            target,
            config_error,
        }
    }

    pub fn exit_code(&self) -> u8 {
        if self.config_error {
            EXIT_CONFIG
        } else if self.ok {
            EXIT_OK
        } else {
            EXIT_FAILED
        }
    }

    pub fn step(&self, name: &str) -> Option<&Step> {
        self.steps.iter().find(|s| s.name == name)
    }

    pub fn to_json(&self) -> Result<String, serde_json::Error> {
        serde_json::to_string_pretty(self).map(|mut s| {
            s.push('\n');
            s
        })
    }

    /// The checklist: one line per step, then the failure mode and fix
    /// indented under it, then a count.
    pub fn to_text(&self) -> String {
        let width = self.steps.iter().map(|s| s.name.len()).max().unwrap_or(0);
        let mut out = format!("infisical-mcp-rs doctor: {}\n", self.target);
        let indent = " ".repeat(width + 13);
        for step in &self.steps {
            let time = match step.status {
                Status::Skip => String::new(),
                _ => format!("{} ms", step.elapsed_ms),
            };
            let _ = writeln!(
                out,
                "{} {:<width$} {:>8}  {}",
                step.status.symbol(),
                step.name,
                time,
                step.detail
            );
            if let Some(mode) = step.failure_mode {
                let _ = writeln!(out, "{indent}failure mode {}: {}", mode.letter(), mode.title());
            }
            if let Some(fix) = &step.fix {
                let _ = writeln!(out, "{indent}fix: {fix}");
            }
        }
        let count = |status| self.steps.iter().filter(|s| s.status == status).count();
        let _ = writeln!(
            out,
            "{} passed, {} failed, {} warnings, {} skipped",
            count(Status::Pass),
            count(Status::Fail),
            count(Status::Warn),
            count(Status::Skip)
        );
        out
    }
}
