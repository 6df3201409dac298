//! Growth: how cost grows with the number of sessions and with folder size.
//!
//! - sessions: 1, 10 and 100 MCP servers (separate processes, this binary)
//!   started at once against the one vault; time until all have answered
//!   `initialize`, then every session makes the same number of `get-secret`
//!   calls, all sessions at once; per-call latency over all of them, calls
//!   per second, and VmRSS / RssAnon summed over the processes, per session;
//! - a big folder: `list-secrets` of a folder holding [`BIG_FOLDER_SECRETS`]
//!   secrets, with keys only (the default) and with `--list-values`; time per
//!   call and per secret, answer size, and the server's memory after.

use std::time::{Duration, Instant};

use anyhow::{Context as _, Result};
use infisical_fakevault::{DEMO_PROJECT_ID, RunningVault, VaultData};
use serde_json::{Value, json};

use crate::mcp::{ServerSpec, Session};
use crate::stats::{Summary, summarize};
use crate::{ENV, FOLDER, KEY, procs};

/// The big folder: inside the benchmark scope, next to the usual one.
pub const BIG_FOLDER: &str = "/MooseQuest/bulk";
pub const BIG_FOLDER_SECRETS: usize = 10_000;

/// Adds the big folder to the benchmark's vault data.
pub fn with_big_folder(mut data: VaultData, secrets: usize) -> VaultData {
    for i in 0..secrets {
        data = data.secret(
            DEMO_PROJECT_ID,
            ENV,
            BIG_FOLDER,
            &format!("BULK_SECRET_{i:05}"),
            &format!("bulk-value-{i:05}-0123456789abcdef0123456789abcdef"),
        );
    }
    data
}

#[derive(Debug, Clone)]
pub struct SessionsRow {
    pub sessions: usize,
    /// Spawn of the first → `initialize` answered by the last.
    pub all_ready: Duration,
    pub calls_per_session: usize,
    pub latency: Summary,
    pub calls_per_sec: f64,
    pub rss_total_kib: u64,
    pub anon_total_kib: u64,
    pub logins: usize,
}

#[derive(Debug, Clone)]
pub struct ListRow {
    pub values: bool,
    pub secrets: usize,
    pub latency: Summary,
    pub answer_bytes: usize,
    pub rss_after_kib: Option<u64>,
    pub anon_after_kib: Option<u64>,
}

pub struct ScaleResults {
    pub sessions: Vec<SessionsRow>,
    pub lists: Vec<ListRow>,
}

fn get_args() -> Value {
    json!({"secretName": KEY, "projectId": DEMO_PROJECT_ID, "environmentSlug": ENV, "secretPath": FOLDER})
}

async fn ready(spec: &ServerSpec) -> Result<Session> {
    let mut s = Session::spawn(spec).await?;
    s.initialize().await?;
    s.initialized().await?;
    Ok(s)
}

pub async fn sessions(
    spec: &ServerSpec,
    vault: &RunningVault,
    n: usize,
    calls: usize,
) -> Result<SessionsRow> {
    let logins_before = vault.login_count();
    let t0 = Instant::now();
    let started = futures_util::future::join_all((0..n).map(|_| ready(spec))).await;
    let all_ready = t0.elapsed();
    let mut sessions = started.into_iter().collect::<Result<Vec<_>>>()?;
    let args = get_args();
    // One warm-up call each (login, first connection), then the measured ones.
    let warm =
        futures_util::future::join_all(sessions.iter_mut().map(|s| s.call_tool("get-secret", &args))).await;
    warm.into_iter().collect::<Result<Vec<_>>>()?;
    let t1 = Instant::now();
    let per_session = futures_util::future::join_all(sessions.iter_mut().map(|s| {
        let args = &args;
        async move {
            let mut samples = Vec::with_capacity(calls);
            for _ in 0..calls {
                let t = Instant::now();
                s.call_tool("get-secret", args).await?;
                samples.push(t.elapsed());
            }
            Ok::<_, anyhow::Error>(samples)
        }
    }))
    .await;
    let wall = t1.elapsed();
    let samples: Vec<Duration> = per_session
        .into_iter()
        .collect::<Result<Vec<_>>>()?
        .into_iter()
        .flatten()
        .collect();
    let rss_total_kib = sessions.iter().filter_map(|s| procs::rss_kib(s.pid)).sum();
    let anon_total_kib = sessions.iter().filter_map(|s| procs::rss_anon_kib(s.pid)).sum();
    futures_util::future::join_all(sessions.into_iter().map(Session::close)).await;
    Ok(SessionsRow {
        sessions: n,
        all_ready,
        calls_per_session: calls,
        calls_per_sec: samples.len() as f64 / wall.as_secs_f64(),
        latency: summarize(&samples),
        rss_total_kib,
        anon_total_kib,
        logins: vault.login_count() - logins_before,
    })
}

pub async fn big_list(spec: &ServerSpec, values: bool, secrets: usize, calls: usize) -> Result<ListRow> {
    let mut spec = spec.clone();
    if values {
        spec.args.push("--list-values".into());
    }
    let mut s = ready(&spec).await?;
    let args = json!({"projectId": DEMO_PROJECT_ID, "environmentSlug": ENV, "secretPath": BIG_FOLDER});
    let first = s.call_tool("list-secrets", &args).await?;
    let answer_bytes = first.to_string().len();
    let mut samples = Vec::with_capacity(calls);
    for _ in 0..calls {
        let t = Instant::now();
        s.call_tool("list-secrets", &args).await?;
        samples.push(t.elapsed());
    }
    let rss_after_kib = procs::rss_kib(s.pid);
    let anon_after_kib = procs::rss_anon_kib(s.pid);
    s.close().await;
    Ok(ListRow {
        values,
        secrets,
        latency: summarize(&samples),
        answer_bytes,
        rss_after_kib,
        anon_after_kib,
    })
}

pub async fn run(
    spec: &ServerSpec,
    vault: &RunningVault,
    levels: &[usize],
    calls: usize,
    list_calls: usize,
    big_folder: usize,
) -> Result<ScaleResults> {
    let mut rows = Vec::new();
    for &n in levels {
        println!("scale: {n} sessions × {calls} get-secret");
        let row = tokio::time::timeout(Duration::from_secs(600), sessions(spec, vault, n, calls))
            .await
            .with_context(|| format!("{n} sessions timed out"))??;
        println!(
            "scale: {n} sessions: all ready in {:.1} ms, p50 {:.3} ms, {:.0} calls/s, {:.1} MiB VmRSS / {:.2} MiB RssAnon per session",
            row.all_ready.as_secs_f64() * 1e3,
            row.latency.p50,
            row.calls_per_sec,
            row.rss_total_kib as f64 / 1024.0 / n as f64,
            row.anon_total_kib as f64 / 1024.0 / n as f64,
        );
        rows.push(row);
    }
    let mut lists = Vec::new();
    for values in [false, true] {
        println!("scale: list-secrets of {big_folder} secrets, values {values}");
        let row = big_list(spec, values, big_folder, list_calls).await?;
        println!(
            "scale: list of {} ({}): p50 {:.1} ms, {} bytes, VmRSS {:.1} MiB",
            row.secrets,
            if values { "values" } else { "keys" },
            row.latency.p50,
            row.answer_bytes,
            row.rss_after_kib.unwrap_or(0) as f64 / 1024.0
        );
        lists.push(row);
    }
    Ok(ScaleResults {
        sessions: rows,
        lists,
    })
}
