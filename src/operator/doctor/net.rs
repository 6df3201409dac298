//! Reachability, one layer at a time so a failure names its layer: DNS, then
//! TCP, then (for https) the TLS handshake. Nothing here sends credentials.

use std::net::SocketAddr;
use std::time::Duration;

use url::Url;

use crate::config::VaultSettings;

/// What went wrong at which layer.
#[derive(Debug)]
pub enum NetFailure {
    Dns(String),
    /// Every address refused the connection: nothing is listening.
    Refused(String),
    Tcp(String),
    Tls(String),
}

/// What each layer found, for the step's detail line.
#[derive(Debug, Default)]
pub struct NetReport {
    pub dns: String,
    pub tcp: String,
    pub tls: String,
}

pub fn host_and_port(url: &Url) -> (String, u16) {
    let host = match url.host() {
        Some(url::Host::Ipv6(ip)) => ip.to_string(),
        Some(h) => h.to_string(),
        None => String::new(),
    };
    (host, url.port_or_known_default().unwrap_or(443))
}

pub async fn check(settings: &VaultSettings) -> Result<NetReport, (NetReport, NetFailure)> {
    let url = &settings.base_url;
    let (host, port) = host_and_port(url);
    let mut report = NetReport::default();
    let addrs: Vec<SocketAddr> = match url.host() {
        Some(url::Host::Domain(_)) => {
            match tokio::time::timeout(
                settings.connect_timeout,
                tokio::net::lookup_host((host.as_str(), port)),
            )
            .await
            {
                Ok(Ok(found)) => found.collect(),
                Ok(Err(e)) => return Err((report, NetFailure::Dns(format!("cannot resolve {host}: {e}")))),
                Err(_) => {
                    return Err((
                        report,
                        NetFailure::Dns(format!(
                            "resolving {host} took longer than {:?}",
                            settings.connect_timeout
                        )),
                    ));
                }
            }
        }
        _ => match format!("{host}:{port}").parse::<SocketAddr>() {
            Ok(a) => vec![a],
            Err(_) => match host.parse::<std::net::IpAddr>() {
                Ok(ip) => vec![SocketAddr::new(ip, port)],
                Err(e) => return Err((report, NetFailure::Dns(format!("bad address {host}: {e}")))),
            },
        },
    };
    if addrs.is_empty() {
        return Err((report, NetFailure::Dns(format!("{host} has no addresses"))));
    }
    report.dns = match url.host() {
        Some(url::Host::Domain(_)) => format!("{host} → {}", join(&addrs)),
        _ => "IP literal, no lookup".into(),
    };

    let connected = connect(&addrs, settings.connect_timeout).await;
    match connected {
        Ok(addr) => report.tcp = format!("connected to {addr}"),
        Err(failure) => return Err((report, failure)),
    }

    if url.scheme() != "https" {
        report.tls = "not used (http://)".into();
        return Ok(report);
    }
    match tls_handshake(url, settings).await {
        Ok(()) => {
            report.tls = "handshake ok".into();
            Ok(report)
        }
        Err(detail) => Err((report, NetFailure::Tls(detail))),
    }
}

fn join(addrs: &[SocketAddr]) -> String {
    addrs
        .iter()
        .map(|a| a.ip().to_string())
        .collect::<Vec<_>>()
        .join(", ")
}

async fn connect(addrs: &[SocketAddr], timeout: Duration) -> Result<SocketAddr, NetFailure> {
    let mut refused = 0;
    let mut last = String::new();
    for addr in addrs {
        match tokio::time::timeout(timeout, tokio::net::TcpStream::connect(addr)).await {
            Ok(Ok(_stream)) => return Ok(*addr),
            Ok(Err(e)) => {
                if e.kind() == std::io::ErrorKind::ConnectionRefused {
                    refused += 1;
                }
                last = format!("{addr}: {e}");
            }
            Err(_) => last = format!("{addr}: no answer within {timeout:?}"),
        }
    }
    if refused == addrs.len() {
        Err(NetFailure::Refused(format!(
            "connection refused at {} (nothing is listening)",
            join_with_port(addrs)
        )))
    } else {
        Err(NetFailure::Tcp(last))
    }
}

fn join_with_port(addrs: &[SocketAddr]) -> String {
    addrs
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join(", ")
}

/// A bare request with the same TLS setup as the vault client: any HTTP
/// answer means the handshake worked. No credentials, no redirects.
async fn tls_handshake(url: &Url, settings: &VaultSettings) -> Result<(), String> {
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .no_proxy()
        .connect_timeout(settings.connect_timeout)
        .timeout(settings.connect_timeout.saturating_mul(2))
        .user_agent(settings.user_agent.clone())
        .build()
        .map_err(|e| format!("cannot build a TLS client: {e}"))?;
    match client.head(url.as_str()).send().await {
        Ok(_) => Ok(()),
        Err(e) if e.is_timeout() => Err(format!(
            "TLS handshake with {} did not finish in time",
            url.host_str().unwrap_or_default()
        )),
        Err(e) => {
            let mut detail = e.to_string();
            let mut source = std::error::Error::source(&e);
            while let Some(s) = source {
                detail = s.to_string();
                source = s.source();
            }
            Err(format!(
                "TLS handshake with {} failed: {detail}",
                url.host_str().unwrap_or_default()
            ))
        }
    }
}
