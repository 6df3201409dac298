//! The benchmark driver behind `bench/run` (see bench/README.md).
//!
//! It starts the fake Infisical in-process on 127.0.0.1:0 (on its own
//! runtime threads), then measures, in one run and against that one vault:
//! - MCP: this binary vs the official `@infisical/mcp` (through `npx` and
//!   through `node` directly): cold start, RSS, per-call latency against a
//!   direct read of the same data, logins per 1,000 calls;
//! - proxy: this binary's `--proxy` vs a direct request, a stdlib Python
//!   header proxy and nginx: added latency and throughput at 1/16/64
//!   connections, RSS under load;
//! - scale: 1, 10 and 100 concurrent sessions of this binary, and a
//!   10,000-secret folder listed with and without values (`scale.rs`);
//!
//! and writes a Markdown report with the ratios against the targets (in
//! `report::verdicts`). Every loop is bounded in count and has a timeout; all traffic
//! stays on 127.0.0.1. Nothing here asserts a timing.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::print_stdout, clippy::panic)]

mod broker;
mod load;
mod mcp;
mod procs;
mod proxies;
mod report;
mod scale;
mod stats;

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use anyhow::{Context as _, Result, bail};
use clap::Parser;
use infisical_fakevault::{
    self as fakevault, CfGate, DEMO_CF_CLIENT_ID, DEMO_CF_CLIENT_SECRET, DEMO_CLIENT_ID, DEMO_CLIENT_SECRET,
    DEMO_PROJECT_ID, FakeVault, RunningVault, VaultData,
};
use serde_json::json;

/// The read every benchmark uses: a secret and its folder in the sample vault.
pub const ENV: &str = "prod";
pub const FOLDER: &str = "/MooseQuest/cloudflare";
pub const KEY: &str = "CF_DNS_EDIT_RAXX_APP";
pub const SCOPE: &str = "dev:/agents/warden/** prod:/MooseQuest/**";

#[derive(Parser, Debug)]
#[command(about = "infisical-mcp-rs benchmarks (run through bench/run)")]
struct Args {
    /// Tiny counts: checks that everything still starts and answers (< 60 s).
    #[arg(long)]
    smoke: bool,
    /// The infisical-mcp-rs binary to measure.
    #[arg(long)]
    bin: PathBuf,
    /// tests/clients, with node_modules installed (`npm ci --prefix tests/clients`).
    #[arg(long, default_value = "tests/clients")]
    clients: PathBuf,
    /// The stdlib Python header proxy.
    #[arg(long, default_value = "bench/header_proxy.py")]
    python_proxy: PathBuf,
    /// nginx binary; omitted = nginx is skipped.
    #[arg(long)]
    nginx: Option<PathBuf>,
    /// Where the Markdown report goes.
    #[arg(long)]
    out: PathBuf,
    /// Hand-written analysis appended to the report, if it exists.
    #[arg(long)]
    analysis: Option<PathBuf>,
    /// Scratch directory for logs and generated configs.
    #[arg(long)]
    work_dir: PathBuf,
    /// The command line to print in the report.
    #[arg(long, default_value = "bench/run")]
    command: String,
    /// Only these parts: mcp, proxy, scale (default all); `broker` (only when
    /// named) measures the credential broker alone.
    #[arg(long, value_delimiter = ',')]
    only: Vec<String>,
    /// For tuning, not for the report: another build of this crate measured
    /// in the same run next to --bin, as NAME=PATH, optionally followed by
    /// environment variables: NAME=PATH@K=V@K=V. Repeatable.
    #[arg(long, value_parser = parse_variant)]
    compare: Vec<Variant>,
    /// For tuning: skip the official server, the CF-gate-on session and the
    /// Python proxy (the slow baselines), keeping direct reads and nginx.
    #[arg(long)]
    quick: bool,
    /// For tuning: the proxy load levels as CONNS×REQUESTS (or CONNSxREQUESTS),
    /// comma-separated, instead of the plan's (e.g. `--levels 64x200`).
    #[arg(long, value_delimiter = ',', value_parser = parse_level)]
    levels: Vec<(usize, usize)>,
    /// For tuning: passes over the proxies instead of the plan's (even).
    #[arg(long)]
    passes: Option<usize>,
}

fn parse_level(s: &str) -> Result<(usize, usize), String> {
    let (conns, requests) = s
        .split_once(['x', '×'])
        .ok_or_else(|| format!("expected CONNSxREQUESTS, got {s}"))?;
    let number = |v: &str| v.trim().parse::<usize>().map_err(|e| format!("{v}: {e}"));
    Ok((number(conns)?, number(requests)?))
}

#[derive(Clone, Debug)]
pub struct Variant {
    name: String,
    bin: PathBuf,
    env: Vec<(String, String)>,
}

fn parse_variant(s: &str) -> Result<Variant, String> {
    let (name, rest) = s.split_once('=').ok_or("expected NAME=PATH[@K=V...]")?;
    let mut parts = rest.split('@');
    let bin = PathBuf::from(parts.next().unwrap_or_default());
    let env = parts
        .map(|kv| {
            kv.split_once('=')
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .ok_or_else(|| format!("expected K=V, got {kv}"))
        })
        .collect::<Result<_, _>>()?;
    Ok(Variant {
        name: name.to_string(),
        bin,
        env,
    })
}

#[derive(Clone, Debug)]
pub struct Plan {
    pub cold_runs: usize,
    pub warmup: usize,
    pub calls: usize,
    /// (connections, measured requests per connection)
    pub levels: Vec<(usize, usize)>,
    pub load_warmup_per_conn: usize,
    /// Passes over the proxies (even: forward and backward in pairs).
    pub proxy_passes: usize,
    /// Concurrent sessions for the growth row, and `get-secret` calls each.
    pub scale_sessions: Vec<usize>,
    pub scale_calls: usize,
    /// Secrets in the big folder, and measured `list-secrets` calls of it.
    pub big_folder: usize,
    pub big_list_calls: usize,
}

impl Plan {
    fn full() -> Self {
        Plan {
            cold_runs: 25,
            warmup: 50,
            calls: 1000,
            levels: vec![(1, 3000), (16, 600), (64, 200)],
            load_warmup_per_conn: 10,
            proxy_passes: 4,
            scale_sessions: vec![1, 10, 100],
            scale_calls: 100,
            big_folder: scale::BIG_FOLDER_SECRETS,
            big_list_calls: 20,
        }
    }
    fn smoke() -> Self {
        Plan {
            cold_runs: 2,
            warmup: 3,
            calls: 20,
            levels: vec![(1, 20), (16, 4), (64, 2)],
            load_warmup_per_conn: 1,
            proxy_passes: 2,
            scale_sessions: vec![1, 3],
            scale_calls: 3,
            big_folder: 500,
            big_list_calls: 2,
        }
    }
}

fn main() -> Result<()> {
    let args = Args::parse();
    let mut plan = if args.smoke { Plan::smoke() } else { Plan::full() };
    if !args.levels.is_empty() {
        plan.levels = args.levels.clone();
    }
    if let Some(passes) = args.passes {
        plan.proxy_passes = passes.max(1);
    }
    std::fs::create_dir_all(&args.work_dir)?;
    let started = Instant::now();

    // The vault gets its own threads so that the load generator's tasks do
    // not queue behind it on the same runtime.
    let vault_rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .thread_name("fakevault")
        .enable_all()
        .build()?;
    let vault: RunningVault = vault_rt.block_on(async {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        FakeVault::new(scale::with_big_folder(VaultData::sample(), plan.big_folder))
            .identity(fakevault::demo_identity())
            .start(listener)
            .await
    })?;
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;

    let env = report::Environment::collect(&args.bin, &args.clients, args.nginx.as_deref(), &args.command);
    println!(
        "bench: {} mode; vault at {}",
        if args.smoke { "smoke" } else { "full" },
        vault.base_url()
    );
    let want = |part: &str| args.only.is_empty() || args.only.iter().any(|p| p == part);
    // The broker's row runs only when named (`--only broker`): its own report.
    if args.only.iter().any(|p| p == "broker") {
        let n = if args.smoke { 200 } else { 4000 };
        let result = rt.block_on(broker::run(&args.bin, &vault, &args.work_dir, n))?;
        let text = broker::markdown(&result);
        println!("{text}");
        std::fs::write(&args.out, text)?;
        vault_rt.block_on(vault.shutdown());
        return Ok(());
    }

    let mcp = if want("mcp") {
        Some(rt.block_on(run_mcp(&args, &plan, &vault))?)
    } else {
        None
    };
    let proxy = if want("proxy") {
        Some(rt.block_on(run_proxies(&args, &plan, &vault))?)
    } else {
        None
    };
    let scale = if want("scale") {
        let spec = specs(&args, &vault)?.remove(0);
        vault.set_gate(CfGate::Off);
        Some(rt.block_on(scale::run(
            &spec,
            &vault,
            &plan.scale_sessions,
            plan.scale_calls,
            plan.big_list_calls,
            plan.big_folder,
        ))?)
    } else {
        None
    };
    let elapsed = started.elapsed();
    let analysis = args
        .analysis
        .as_ref()
        .and_then(|p| std::fs::read_to_string(p).ok())
        .filter(|_| !args.smoke);
    let md = report::markdown(
        &env,
        &plan,
        args.smoke,
        mcp.as_ref(),
        proxy.as_ref(),
        scale.as_ref(),
        elapsed,
        analysis.as_deref(),
    );
    if let Some(dir) = args.out.parent() {
        std::fs::create_dir_all(dir)?;
    }
    std::fs::write(&args.out, &md).with_context(|| format!("write {}", args.out.display()))?;
    println!("\n{}", report::headline(mcp.as_ref(), proxy.as_ref()));
    if args.smoke {
        println!("bench: smoke run (tiny counts, possibly a debug build): the verdicts above mean nothing");
    }
    println!(
        "bench: done in {:.0} s; report: {}",
        elapsed.as_secs_f64(),
        args.out.display()
    );
    vault_rt.block_on(vault.shutdown());
    Ok(())
}

/// The `get-secret` arguments every MCP measurement uses.
pub fn get_secret_args() -> serde_json::Value {
    json!({"secretName": KEY, "projectId": DEMO_PROJECT_ID, "environmentSlug": ENV,
           "secretPath": FOLDER, "expandSecretReferences": true, "includeImports": true})
}

/// The `list-secrets` arguments of the same folder.
pub fn list_secrets_args() -> serde_json::Value {
    json!({"projectId": DEMO_PROJECT_ID, "environmentSlug": ENV, "secretPath": FOLDER,
           "expandSecretReferences": true, "includeImports": true})
}

/// The read sent through every proxy: the same secret, by the v3 raw route.
pub fn proxy_read_path() -> String {
    format!(
        "/api/v3/secrets/raw/{KEY}?workspaceId={DEMO_PROJECT_ID}&environment={ENV}&secretPath={}",
        FOLDER.replace('/', "%2F")
    )
}

fn ours_env(vault: &RunningVault) -> Vec<(String, String)> {
    [
        ("INFISICAL_HOST_URL", vault.base_url()),
        ("INFISICAL_UNIVERSAL_AUTH_CLIENT_ID", DEMO_CLIENT_ID.into()),
        (
            "INFISICAL_UNIVERSAL_AUTH_CLIENT_SECRET",
            DEMO_CLIENT_SECRET.into(),
        ),
        ("CF_ACCESS_CLIENT_ID", DEMO_CF_CLIENT_ID.into()),
        ("CF_ACCESS_CLIENT_SECRET", DEMO_CF_CLIENT_SECRET.into()),
        ("INFISICAL_PROJECT_ID", DEMO_PROJECT_ID.into()),
        ("INFISICAL_ENVIRONMENT", ENV.into()),
        ("INFISICAL_SCOPE", SCOPE.into()),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v))
    .collect()
}

fn official_env(vault: &RunningVault) -> Vec<(String, String)> {
    [
        ("INFISICAL_HOST_URL", vault.base_url()),
        ("INFISICAL_UNIVERSAL_AUTH_CLIENT_ID", DEMO_CLIENT_ID.into()),
        (
            "INFISICAL_UNIVERSAL_AUTH_CLIENT_SECRET",
            DEMO_CLIENT_SECRET.into(),
        ),
        // The local install answers; these keep npm itself off the network.
        ("npm_config_offline", "true".into()),
        ("npm_config_update_notifier", "false".into()),
        ("npm_config_fund", "false".into()),
        ("npm_config_audit", "false".into()),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v))
    .collect()
}

pub fn official_js(clients: &Path) -> PathBuf {
    clients.join("node_modules/@infisical/mcp/dist/index.js")
}

fn specs(args: &Args, vault: &RunningVault) -> Result<Vec<mcp::ServerSpec>> {
    let log = |name: &str| args.work_dir.join(format!("mcp-{name}.stderr.log"));
    let mut out = vec![mcp::ServerSpec {
        name: "infisical-mcp-rs".into(),
        program: args.bin.clone(),
        args: vec!["serve".into()],
        cwd: None,
        env: ours_env(vault),
        stderr_log: log("ours"),
    }];
    for v in &args.compare {
        let mut env = ours_env(vault);
        env.extend(v.env.iter().cloned());
        out.push(mcp::ServerSpec {
            name: format!("variant {}", v.name),
            program: v.bin.clone(),
            args: vec!["serve".into()],
            cwd: None,
            env,
            stderr_log: log(&format!("variant-{}", v.name)),
        });
    }
    if args.quick {
        return Ok(out);
    }
    let js = official_js(&args.clients);
    if !js.exists() {
        bail!(
            "{} is missing: run `npm ci --prefix tests/clients` (bench/run does)",
            js.display()
        );
    }
    out.push(mcp::ServerSpec {
        name: "@infisical/mcp via node".into(),
        program: "node".into(),
        args: vec![js.display().to_string()],
        cwd: None,
        env: official_env(vault),
        stderr_log: log("node"),
    });
    // The way users start it: `npx -y @infisical/mcp`, run in tests/clients
    // so that npm resolves the local install and makes no network call.
    // (`--prefix` finds the package but then cannot run its bin.)
    out.push(mcp::ServerSpec {
        name: "@infisical/mcp via npx".into(),
        program: "npx".into(),
        args: vec!["-y".into(), "@infisical/mcp".into()],
        cwd: Some(args.clients.clone()),
        env: official_env(vault),
        stderr_log: log("npx"),
    });
    Ok(out)
}

pub struct McpResults {
    pub servers: Vec<mcp::ServerResult>,
    /// This binary again, with the Cloudflare Access gate on.
    pub ours_gated: Option<mcp::ServerResult>,
}

async fn run_mcp(args: &Args, plan: &Plan, vault: &RunningVault) -> Result<McpResults> {
    let counts = mcp::Counts {
        cold_runs: plan.cold_runs,
        warmup: plan.warmup,
        calls: plan.calls,
    };
    let get_args = get_secret_args();
    let list_args = list_secrets_args();
    let specs = specs(args, vault)?;
    vault.set_gate(CfGate::Off);
    let mut servers = Vec::new();
    for spec in &specs {
        println!("mcp: {}: cold start ×{}", spec.name, counts.cold_runs);
        let cold = mcp::cold_start(spec, counts.cold_runs).await?;
        println!(
            "mcp: {}: session ({} × get-secret, {} × list-secrets)",
            spec.name, counts.calls, counts.calls
        );
        let mut r = mcp::session(spec, vault, &get_args, &list_args, &counts)
            .await
            .with_context(|| format!("{} session", spec.name))?;
        r.cold_start = cold;
        println!(
            "mcp: {}: cold {} ms, get p50 {} ms, list p50 {} ms, RSS {} MiB",
            r.name,
            stats::fmt_ms(r.cold_start.p50),
            stats::fmt_ms(r.get.p50),
            stats::fmt_ms(r.list.p50),
            stats::fmt_mib(r.rss_init_kib)
        );
        servers.push(r);
    }
    if args.quick {
        return Ok(McpResults {
            servers,
            ours_gated: None,
        });
    }
    vault.set_gate(fakevault::demo_gate());
    let mut gated_spec = specs[0].clone();
    gated_spec.name = "infisical-mcp-rs, CF gate on".into();
    let ours_gated = mcp::session(&gated_spec, vault, &get_args, &list_args, &counts).await?;
    vault.set_gate(CfGate::Off);
    Ok(McpResults {
        servers,
        ours_gated: Some(ours_gated),
    })
}

pub struct ProxyRun {
    pub name: String,
    pub levels: Vec<load::LoadResult>,
    pub rss_idle_kib: Option<u64>,
    pub rss_peak_kib: Option<u64>,
}

pub struct ProxyResults {
    pub runs: Vec<ProxyRun>,
    pub path: String,
    pub skipped: Vec<String>,
}

async fn levels(
    target: &load::Target,
    path: &str,
    plan: &Plan,
    pid: Option<u32>,
) -> Result<Vec<load::LoadResult>> {
    let mut out = Vec::new();
    for &(conns, per_conn) in &plan.levels {
        let cpu_before = pid.and_then(procs::tree_cpu_ticks);
        let mut r = tokio::time::timeout(
            Duration::from_secs(300),
            load::run(target, path, conns, per_conn, plan.load_warmup_per_conn),
        )
        .await
        .with_context(|| format!("{} at {conns} connections timed out", target.name))?
        .with_context(|| format!("{} at {conns} connections", target.name))?;
        // Includes the warm-up requests, which are counted in.
        if let (Some(before), Some(after)) = (cpu_before, pid.and_then(procs::tree_cpu_ticks)) {
            let requests = r.requests + conns * plan.load_warmup_per_conn;
            r.cpu_us_per_req = Some((after - before) as f64 / procs::TICKS_PER_SEC * 1e6 / requests as f64);
        }
        println!(
            "proxy: {:<28} c={:<3} p50 {:>7} ms  p99 {:>7} ms  {:>8.0} req/s  cpu {:>6} µs/req",
            target.name,
            conns,
            stats::fmt_ms(r.latency.p50),
            stats::fmt_ms(r.latency.p99),
            r.rps,
            r.cpu_us_per_req.map_or("n/a".into(), |c| format!("{c:.0}"))
        );
        out.push(r);
    }
    Ok(out)
}

/// Several passes over the same levels as one: requests, measured time and
/// latencies pooled (percentiles over every request of every pass), CPU per
/// request averaged, and each pass's p99 and req/s kept for the report.
fn pool_levels(passes: &[Vec<load::LoadResult>]) -> Vec<load::LoadResult> {
    let levels = passes.first().map_or(0, Vec::len);
    (0..levels)
        .map(|level| {
            let runs: Vec<&load::LoadResult> = passes.iter().filter_map(|pass| pass.get(level)).collect();
            let samples: Vec<Duration> = runs.iter().flat_map(|r| r.samples.iter().copied()).collect();
            let wall: Duration = runs.iter().map(|r| r.wall).sum();
            let cpu: Vec<f64> = runs.iter().filter_map(|r| r.cpu_us_per_req).collect();
            load::LoadResult {
                conns: runs.first().map_or(0, |r| r.conns),
                requests: samples.len(),
                wall,
                latency: stats::summarize(&samples),
                rps: samples.len() as f64 / wall.as_secs_f64().max(1e-9),
                cpu_us_per_req: (!cpu.is_empty()).then(|| cpu.iter().sum::<f64>() / cpu.len() as f64),
                pass_p99: runs.iter().flat_map(|r| r.pass_p99.iter().copied()).collect(),
                pass_rps: runs.iter().flat_map(|r| r.pass_rps.iter().copied()).collect(),
                samples,
            }
        })
        .collect()
}

/// The order of `n` proxies in pass `pass` of `passes`. Passes come in pairs,
/// forward then backward, and each pair starts `n / pairs` places further on:
/// with four passes of four proxies each proxy runs once in each place, so
/// none is always the first after the direct run (which costs it at p99)
/// or always next to the same neighbour.
fn pass_order(n: usize, pass: usize, passes: usize) -> Vec<usize> {
    let pairs = passes.div_ceil(2).max(1);
    let shift = (pass / 2) * n / pairs;
    let forward = (0..n).map(|place| (place + shift) % n);
    if pass.is_multiple_of(2) {
        forward.collect()
    } else {
        forward.rev().collect()
    }
}

async fn measure_proxy(running: proxies::Running, path: &str, token: &str, plan: &Plan) -> Result<ProxyRun> {
    let target = load::Target {
        name: running.name.clone(),
        base: running.base(),
        headers: vec![("authorization".into(), format!("Bearer {token}"))],
    };
    // One request so that lazy start-up work is done before the idle reading.
    let _ = load::run(&target, path, 1, 1, 0).await;
    tokio::time::sleep(Duration::from_millis(200)).await;
    let rss_idle_kib = procs::tree_rss_kib(running.pid());
    let sampler = procs::RssSampler::start(running.pid(), Duration::from_millis(50));
    let result = levels(&target, path, plan, Some(running.pid())).await;
    let rss_peak_kib = sampler.finish();
    let name = running.name.clone();
    running.stop();
    Ok(ProxyRun {
        name,
        levels: result?,
        rss_idle_kib,
        rss_peak_kib,
    })
}

async fn run_proxies(args: &Args, plan: &Plan, vault: &RunningVault) -> Result<ProxyResults> {
    vault.set_gate(fakevault::demo_gate());
    let token = vault.issue_token(DEMO_CLIENT_ID);
    let path = proxy_read_path();
    let base = vault.base_url();
    let mut runs = Vec::new();
    let mut skipped = Vec::new();

    let direct = load::Target {
        name: "direct (no proxy)".into(),
        base: base.clone(),
        headers: vec![
            ("authorization".into(), format!("Bearer {token}")),
            ("cf-access-client-id".into(), DEMO_CF_CLIENT_ID.into()),
            ("cf-access-client-secret".into(), DEMO_CF_CLIENT_SECRET.into()),
            ("user-agent".into(), proxies::PROXY_USER_AGENT.into()),
        ],
    };

    // Each proxy is started fresh for each of `plan.proxy_passes` passes, in
    // the orders of `pass_order`, between a direct run before and after, and
    // reported with the passes pooled.
    type Start<'a> = Box<dyn Fn() -> Result<proxies::Running> + 'a>;
    let base = base.as_str();
    let mut starts: Vec<Start> = vec![Box::new(|| proxies::ours(&args.bin, base, &args.work_dir, None))];
    for v in &args.compare {
        starts.push(Box::new(move || {
            proxies::ours_as(
                &v.bin,
                base,
                &args.work_dir,
                &format!("variant {}", v.name),
                &format!("-{}", v.name),
                &v.env,
            )
        }));
    }
    // The same without the per-request access log line: what logging costs.
    starts.push(Box::new(|| {
        proxies::ours(&args.bin, base, &args.work_dir, Some("warn"))
    }));
    if !args.quick {
        starts.push(Box::new(|| {
            proxies::python(&args.python_proxy, base, &args.work_dir)
        }));
    }
    match &args.nginx {
        Some(bin) => starts.push(Box::new(move || proxies::nginx(bin, base, &args.work_dir))),
        None => skipped.push("nginx (not installed; `bench/run` installs it with apt-get)".into()),
    }

    let direct_first = levels(&direct, &path, plan, None).await?;
    vault.clear_requests();
    let mut by_proxy: Vec<Vec<ProxyRun>> = starts.iter().map(|_| Vec::new()).collect();
    for pass in 0..plan.proxy_passes {
        for index in pass_order(starts.len(), pass, plan.proxy_passes) {
            by_proxy[index].push(measure_proxy(starts[index]()?, &path, &token, plan).await?);
            vault.clear_requests();
        }
    }
    let direct_last = levels(&direct, &path, plan, None).await?;
    runs.push(ProxyRun {
        name: direct.name.clone(),
        levels: pool_levels(&[direct_first, direct_last]),
        rss_idle_kib: None,
        rss_peak_kib: None,
    });
    for proxy in by_proxy {
        let levels: Vec<Vec<load::LoadResult>> = proxy.iter().map(|run| run.levels.clone()).collect();
        let Some(first) = proxy.first() else { continue };
        runs.push(ProxyRun {
            name: first.name.clone(),
            levels: pool_levels(&levels),
            rss_idle_kib: proxy.iter().filter_map(|run| run.rss_idle_kib).max(),
            rss_peak_kib: proxy.iter().filter_map(|run| run.rss_peak_kib).max(),
        });
    }
    vault.clear_requests();
    vault.set_gate(CfGate::Off);
    Ok(ProxyResults { runs, path, skipped })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn four_passes_put_each_of_four_proxies_once_in_each_place() {
        let orders: Vec<Vec<usize>> = (0..4).map(|pass| pass_order(4, pass, 4)).collect();
        assert_eq!(orders[0], [0, 1, 2, 3]);
        assert_eq!(orders[1], [3, 2, 1, 0]);
        for proxy in 0..4 {
            let mut places: Vec<usize> = orders
                .iter()
                .map(|order| order.iter().position(|&p| p == proxy).unwrap_or(usize::MAX))
                .collect();
            places.sort_unstable();
            assert_eq!(places, [0, 1, 2, 3], "proxy {proxy}");
        }
    }

    #[test]
    fn every_pass_runs_every_proxy_once() {
        for n in 1..7 {
            for passes in [2, 4, 6] {
                for pass in 0..passes {
                    let mut order = pass_order(n, pass, passes);
                    order.sort_unstable();
                    assert_eq!(order, (0..n).collect::<Vec<_>>(), "n {n} pass {pass}/{passes}");
                }
            }
        }
    }

    #[test]
    fn pooled_percentiles_come_from_every_request() {
        let pass = |ms: &[u64], wall_ms: u64| {
            let samples: Vec<Duration> = ms.iter().copied().map(Duration::from_millis).collect();
            let latency = stats::summarize(&samples);
            load::LoadResult {
                conns: 1,
                requests: samples.len(),
                wall: Duration::from_millis(wall_ms),
                latency,
                rps: 0.0,
                cpu_us_per_req: Some(10.0),
                pass_p99: vec![latency.p99],
                pass_rps: vec![samples.len() as f64 / (wall_ms as f64 / 1000.0)],
                samples,
            }
        };
        // One slow pass: its stall is 1 of 4 samples pooled, not half a mean.
        let quick: Vec<u64> = vec![1; 3];
        let pooled = pool_levels(&[vec![pass(&quick, 3)], vec![pass(&[40], 40)]]);
        assert_eq!(pooled.len(), 1);
        let level = &pooled[0];
        assert_eq!(level.requests, 4);
        assert_eq!(level.latency.p50, 1.0);
        assert_eq!(level.latency.max, 40.0);
        assert_eq!(level.pass_p99, [1.0, 40.0]);
        assert_eq!(level.pass_rps, [1000.0, 25.0]);
        assert!((level.rps - 4.0 / 0.043).abs() < 1e-6);
        assert_eq!(level.cpu_us_per_req, Some(10.0));
    }
}
