//! The write probe: a DELETE of a key that does not exist must be refused.
//! A 404 is only an answer on a vault that checks the permission first, so
//! the same probe in a folder the vault refuses serves as a control.

use crate::vault::{Misconfiguration, VaultError};

use super::WRITE_PROBE;
use super::modes::{FIX_D_OVER_PRIVILEGED, FailureMode};
use super::probes::{Doctor, Found, at, probe_name};
use super::report::Step;

impl Doctor<'_> {
    /// DELETE of a key that does not exist, in the readable in-scope folder;
    /// on a 404, the same probe in the refused out-of-scope folder as a
    /// control (see [`judge`]).
    pub(super) async fn write_probe(&self, found: &Found) -> Step {
        let Some(location) = &found.readable else {
            return Step::skip(WRITE_PROBE, "needs an in-scope folder that could be read");
        };
        let first = match answer(self.p.client.probe_delete(location, &probe_name()).await) {
            Ok(a) => a,
            Err(e) => return self.write_error(&e),
        };
        let control = match (first, found.refused.as_ref()) {
            (DeleteAnswer::Missing, Some(c)) => {
                match answer(self.p.client.probe_delete(c, &probe_name()).await) {
                    Ok(a) => Some((c, a)),
                    Err(e) => return self.write_error(&e),
                }
            }
            _ => None,
        };
        let here = at(location);
        match judge(first, control.map(|(_, a)| a)) {
            WriteVerdict::Refused => Step::pass(
                WRITE_PROBE,
                format!("delete of a nonexistent key at {here} refused (403){}", self.proxy_note()),
            ),
            WriteVerdict::Accepted => Step::fail(
                WRITE_PROBE,
                format!("the vault accepted a delete near {here}: the identity can write"),
            )
            .mode(FailureMode::D)
            .fix(FIX_D_OVER_PRIVILEGED),
            WriteVerdict::CanDelete => Step::fail(
                WRITE_PROBE,
                format!(
                    "delete of a nonexistent key at {here} answered 404 while the same probe at {} answered 403: \
                     this vault checks permission first, so the identity can delete at {here}",
                    control.map(|(c, _)| at(c)).unwrap_or_default()
                ),
            )
            .mode(FailureMode::D)
            .fix(FIX_D_OVER_PRIVILEGED),
            WriteVerdict::Inconclusive => Step::warn(
                WRITE_PROBE,
                format!(
                    "delete of a nonexistent key at {here} answered 404{}: this vault looks the key up before \
                     it checks the delete permission (current Infisical does), so it cannot be told here whether \
                     the identity could delete",
                    match control {
                        Some((c, _)) => format!(", and so did the same probe at {}", at(c)),
                        None => ", and no refused folder is known to compare with".into(),
                    }
                ),
            )
            .fix(
                "In Infisical admin, verify the identity's privileges grant read only (no create/edit/delete). \
                 Give the MCP identity no permission beyond the reads its agents need.",
            ),
        }
    }

    fn write_error(&self, e: &VaultError) -> Step {
        let mut step = self.failure(WRITE_PROBE, e);
        if matches!(e, VaultError::BadRequest { .. }) {
            step.status = super::report::Status::Warn;
        }
        step
    }
}

/// What the vault said to one delete probe.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum DeleteAnswer {
    /// 403: permission denied.
    Refused,
    /// 404: no such key (or folder).
    Missing,
    /// 2xx: the vault carried the delete out.
    Accepted,
}

fn answer(outcome: Result<(), VaultError>) -> Result<DeleteAnswer, VaultError> {
    match outcome {
        Ok(()) => Ok(DeleteAnswer::Accepted),
        Err(VaultError::PermissionDenied { .. }) => Ok(DeleteAnswer::Refused),
        // A missing project or environment is not an answer about the key.
        Err(e @ VaultError::NotFound { .. })
            if e.is_missing_secret() || e.misconfiguration() == Some(Misconfiguration::FolderNotFound) =>
        {
            Ok(DeleteAnswer::Missing)
        }
        Err(e) => Err(e),
    }
}

#[derive(Debug, PartialEq, Eq)]
enum WriteVerdict {
    Refused,
    Accepted,
    CanDelete,
    Inconclusive,
}

/// 403 in scope = refused. A 404 proves a delete permission only when the
/// same vault answers 403 where the identity surely has none (the control):
/// then it checks permission before existence (older builds, the fake).
/// Current Infisical (`secret-v2-bridge-service.ts`, `deleteSecret`) looks
/// the key up first and answers 404 either way, so 404/404 proves nothing.
fn judge(in_scope: DeleteAnswer, control: Option<DeleteAnswer>) -> WriteVerdict {
    match (in_scope, control) {
        (DeleteAnswer::Refused, _) => WriteVerdict::Refused,
        (DeleteAnswer::Accepted, _) | (_, Some(DeleteAnswer::Accepted)) => WriteVerdict::Accepted,
        (DeleteAnswer::Missing, Some(DeleteAnswer::Refused)) => WriteVerdict::CanDelete,
        (DeleteAnswer::Missing, _) => WriteVerdict::Inconclusive,
    }
}

#[cfg(test)]
mod tests {
    use super::{DeleteAnswer, WriteVerdict, judge};

    #[test]
    fn delete_probe_verdicts() {
        use DeleteAnswer::*;
        assert_eq!(judge(Refused, None), WriteVerdict::Refused);
        assert_eq!(judge(Missing, Some(Refused)), WriteVerdict::CanDelete);
        // Current Infisical: existence before permission, in and out of scope.
        assert_eq!(judge(Missing, Some(Missing)), WriteVerdict::Inconclusive);
        assert_eq!(judge(Missing, None), WriteVerdict::Inconclusive);
        assert_eq!(judge(Accepted, None), WriteVerdict::Accepted);
        assert_eq!(judge(Missing, Some(Accepted)), WriteVerdict::Accepted);
    }
}
