//! The outbound side: one pooled HTTPS client for every rule's origin
//! (keep-alive, HTTP/1.1, rustls), trusting webpki's roots, the system's,
//! and an optional `--upstream-ca` PEM for private upstreams. Redirects are
//! never followed (hyper's client does not follow any), and no
//! `HTTPS_PROXY` meant for other tools is consulted.

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http_body_util::Full;
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use rustls::pki_types::CertificateDer;
use rustls::pki_types::pem::PemObject as _;

use super::error::BrokerError;

pub type Connector = hyper_rustls::HttpsConnector<HttpConnector>;
pub type UpstreamClient = Client<Connector, Full<Bytes>>;

/// Reads the PEM certificates of `--upstream-ca`.
pub fn read_ca(path: &Path) -> Result<Vec<CertificateDer<'static>>, BrokerError> {
    let certs: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(path)
        .and_then(|iter| iter.collect::<Result<Vec<_>, _>>())
        .map_err(|e| {
            BrokerError::Client(format!(
                "--upstream-ca {}: not readable PEM certificates ({e})",
                path.display()
            ))
        })?;
    if certs.is_empty() {
        return Err(BrokerError::Client(format!(
            "--upstream-ca {}: no '-----BEGIN CERTIFICATE-----' block",
            path.display()
        )));
    }
    Ok(certs)
}

/// The TLS client settings: public roots plus `extra`.
pub fn tls_config(extra: &[CertificateDer<'static>]) -> Result<rustls::ClientConfig, BrokerError> {
    let mut roots = rustls::RootCertStore::empty();
    roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
    let _ = roots.add_parsable_certificates(rustls_native_certs::load_native_certs().certs);
    for cert in extra {
        roots.add(cert.clone()).map_err(|e| {
            BrokerError::Client(format!(
                "--upstream-ca: a certificate is not usable as a trust root ({e})"
            ))
        })?;
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    Ok(rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| BrokerError::Client(format!("TLS setup failed: {e}")))?
        .with_root_certificates(roots)
        .with_no_client_auth())
}

/// The HTTPS-only connector over `tls`.
pub fn connector(tls: rustls::ClientConfig, connect_timeout: Duration) -> Connector {
    let mut http = HttpConnector::new();
    http.enforce_http(false);
    http.set_connect_timeout(Some(connect_timeout));
    http.set_keepalive(Some(Duration::from_secs(30)));
    http.set_nodelay(true);
    hyper_rustls::HttpsConnectorBuilder::new()
        .with_tls_config(tls)
        .https_only()
        .enable_http1()
        .wrap_connector(http)
}

/// The pooled client used for every brokered request.
pub fn client(tls: rustls::ClientConfig, connect_timeout: Duration) -> UpstreamClient {
    Client::builder(TokioExecutor::new())
        .pool_idle_timeout(Duration::from_secs(60))
        .pool_max_idle_per_host(64)
        .build(connector(tls, connect_timeout))
}
