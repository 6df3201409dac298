//! Undoing what a failed run made, newest first, and saying what remains.

use super::*;

/// Removes what this run made, newest first; says what could not be removed.
pub(super) async fn undo(run: &mut Run<'_>) {
    let s = run.setup;
    let made = std::mem::take(&mut run.made);
    let identity_made = made.iter().any(|m| matches!(m, Made::Identity(_)));
    for item in made.into_iter().rev() {
        let started = Instant::now();
        let project = run.project.clone();
        let (name, what, result) = match &item {
            Made::Privilege { identity, privilege } => (
                "privilege",
                format!("privilege {} of identity {identity}", privilege.slug),
                run.vault
                    .delete_privilege(&project, identity, privilege)
                    .await
                    .map(|_| ()),
            ),
            Made::Membership(identity) => (
                "membership",
                format!("project membership of identity {identity} in {}", s.project_id),
                run.vault
                    .delete_membership(&s.project_id, identity)
                    .await
                    .map(|_| ()),
            ),
            Made::Secret(key) => (
                "store",
                format!("stored secret {}", s.stored(key)),
                run.vault.delete_secret(&s.at(key)).await.map(|_| ()),
            ),
            Made::Folder { parent, name } => (
                "folder",
                format!("folder {}:{}/{name}", s.store_env, parent.trim_end_matches('/')),
                run.vault
                    .delete_folder(&s.project_id, &s.store_env, parent, name)
                    .await
                    .map(|_| ()),
            ),
            // Deleting the identity takes its secrets along.
            Made::ClientSecret { .. } if identity_made => continue,
            Made::ClientSecret { identity, id } => (
                "client-secret",
                format!("client secret {id} of identity {identity}"),
                run.vault.revoke_client_secret(identity, id).await,
            ),
            Made::Identity(id) => (
                "identity",
                format!(
                    "identity {} ({id}) with its universal auth and client secret",
                    s.name
                ),
                run.vault.delete_identity(id).await.map(|_| ()),
            ),
        };
        match result {
            Ok(()) => {
                run.outcome
                    .undo
                    .push(Line::new(name, Status::Pass, started, format!("removed {what}")))
            }
            Err(e) => {
                run.outcome.undo.push(Line::new(
                    name,
                    Status::Fail,
                    started,
                    format!("cannot remove {what}: {e}"),
                ));
                run.outcome.remains.push(what);
            }
        }
    }
}
