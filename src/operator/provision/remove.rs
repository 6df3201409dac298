//! `deprovision`'s removals: client secrets, privileges, membership,
//! identity, then the stored credentials and their folder if left empty.

use super::*;

pub(super) async fn remove_identity(run: &mut Run<'_>, identity: &str, dry_run: bool) -> Result<(), ()> {
    let s = run.setup;
    run.outcome.identity_id = Some(identity.to_owned());
    let remains = |run: &mut Run<'_>| {
        run.outcome.remains.push(format!(
            "identity {} ({identity}): run deprovision again, or delete it in Infisical",
            s.name
        ));
    };
    if dry_run {
        for (name, detail) in [
            ("client-secrets", "revoke every client secret"),
            ("privileges", "remove its additional privileges"),
            ("membership", "remove its project membership"),
            ("identity", "delete the identity"),
        ] {
            run.outcome.steps.push(Line::plan(name, detail));
        }
        return Ok(());
    }
    let started = Instant::now();
    let ids = match run.vault.client_secret_ids(identity).await {
        Ok(ids) => ids,
        Err(e) => {
            fail(
                &mut run.outcome,
                "client-secrets",
                started,
                "cannot list the client secrets",
                &e,
            );
            remains(run);
            return Err(());
        }
    };
    for id in &ids {
        if let Err(e) = run.vault.revoke_client_secret(identity, id).await {
            fail(
                &mut run.outcome,
                "client-secrets",
                started,
                &format!("cannot revoke client secret {id}"),
                &e,
            );
            remains(run);
            return Err(());
        }
    }
    pass(
        run,
        "client-secrets",
        started,
        format!("revoked {} client secret(s)", ids.len()),
    );

    let started = Instant::now();
    let project = run.project.clone();
    let member = run.vault.membership_exists(&s.project_id, identity).await;
    let privileges = match member {
        Ok(true) => run.vault.privileges(&project, identity).await,
        Ok(false) => Ok(Vec::new()),
        Err(e) => Err(e),
    };
    let privileges = match privileges {
        Ok(p) => p,
        Err(e) => {
            fail(
                &mut run.outcome,
                "privileges",
                started,
                "cannot list the privileges",
                &e,
            );
            remains(run);
            return Err(());
        }
    };
    for p in &privileges {
        if let Err(e) = run.vault.delete_privilege(&project, identity, p).await {
            fail(
                &mut run.outcome,
                "privileges",
                started,
                &format!("cannot remove privilege {}", p.slug),
                &e,
            );
            remains(run);
            return Err(());
        }
    }
    pass(
        run,
        "privileges",
        started,
        format!("removed {} privilege(s)", privileges.len()),
    );

    let started = Instant::now();
    match run.vault.delete_membership(&s.project_id, identity).await {
        Ok(true) => pass(
            run,
            "membership",
            started,
            format!("removed from project {}", s.project_id),
        ),
        Ok(false) => pass(run, "membership", started, "was not a member (already removed)"),
        Err(e) => {
            fail(
                &mut run.outcome,
                "membership",
                started,
                "cannot remove the project membership",
                &e,
            );
            remains(run);
            return Err(());
        }
    }
    let started = Instant::now();
    match run.vault.delete_identity(identity).await {
        Ok(_) => pass(
            run,
            "identity",
            started,
            format!("deleted {identity}; its tokens stop working at once"),
        ),
        Err(e) => {
            fail(
                &mut run.outcome,
                "identity",
                started,
                "cannot delete the identity",
                &e,
            );
            remains(run);
            return Err(());
        }
    }
    Ok(())
}

/// Deletes the stored credentials, then the store folder if that left it
/// empty. `Ok(true)` when something was there.
pub(super) async fn remove_stored(run: &mut Run<'_>, dry_run: bool) -> Result<bool, ()> {
    let s = run.setup;
    let mut any = false;
    for key in [s.id_key(), s.secret_key()] {
        let started = Instant::now();
        if dry_run {
            run.outcome.steps.push(Line::plan(
                "store",
                format!("delete {} if present", s.stored(&key)),
            ));
            continue;
        }
        match run.vault.delete_secret(&s.at(&key)).await {
            Ok(true) => {
                any = true;
                pass(run, "store", started, format!("deleted {}", s.stored(&key)));
            }
            Ok(false) => pass(run, "store", started, format!("{} is not there", s.stored(&key))),
            Err(e) => {
                fail(
                    &mut run.outcome,
                    "store",
                    started,
                    &format!("cannot delete {}", s.stored(&key)),
                    &e,
                );
                run.outcome
                    .remains
                    .push(format!("stored secret {}", s.stored(&key)));
                return Err(());
            }
        }
    }
    let (Some(parent), false) = (s.store.parent(), dry_run) else {
        return Ok(any);
    };
    let started = Instant::now();
    let keys = run
        .vault
        .secret_keys(&s.project_id, &s.store_env, s.store.as_str(), true)
        .await;
    let folders = run
        .vault
        .folder_names(&s.project_id, &s.store_env, s.store.as_str())
        .await;
    let last = s.store.segments().last().unwrap_or_default().to_owned();
    let listed_in_parent = run
        .vault
        .folder_names(&s.project_id, &s.store_env, parent.as_str())
        .await
        .is_ok_and(|names| names.contains(&last));
    if let (Ok(k), Ok(f), true) = (&keys, &folders, listed_in_parent) {
        if k.is_empty() && f.is_empty() {
            match run
                .vault
                .delete_folder(&s.project_id, &s.store_env, parent.as_str(), &last)
                .await
            {
                Ok(_) => {
                    any = true;
                    pass(
                        run,
                        "folder",
                        started,
                        format!("deleted the empty folder {}:{}", s.store_env, s.store.as_str()),
                    );
                }
                Err(e) => run.outcome.steps.push(Line::new(
                    "folder",
                    Status::Warn,
                    started,
                    format!(
                        "the empty folder {}:{} is left: {e}",
                        s.store_env,
                        s.store.as_str()
                    ),
                )),
            }
        } else {
            run.outcome.steps.push(Line::new(
                "folder",
                Status::Pass,
                started,
                format!(
                    "{}:{} still holds other things; left in place",
                    s.store_env,
                    s.store.as_str()
                ),
            ));
        }
    }
    Ok(any)
}
