//! Looking before creating: the same-named identities and which of them
//! `provision` made (its client id is the stored `PFX_CLIENT_ID`), and the
//! glob guard rails that need the vault (store exposure, companions).

use super::*;

/// What the vault holds under `NAME`.
pub(super) enum Found {
    None,
    Ours { id: String, ua: UniversalAuth },
    Conflict(String),
}

/// [`find`], with a failed lookup recorded as the run's failing step.
pub(super) async fn find_or_record(run: &mut Run<'_>) -> Option<Found> {
    match find(run).await {
        Ok(found) => Some(found),
        Err(e) => {
            fail(
                &mut run.outcome,
                "lookup",
                Instant::now(),
                "cannot look the identity up",
                &e,
            );
            None
        }
    }
}

pub(super) async fn find(run: &mut Run<'_>) -> Result<Found, VaultError> {
    let started = Instant::now();
    let setup = run.setup;
    let ids = run
        .vault
        .identities_named(&run.project.org_id, &setup.name)
        .await?;
    let id_key = setup.id_key();
    let stored = run.vault.stored_value(&setup.at(&id_key)).await?;
    let mut ours = Vec::new();
    let mut strangers = Vec::new();
    for id in ids {
        let ua = run.vault.universal_auth(&id).await?;
        match (ua, &stored) {
            (Some(ua), Some(s)) if ua.client_id == s.expose_secret().trim() => ours.push((id, ua)),
            _ => strangers.push(id),
        }
    }
    let found = match (ours.len(), strangers.is_empty()) {
        (0, true) => Found::None,
        (1, true) => {
            let Some((id, ua)) = ours.pop() else {
                return Ok(Found::None);
            };
            Found::Ours { id, ua }
        }
        (_, false) => Found::Conflict(format!(
            "an identity named {} exists that provision did not make (id {}): its universal-auth client id is not the one stored at {}. \
             Infisical does not keep names unique, so this run will not create a second one; pick another NAME, or remove that identity in Infisical first",
            setup.name,
            strangers.join(", "),
            setup.stored(&id_key)
        )),
        _ => Found::Conflict(format!(
            "{} identities named {} match the stored client id; remove the extra ones in Infisical first",
            ours.len(),
            setup.name
        )),
    };
    let detail = match &found {
        Found::None => format!("no identity named {} yet", setup.name),
        Found::Ours { id, .. } => format!(
            "{id} exists and was made by provision (its client id is the one stored at {})",
            setup.stored(&id_key)
        ),
        Found::Conflict(why) => why.clone(),
    };
    let status = if matches!(found, Found::Conflict(_)) {
        Status::Fail
    } else {
        Status::Pass
    };
    run.outcome
        .steps
        .push(Line::new("lookup", status, started, detail));
    Ok(found)
}

/// Folders holding `*_CLIENT_SECRET` in the store environment, as far as the
/// admin identity sees them.
pub(super) async fn companions(run: &Run<'_>) -> Vec<String> {
    match run
        .vault
        .secret_keys(&run.setup.project_id, &run.setup.store_env, "/", true)
        .await
    {
        Ok(keys) => {
            let mut paths: Vec<String> = keys
                .into_iter()
                .filter(|(_, k)| k.ends_with("_CLIENT_SECRET"))
                .map(|(p, _)| p)
                .collect();
            paths.sort();
            paths.dedup();
            paths
        }
        Err(e) => {
            tracing::debug!(error = %e, "could not list the store environment for client secrets");
            Vec::new()
        }
    }
}

/// The glob guard rails; `Err` holds the refusal.
pub(super) async fn check_globs(run: &mut Run<'_>, allow_broad: bool) -> Result<(), String> {
    let setup = run.setup;
    for glob in &setup.globs {
        if plan::is_broad(glob) && !allow_broad {
            return Err(plan::GlobRefusal::Broad {
                glob: glob.as_str().to_owned(),
            }
            .to_string());
        }
        run.outcome.warnings.extend(plan::pitfalls(glob));
    }
    if setup.environment != setup.store_env {
        return Ok(());
    }
    let known = companions(run).await;
    for glob in &setup.globs {
        if let Some(example) = plan::store_exposure(glob, &setup.store, &setup.store_root, &known) {
            let prefix = glob.literal_prefix();
            let names = run
                .vault
                .folder_names(&setup.project_id, &setup.environment, prefix.as_str())
                .await
                .unwrap_or_default();
            let suggestions = names
                .iter()
                .filter_map(|n| prefix.join(n).ok())
                .filter(|p| {
                    !setup.store.is_at_or_below(p)
                        && plan::store_exposure(
                            &Glob::new(&format!("{}/**", p.as_str())).unwrap_or_else(|_| glob.clone()),
                            &setup.store,
                            &setup.store_root,
                            &known,
                        )
                        .is_none()
                })
                .map(|p| format!("--glob '{}/**'", p.as_str()))
                .take(5)
                .collect();
            return Err(plan::GlobRefusal::CoversStore {
                glob: glob.as_str().to_owned(),
                store: format!("{}:{}", setup.store_env, setup.store_root.as_str()),
                example,
                suggestions,
            }
            .to_string());
        }
    }
    Ok(())
}
