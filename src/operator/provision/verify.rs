//! The verification, like `doctor`'s, as the new identity through the
//! Cloudflare headers: login, in-scope listing, out-of-scope read and a write
//! both refused.

use super::*;

pub(super) fn agent_client(
    s: &Setup,
    client_id: &str,
    secret: &SecretString,
) -> Result<VaultClient, VaultError> {
    VaultClient::new(
        &s.settings,
        Credentials::UniversalAuth {
            client_id: client_id.to_owned(),
            client_secret: secret.clone(),
        },
    )
}

/// Like `doctor`, as the new identity: login, in-scope listing, an
/// out-of-scope read (its own stored secret) and a write must be refused.
pub(super) async fn verify(run: &mut Run<'_>, client_id: &str, secret: &SecretString) -> Result<(), ()> {
    let s = run.setup;
    let mut failed = false;
    let mut line = |run: &mut Run<'_>, name: &str, status: Status, started: Instant, detail: String| {
        failed |= status == Status::Fail;
        run.outcome
            .verification
            .push(Line::new(name, status, started, detail));
    };
    let started = Instant::now();
    let agent = match agent_client(s, client_id, secret) {
        Ok(c) => c,
        Err(e) => {
            line(run, "login", Status::Fail, started, format!("{e}"));
            return Err(());
        }
    };
    if let Err(e) = agent.authenticate().await {
        line(
            run,
            "login",
            Status::Fail,
            started,
            format!("login as the new identity failed: {e}"),
        );
        return Err(());
    }
    line(
        run,
        "login",
        Status::Pass,
        started,
        format!("logged in as the new identity (client id {client_id})"),
    );

    for glob in &s.globs {
        let started = Instant::now();
        let prefix = glob.literal_prefix();
        let at = Location {
            project_id: s.project_id.clone(),
            environment: s.environment.clone(),
            path: prefix.clone(),
        };
        match agent.list_secrets(&at, ListOptions::names_only(true)).await {
            Ok(list) => line(
                run,
                "in-scope",
                Status::Pass,
                started,
                format!(
                    "listed {}:{} for {}: {} key(s)",
                    s.environment,
                    prefix.as_str(),
                    glob.as_str(),
                    list.secrets.len()
                ),
            ),
            Err(VaultError::NotFound { .. }) => line(
                run,
                "in-scope",
                Status::Warn,
                started,
                format!("{}:{} does not exist yet", s.environment, prefix.as_str()),
            ),
            Err(e) => line(
                run,
                "in-scope",
                Status::Fail,
                started,
                format!("listing {}:{} failed: {e}", s.environment, prefix.as_str()),
            ),
        }
    }

    let started = Instant::now();
    let secret_key = s.secret_key();
    let own = Location {
        project_id: s.project_id.clone(),
        environment: s.store_env.clone(),
        path: s.store.clone(),
    };
    match agent.get_secret(&own, &secret_key, ReadOptions::RAW).await {
        Err(VaultError::PermissionDenied { .. }) => line(
            run,
            "out-of-scope",
            Status::Pass,
            started,
            format!("403 on its own stored secret {}", s.stored(&secret_key)),
        ),
        Ok(_) => line(
            run,
            "out-of-scope",
            Status::Fail,
            started,
            format!("it can read {}: the store is in its scope", s.stored(&secret_key)),
        ),
        Err(e) => line(
            run,
            "out-of-scope",
            Status::Fail,
            started,
            format!("expected 403 on {}, got: {e}", s.stored(&secret_key)),
        ),
    }

    let started = Instant::now();
    let probe_key = format!("PROVISION_PROBE_{:08X}", rand::rng().random::<u32>());
    let folder = s
        .globs
        .first()
        .map(Glob::literal_prefix)
        .unwrap_or_else(SecretPath::root);
    let probe_at = SecretAt {
        project_id: &s.project_id,
        environment: &s.environment,
        path: folder.as_str(),
        key: &probe_key,
    };
    // The same client that logged in: a write must be refused to it too.
    let written = agent.create_secret(&probe_at, &SecretString::from("probe")).await;
    match written {
        Err(VaultError::PermissionDenied { .. }) => line(
            run,
            "write-refused",
            Status::Pass,
            started,
            format!(
                "403 on creating {probe_key} at {}:{}",
                s.environment,
                folder.as_str()
            ),
        ),
        Ok(()) => {
            let cleaned = run.vault.delete_secret(&probe_at).await.is_ok();
            line(
                run,
                "write-refused",
                Status::Fail,
                started,
                format!(
                    "it could create {probe_key} at {}:{} ({})",
                    s.environment,
                    folder.as_str(),
                    if cleaned {
                        "deleted again"
                    } else {
                        "delete it by hand"
                    }
                ),
            );
        }
        Err(e) => line(
            run,
            "write-refused",
            Status::Fail,
            started,
            format!("expected 403 on a write, got: {e}"),
        ),
    }
    if failed { Err(()) } else { Ok(()) }
}
