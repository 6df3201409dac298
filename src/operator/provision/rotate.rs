//! `--rotate-secret`: a new client secret, stored and proven by a login
//! before the old ones are revoked; a failed login puts the old value back.

use super::*;

/// `--rotate-secret`: new secret stored and proven by a login before the
/// old ones are revoked.
pub(super) async fn rotate(run: &mut Run<'_>, identity: &str, ua: &UniversalAuth) -> Result<String, ()> {
    let s = run.setup;
    let dry_run = run.outcome.dry_run;
    run.working_on(identity, ua);
    let secret_key = s.secret_key();
    let (old_ids, _) = step!(
        run,
        "client-secrets",
        "cannot list the client secrets",
        run.vault.client_secret_ids(identity)
    );
    if dry_run {
        run.outcome
            .steps
            .push(Line::plan("client-secret", "create a new client secret"));
        run.outcome
            .steps
            .push(Line::plan("store", format!("replace {}", s.stored(&secret_key))));
        run.outcome
            .steps
            .push(Line::plan("login", "log in with the new secret"));
        run.outcome.steps.push(Line::plan(
            "revoke",
            format!("revoke the {} old client secret(s)", old_ids.len()),
        ));
        return Ok("plan".into());
    }
    let (previous, _) = step!(
        run,
        "store",
        "cannot read the stored client secret",
        run.vault.stored_value(&s.at(&secret_key))
    );
    let fresh = new_secret(run, identity).await?;
    let started = Instant::now();
    let stored = match &previous {
        Some(_) => run.vault.update_secret(&s.at(&secret_key), &fresh.secret).await,
        None => run.vault.create_secret(&s.at(&secret_key), &fresh.secret).await,
    };
    if let Err(e) = stored {
        fail(
            &mut run.outcome,
            "store",
            started,
            &format!("cannot store {}", s.stored(&secret_key)),
            &e,
        );
        return Err(());
    }
    pass(
        run,
        "store",
        started,
        format!("stored the new secret at {}", s.stored(&secret_key)),
    );
    let started = Instant::now();
    let login = match agent_client(s, &ua.client_id, &fresh.secret) {
        Ok(client) => client.authenticate().await,
        Err(e) => Err(e),
    };
    if let Err(e) = login {
        fail(
            &mut run.outcome,
            "login",
            started,
            "the new client secret does not log in",
            &e,
        );
        restore(run, previous.as_ref()).await;
        return Err(());
    }
    pass(run, "login", started, "logged in with the new client secret");
    // The new secret works: from here nothing is undone.
    run.made.clear();
    let started = Instant::now();
    let mut revoked = 0;
    for id in old_ids.iter().filter(|id| **id != fresh.id) {
        match run.vault.revoke_client_secret(identity, id).await {
            Ok(()) => revoked += 1,
            Err(e) => {
                fail(
                    &mut run.outcome,
                    "revoke",
                    started,
                    &format!("cannot revoke the old client secret {id}"),
                    &e,
                );
                run.outcome.remains.push(format!(
                    "old client secret {id} of identity {identity} (revoke it in Infisical)"
                ));
                return Ok("rotated (an old secret is still live)".into());
            }
        }
    }
    pass(
        run,
        "revoke",
        started,
        format!("revoked {revoked} old client secret(s)"),
    );
    run.outcome.notes.push(format!(
        "revoking a client secret does not end access tokens already issued with it: each stays valid for up to {} s (its TTL) and can be renewed until {} s after its login (the max TTL)",
        ua.ttl, ua.max_ttl
    ));
    Ok("rotated".into())
}

/// Puts the previous stored secret back after a failed rotation.
pub(super) async fn restore(run: &mut Run<'_>, previous: Option<&SecretString>) {
    let s = run.setup;
    let key = s.secret_key();
    let started = Instant::now();
    let result = match previous {
        Some(old) => run.vault.update_secret(&s.at(&key), old).await,
        None => run.vault.delete_secret(&s.at(&key)).await.map(|_| ()),
    };
    match result {
        Ok(()) => run.outcome.undo.push(Line::new(
            "store",
            Status::Pass,
            started,
            format!("restored {}", s.stored(&key)),
        )),
        Err(e) => {
            run.outcome.undo.push(Line::new(
                "store",
                Status::Fail,
                started,
                format!("cannot restore {}: {e}", s.stored(&key)),
            ));
            run.outcome
                .remains
                .push(format!("{} holds the new, failing client secret", s.stored(&key)));
        }
    }
}
