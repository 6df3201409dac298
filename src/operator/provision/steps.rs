//! The onboarding steps in the runbook's order, for a fresh identity and
//! for a re-run that completes what is missing; each made object is
//! remembered for the undo.

use super::*;

pub(super) fn plan_fresh(run: &mut Run<'_>, args: &ProvisionArgs) {
    let s = run.setup;
    let ips = trusted_ips(args).join(", ");
    let lines = [
        (
            "identity",
            format!("create machine identity {} (org role no-access)", s.name),
        ),
        (
            "universal-auth",
            format!(
                "attach universal auth: TTL {} s, max TTL {} s, trusted IPs {ips}",
                args.ttl, args.max_ttl
            ),
        ),
        (
            "client-secret",
            "create one client secret (no expiry, no use limit); its value goes straight into the vault"
                .into(),
        ),
        (
            "folder",
            format!("create {}:{} if missing", s.store_env, s.store.as_str()),
        ),
        (
            "store",
            format!(
                "store {} and {}",
                s.stored(&s.id_key()),
                s.stored(&s.secret_key())
            ),
        ),
        (
            "membership",
            format!("add it to project {} with role no-access", s.project_id),
        ),
    ];
    for (name, detail) in lines {
        run.outcome.steps.push(Line::plan(name, detail));
    }
    for g in &s.globs {
        run.outcome.steps.push(Line::plan(
            "privilege",
            format!(
                "{}: read only on {}:{}",
                plan::privilege_slug(&s.name, &s.environment, g.as_str()),
                s.environment,
                g.as_str()
            ),
        ));
    }
    run.outcome.steps.push(Line::plan(
        "verify",
        "log in as it; in-scope listing; out-of-scope read and a write must be refused",
    ));
}

pub(super) fn trusted_ips(args: &ProvisionArgs) -> Vec<String> {
    if args.trusted_ips.is_empty() {
        vec!["0.0.0.0/0".into(), "::/0".into()]
    } else {
        args.trusted_ips.clone()
    }
}

/// The fresh onboarding, in the runbook's order.
pub(super) async fn create(run: &mut Run<'_>, args: &ProvisionArgs) -> Result<String, ()> {
    let s = run.setup;
    if args.dry_run {
        plan_fresh(run, args);
        return Ok("plan".into());
    }
    let (identity, t) = step!(
        run,
        "identity",
        "cannot create the identity",
        run.vault.create_identity(&run.project.org_id, &s.name)
    );
    run.made.push(Made::Identity(identity.clone()));
    run.outcome.identity_id = Some(identity.clone());
    pass(
        run,
        "identity",
        t,
        format!("created {identity} (org role no-access)"),
    );

    let ips = trusted_ips(args);
    let (ua, t) = step!(
        run,
        "universal-auth",
        "cannot attach universal auth",
        run.vault
            .attach_universal_auth(&identity, args.ttl, args.max_ttl, &ips)
    );
    run.outcome.client_id = Some(ua.client_id.clone());
    pass(
        run,
        "universal-auth",
        t,
        format!(
            "client id {}, TTL {} s, max TTL {} s, trusted IPs {}",
            ua.client_id,
            ua.ttl,
            ua.max_ttl,
            ips.join(", ")
        ),
    );

    let secret = new_secret(run, &identity).await?;
    ensure_folder(run).await?;
    let client_id = SecretString::from(ua.client_id.clone());
    store(run, &s.id_key(), &client_id).await?;
    store(run, &s.secret_key(), &secret.secret).await?;

    let ((), t) = step!(
        run,
        "membership",
        "cannot add the identity to the project",
        run.vault.create_membership(&s.project_id, &identity)
    );
    run.made.push(Made::Membership(identity.clone()));
    pass(
        run,
        "membership",
        t,
        format!("member of project {} with role no-access", s.project_id),
    );

    add_privileges(run, &identity, &[]).await?;
    verify(run, &ua.client_id, &secret.secret).await?;
    Ok("provisioned".into())
}

/// Creates a client secret; the value is only ever in `NewClientSecret`.
pub(super) async fn new_secret(run: &mut Run<'_>, identity: &str) -> Result<NewClientSecret, ()> {
    let description = format!("infisical-mcp-rs provision {}", today());
    let (secret, t) = step!(
        run,
        "client-secret",
        "cannot create a client secret",
        run.vault.create_client_secret(identity, &description)
    );
    run.made.push(Made::ClientSecret {
        identity: identity.to_owned(),
        id: secret.id.clone(),
    });
    pass(
        run,
        "client-secret",
        t,
        format!(
            "created (id {}); the value goes straight into the vault",
            secret.id
        ),
    );
    Ok(secret)
}

pub(super) fn today() -> String {
    let format = time::macros::format_description!("[year]-[month]-[day]");
    time::OffsetDateTime::now_utc()
        .format(&format)
        .unwrap_or_default()
}

/// Creates the store folder when missing; remembers the highest folder this
/// run made, so that an undo removes exactly that.
pub(super) async fn ensure_folder(run: &mut Run<'_>) -> Result<(), ()> {
    let s = run.setup;
    let started = Instant::now();
    let Some(parent) = s.store.parent() else {
        pass(run, "folder", started, "the store is the root folder");
        return Ok(());
    };
    let mut current = SecretPath::root();
    let mut first_missing = None;
    for segment in s.store.segments() {
        let names = match run
            .vault
            .folder_names(&s.project_id, &s.store_env, current.as_str())
            .await
        {
            Ok(n) => n,
            Err(e) => {
                fail(&mut run.outcome, "folder", started, "cannot list folders", &e);
                return Err(());
            }
        };
        if !names.iter().any(|n| n == segment) {
            first_missing = Some((current.as_str().to_owned(), segment.to_owned()));
            break;
        }
        let Ok(next) = current.join(segment) else { break };
        current = next;
    }
    let Some((top_parent, top_name)) = first_missing else {
        pass(
            run,
            "folder",
            started,
            format!("{}:{} exists", s.store_env, s.store.as_str()),
        );
        return Ok(());
    };
    let last = s.store.segments().last().unwrap_or_default().to_owned();
    if let Err(e) = run
        .vault
        .create_folder(&s.project_id, &s.store_env, parent.as_str(), &last)
        .await
    {
        fail(
            &mut run.outcome,
            "folder",
            started,
            "cannot create the credentials folder",
            &e,
        );
        return Err(());
    }
    let top = if top_parent == "/" {
        format!("/{top_name}")
    } else {
        format!("{top_parent}/{top_name}")
    };
    run.made.push(Made::Folder {
        parent: top_parent,
        name: top_name,
    });
    pass(
        run,
        "folder",
        started,
        format!("created {}:{} (from {top} down)", s.store_env, s.store.as_str()),
    );
    Ok(())
}

/// Stores `value` under `key` at the store path; an existing key (left by
/// an identity since deleted) is overwritten.
pub(super) async fn store(run: &mut Run<'_>, key: &str, value: &SecretString) -> Result<(), ()> {
    let s = run.setup;
    let started = Instant::now();
    let at = s.at(key);
    let written = match run.vault.create_secret(&at, value).await {
        Ok(()) => {
            run.made.push(Made::Secret(key.to_owned()));
            Ok(format!("stored {}", s.stored(key)))
        }
        Err(VaultError::BadRequest { status: 400, .. }) => run
            .vault
            .update_secret(&at, value)
            .await
            .map(|()| format!("replaced the stale {}", s.stored(key))),
        Err(e) => Err(e),
    };
    match written {
        Ok(detail) => {
            pass(run, "store", started, detail);
            Ok(())
        }
        Err(e) => {
            fail(
                &mut run.outcome,
                "store",
                started,
                &format!("cannot store {}", s.stored(key)),
                &e,
            );
            Err(())
        }
    }
}

/// Creates the privileges of every `--glob` not among `existing`.
pub(super) async fn add_privileges(
    run: &mut Run<'_>,
    identity: &str,
    existing: &[PrivilegeInfo],
) -> Result<usize, ()> {
    let s = run.setup;
    let mut added = 0;
    for glob in &s.globs {
        let slug = plan::privilege_slug(&s.name, &s.environment, glob.as_str());
        let started = Instant::now();
        if existing.iter().any(|p| p.slug == slug) {
            pass(
                run,
                "privilege",
                started,
                format!("{slug} exists (read on {}:{})", s.environment, glob.as_str()),
            );
            continue;
        }
        let project = run.project.clone();
        let (privilege, t) = step!(
            run,
            "privilege",
            &format!(
                "cannot add the read privilege on {}:{}",
                s.environment,
                glob.as_str()
            ),
            run.vault
                .create_privilege(&project, identity, &slug, &s.environment, glob.as_str())
        );
        run.made.push(Made::Privilege {
            identity: identity.to_owned(),
            privilege: privilege.clone(),
        });
        added += 1;
        pass(
            run,
            "privilege",
            t,
            format!(
                "{}: read only on {}:{}",
                privilege.slug,
                s.environment,
                glob.as_str()
            ),
        );
    }
    Ok(added)
}

/// Re-run on an identity made here: creates only what is missing.
pub(super) async fn complete(run: &mut Run<'_>, identity: &str, ua: &UniversalAuth) -> Result<String, ()> {
    let s = run.setup;
    let dry_run = run.outcome.dry_run;
    run.working_on(identity, ua);
    let started = Instant::now();
    let secret_key = s.secret_key();
    let stored = match run.vault.stored_value(&s.at(&secret_key)).await {
        Ok(v) => v,
        Err(e) => {
            fail(
                &mut run.outcome,
                "store",
                started,
                &format!("cannot read {}", s.stored(&secret_key)),
                &e,
            );
            return Err(());
        }
    };
    let member = match run.vault.membership_exists(&s.project_id, identity).await {
        Ok(m) => m,
        Err(e) => {
            fail(
                &mut run.outcome,
                "membership",
                started,
                "cannot read the project membership",
                &e,
            );
            return Err(());
        }
    };
    let existing = if member {
        let project = run.project.clone();
        match run.vault.privileges(&project, identity).await {
            Ok(p) => p,
            Err(e) => {
                fail(
                    &mut run.outcome,
                    "privilege",
                    started,
                    "cannot list the identity's privileges",
                    &e,
                );
                return Err(());
            }
        }
    } else {
        Vec::new()
    };
    let missing_globs: Vec<&Glob> = s
        .globs
        .iter()
        .filter(|g| {
            !existing
                .iter()
                .any(|p| p.slug == plan::privilege_slug(&s.name, &s.environment, g.as_str()))
        })
        .collect();
    if dry_run {
        let mut nothing = true;
        if stored.is_none() {
            nothing = false;
            run.outcome.steps.push(Line::plan(
                "client-secret",
                format!(
                    "{} is missing: create a client secret and store it",
                    s.stored(&secret_key)
                ),
            ));
        }
        if !member {
            nothing = false;
            run.outcome.steps.push(Line::plan(
                "membership",
                format!("add it to project {} with role no-access", s.project_id),
            ));
        }
        for g in &missing_globs {
            nothing = false;
            run.outcome.steps.push(Line::plan(
                "privilege",
                format!("add read only on {}:{}", s.environment, g.as_str()),
            ));
        }
        if nothing {
            run.outcome
                .steps
                .push(Line::plan("nothing", "already provisioned: nothing to create"));
        }
        return Ok("plan".into());
    }
    let mut changed = false;
    // Set when the stored secret was missing and a new one was made: the
    // older client secrets' values are then known to no one.
    let mut replaced_secret = None;
    let secret = match stored {
        Some(v) => {
            pass(
                run,
                "store",
                started,
                format!("{} is stored", s.stored(&secret_key)),
            );
            v
        }
        None => {
            changed = true;
            let fresh = new_secret(run, identity).await?;
            store(run, &secret_key, &fresh.secret).await?;
            replaced_secret = Some(fresh.id.clone());
            fresh.secret
        }
    };
    if member {
        pass(
            run,
            "membership",
            Instant::now(),
            format!("member of project {}", s.project_id),
        );
    } else {
        changed = true;
        let ((), t) = step!(
            run,
            "membership",
            "cannot add the identity to the project",
            run.vault.create_membership(&s.project_id, identity)
        );
        run.made.push(Made::Membership(identity.to_owned()));
        pass(
            run,
            "membership",
            t,
            format!("member of project {} with role no-access", s.project_id),
        );
    }
    if add_privileges(run, identity, &existing).await? > 0 {
        changed = true;
    }
    verify(run, &ua.client_id, &secret).await?;
    if let Some(kept) = replaced_secret {
        revoke_unknown_secrets(run, identity, &kept).await;
    }
    Ok(if changed {
        "provisioned (completed what was missing)".into()
    } else {
        "already provisioned".into()
    })
}

/// Revokes every client secret but `kept`: nobody holds their values once
/// the stored one was missing. A failure here leaves them live, said so.
async fn revoke_unknown_secrets(run: &mut Run<'_>, identity: &str, kept: &str) {
    let started = Instant::now();
    let ids = match run.vault.client_secret_ids(identity).await {
        Ok(ids) => ids,
        Err(e) => {
            run.outcome.steps.push(Line::new(
                "revoke",
                Status::Warn,
                started,
                format!("cannot list the older client secrets to revoke them: {e}"),
            ));
            return;
        }
    };
    let mut revoked = 0;
    for id in ids.iter().filter(|id| id.as_str() != kept) {
        match run.vault.revoke_client_secret(identity, id).await {
            Ok(()) => revoked += 1,
            Err(e) => {
                run.outcome.steps.push(Line::new(
                    "revoke",
                    Status::Warn,
                    started,
                    format!("cannot revoke the older client secret {id}: {e}"),
                ));
                run.outcome.remains.push(format!(
                    "older client secret {id} of identity {identity} (revoke it in Infisical)"
                ));
                return;
            }
        }
    }
    pass(
        run,
        "revoke",
        started,
        format!("revoked {revoked} older client secret(s) whose value was not stored"),
    );
}
