//! TLS: a custom CA bundle, the platform roots, and `insecureSkipVerify`, against a small
//! rustls server using the test certificates in `tests/fixtures/dashboard/tls/` (a test CA
//! and a `localhost`/`127.0.0.1` server certificate, valid for 100 years).

use std::io::{Read, Write};
use std::net::TcpListener;
use std::sync::Arc;

use dashboard_user_operator::dashboard::{AdminSecret, ConnectionConfig, DashboardClient};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};

use crate::secrets::{ADMIN_SECRET, assert_clean};

fn pem(name: &str) -> Vec<u8> {
    std::fs::read(format!(
        "{}/tests/fixtures/dashboard/tls/{name}",
        env!("CARGO_MANIFEST_DIR")
    ))
    .unwrap()
}

/// Serves HTTPS on 127.0.0.1: every request gets the 404 of an unknown user, which is what
/// `probe` expects from a healthy Dashboard.
fn start_tls_server() -> String {
    let certs: Vec<CertificateDer<'static>> = CertificateDer::pem_slice_iter(&pem("server.pem"))
        .collect::<Result<_, _>>()
        .unwrap();
    let key = PrivateKeyDer::from_pem_slice(&pem("server.key")).unwrap();
    let config = rustls::ServerConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .unwrap()
    .with_no_client_auth()
    .with_single_cert(certs, key)
    .unwrap();
    let config = Arc::new(config);
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            let config = config.clone();
            std::thread::spawn(move || {
                let conn = rustls::ServerConnection::new(config).unwrap();
                let mut tls = rustls::StreamOwned::new(conn, stream);
                let mut seen = Vec::new();
                let mut buf = [0u8; 1024];
                while !seen.windows(4).any(|w| w == b"\r\n\r\n") {
                    match tls.read(&mut buf) {
                        Ok(0) | Err(_) => return, // e.g. the client refused our certificate
                        Ok(n) => seen.extend_from_slice(&buf[..n]),
                    }
                }
                let body =
                    r#"{"Status":"Error","Message":"Could not retrieve user detail","Meta":null}"#;
                let answer = format!(
                    "HTTP/1.1 404 Not Found\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                    body.len()
                );
                let _ = tls.write_all(answer.as_bytes());
                tls.conn.send_close_notify();
                let _ = tls.flush();
            });
        }
    });
    format!("https://127.0.0.1:{port}")
}

fn config(url: &str) -> ConnectionConfig {
    ConnectionConfig::new(url, AdminSecret::new(ADMIN_SECRET)).unwrap()
}

#[tokio::test]
async fn custom_ca_is_trusted_and_decides_alone() {
    let url = start_tls_server();
    let mut cfg = config(&url);
    cfg.ca_pem = Some(pem("ca.pem"));
    DashboardClient::new(cfg).unwrap().probe().await.unwrap();

    let mut cfg = config(&url);
    cfg.ca_pem = Some(pem("other-ca.pem"));
    let err = DashboardClient::new(cfg)
        .unwrap()
        .probe()
        .await
        .unwrap_err();
    assert_eq!(err.category(), "Config", "{err}");
    assert!(err.to_string().contains("certificate"), "{err}");
    assert_clean(&format!("{err} {err:?}"));
}

#[tokio::test]
async fn platform_roots_do_not_trust_the_test_ca() {
    let url = start_tls_server();
    let err = DashboardClient::new(config(&url))
        .unwrap()
        .probe()
        .await
        .unwrap_err();
    assert_eq!(err.category(), "Config", "{err}");
}

#[tokio::test]
async fn insecure_skip_verify_accepts_any_certificate() {
    let url = start_tls_server();
    let mut cfg = config(&url);
    cfg.insecure_skip_verify = true;
    DashboardClient::new(cfg).unwrap().probe().await.unwrap();
}

#[test]
fn a_bundle_without_certificates_is_a_config_error() {
    let mut cfg = config("https://127.0.0.1:1");
    cfg.ca_pem = Some(b"not a pem".to_vec());
    let err = DashboardClient::new(cfg).unwrap_err();
    assert_eq!(err.category(), "Config", "{err}");
}
