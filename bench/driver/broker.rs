//! The credential broker's row: p50 added over a direct keep-alive HTTPS
//! request to the same upstream (the secret cached), requests per second at
//! 16 connections, and the broker's private memory (RssAnon) under load.
//!
//! The upstream is an in-process HTTPS server with a CA made for the run
//! (rcgen), answering a small fixed body; the broker is the real binary,
//! reading the sample vault's secret and trusting that CA (--upstream-ca).

use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context as _, Result, bail};
use bytes::Bytes;
use http_body_util::Full;
use infisical_fakevault::{DEMO_CLIENT_ID, DEMO_CLIENT_SECRET, DEMO_PROJECT_ID, RunningVault};

use super::stats::{self, Summary};
use super::{ENV, FOLDER, KEY, SCOPE, procs};

pub struct BrokerResults {
    pub direct: Summary,
    pub brokered: Summary,
    pub rps_16: f64,
    pub rss_anon_kib: Option<u64>,
}

/// Starts a keep-alive HTTPS upstream on 127.0.0.1:0; returns its port and CA PEM.
async fn upstream() -> Result<(u16, String)> {
    use rcgen::{BasicConstraints, CertificateParams, IsCa, KeyPair};
    let ca_key = KeyPair::generate()?;
    let mut ca_params = CertificateParams::new(Vec::<String>::new())?;
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    let ca = ca_params.self_signed(&ca_key)?;
    let leaf_key = KeyPair::generate()?;
    let leaf = CertificateParams::new(vec!["127.0.0.1".to_string()])?.signed_by(&leaf_key, &ca, &ca_key)?;
    let provider = Arc::new(tokio_rustls::rustls::crypto::ring::default_provider());
    let config = tokio_rustls::rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()?
        .with_no_client_auth()
        .with_single_cert(
            vec![leaf.der().clone()],
            tokio_rustls::rustls::pki_types::PrivateKeyDer::Pkcs8(leaf_key.serialize_der().into()),
        )?;
    let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(config));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let port = listener.local_addr()?.port();
    tokio::spawn(async move {
        while let Ok((tcp, _)) = listener.accept().await {
            let acceptor = acceptor.clone();
            tokio::spawn(async move {
                let Ok(tls) = acceptor.accept(tcp).await else {
                    return;
                };
                let service = hyper::service::service_fn(|_req| async {
                    Ok::<_, std::convert::Infallible>(hyper::Response::new(Full::new(Bytes::from_static(
                        b"{\"ok\":true,\"result\":{\"id\":\"0123456789abcdef\"}}",
                    ))))
                });
                let _ = hyper::server::conn::http1::Builder::new()
                    .serve_connection(hyper_util::rt::TokioIo::new(tls), service)
                    .await;
            });
        }
    });
    Ok((port, ca.pem()))
}

async fn sequential(client: &reqwest::Client, url: &str, warmup: usize, n: usize) -> Result<Summary> {
    let mut samples = Vec::with_capacity(n);
    for i in 0..warmup + n {
        let t = Instant::now();
        let answer = client.get(url).send().await?;
        if !answer.status().is_success() {
            bail!("{url} answered {}", answer.status());
        }
        answer.bytes().await?;
        if i >= warmup {
            samples.push(t.elapsed());
        }
    }
    Ok(stats::summarize(&samples))
}

/// Requests per second with `connections` clients, each on its own connection.
async fn throughput(url: &str, connections: usize, per_connection: usize) -> Result<f64> {
    let started = Instant::now();
    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..connections {
        let url = url.to_string();
        tasks.spawn(async move {
            let client = reqwest::Client::builder()
                .no_proxy()
                .pool_max_idle_per_host(1)
                .build()?;
            for _ in 0..per_connection {
                client.get(&url).send().await?.bytes().await?;
            }
            anyhow::Ok(())
        });
    }
    while let Some(done) = tasks.join_next().await {
        done??;
    }
    Ok((connections * per_connection) as f64 / started.elapsed().as_secs_f64())
}

pub async fn run(bin: &Path, vault: &RunningVault, work_dir: &Path, n: usize) -> Result<BrokerResults> {
    let (port, ca_pem) = upstream().await?;
    let ca = work_dir.join("broker-ca.pem");
    std::fs::write(&ca, &ca_pem)?;
    let rules = work_dir.join("broker-rules.toml");
    std::fs::write(
        &rules,
        format!(
            "[[rule]]\nname = \"api\"\nupstream = \"https://127.0.0.1:{port}\"\nsecret = \"{ENV}:{FOLDER}/{KEY}\"\n\
             header = \"Authorization\"\ntemplate = \"Bearer {{}}\"\npaths = [\"/**\"]\n"
        ),
    )?;
    let mut child = tokio::process::Command::new(bin)
        .args(["broker", "--rules"])
        .arg(&rules)
        .arg("--upstream-ca")
        .arg(&ca)
        .args(["--listen", "127.0.0.1:0", "--cache-ttl", "600"])
        .env_clear()
        .env("INFISICAL_HOST_URL", vault.base_url())
        .env("INFISICAL_UNIVERSAL_AUTH_CLIENT_ID", DEMO_CLIENT_ID)
        .env("INFISICAL_UNIVERSAL_AUTH_CLIENT_SECRET", DEMO_CLIENT_SECRET)
        .env("INFISICAL_PROJECT_ID", DEMO_PROJECT_ID)
        .env("INFISICAL_SCOPE", SCOPE)
        .env("RUST_LOG", "warn,infisical_mcp_rs::agent::broker=info")
        .stderr(std::process::Stdio::piped())
        .stdout(std::process::Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .context("cannot start the broker")?;
    let stderr = child.stderr.take().context("no stderr")?;
    let mut lines = tokio::io::AsyncBufReadExt::lines(tokio::io::BufReader::new(stderr));
    let addr = tokio::time::timeout(Duration::from_secs(30), async {
        while let Some(line) = lines.next_line().await? {
            if let Some(at) = line.find("listen=http://") {
                let rest = &line[at + "listen=http://".len()..];
                return anyhow::Ok(
                    rest.split_whitespace()
                        .next()
                        .unwrap_or("")
                        .trim_matches('"')
                        .to_string(),
                );
            }
        }
        bail!("the broker exited before listening")
    })
    .await??;
    // Drain the access lines so that the pipe never fills.
    tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });

    let direct_client = reqwest::Client::builder()
        .no_proxy()
        .add_root_certificate(reqwest::Certificate::from_pem(ca_pem.as_bytes())?)
        .build()?;
    let plain = reqwest::Client::builder().no_proxy().build()?;
    let direct_url = format!("https://127.0.0.1:{port}/client/v4/zones");
    let broker_url = format!("http://{addr}/api/client/v4/zones");
    let warmup = (n / 10).max(5);
    // Alternate the two so that drift in the machine's load hits both.
    let mut direct = Vec::new();
    let mut brokered = Vec::new();
    for _ in 0..4 {
        direct.push(sequential(&direct_client, &direct_url, warmup, n / 4).await?);
        brokered.push(sequential(&plain, &broker_url, warmup, n / 4).await?);
    }
    let median = |v: &[Summary]| {
        let mut p: Vec<f64> = v.iter().map(|s| s.p50).collect();
        p.sort_by(f64::total_cmp);
        Summary {
            p50: p[p.len() / 2],
            ..v[0]
        }
    };
    let rps_16 = throughput(&broker_url, 16, (n / 16).max(20)).await?;
    let rss_anon_kib = child.id().and_then(procs::rss_anon_kib);
    let _ = child.kill().await;
    Ok(BrokerResults {
        direct: median(&direct),
        brokered: median(&brokered),
        rps_16,
        rss_anon_kib,
    })
}

pub fn markdown(r: &BrokerResults) -> String {
    format!(
        "| measure | value |\n|---|---|\n\
         | direct keep-alive HTTPS p50 | {} |\n\
         | through the broker p50 | {} |\n\
         | added by the broker (p50) | {} |\n\
         | broker req/s at 16 connections | {:.0} |\n\
         | broker RssAnon after the load | {} |\n",
        stats::fmt_ms(r.direct.p50),
        stats::fmt_ms(r.brokered.p50),
        stats::fmt_ms(r.brokered.p50 - r.direct.p50),
        r.rps_16,
        stats::fmt_mib(r.rss_anon_kib),
    )
}
