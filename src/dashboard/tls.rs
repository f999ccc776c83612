//! The rustls configuration of a Dashboard connection.
//!
//! reqwest is built with `rustls-no-provider`, so the crypto provider (ring) is chosen here,
//! explicitly, and the finished `ClientConfig` is handed to reqwest as a preconfigured backend.
//! Trust is one of: the platform's roots (default), only the connection's CA bundle
//! (`tls.caSecretRef`), or no verification at all (`tls.insecureSkipVerify`).

use std::sync::Arc;

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::WebPkiSupportedAlgorithms;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{ClientConfig, DigitallySignedStruct, RootCertStore, SignatureScheme};
use rustls_platform_verifier::BuilderVerifierExt;

use super::error::DashboardError;

const OP: &str = "configure tls";

/// Builds the TLS configuration for one connection.
pub fn client_config(
    ca_pem: Option<&[u8]>,
    insecure_skip_verify: bool,
) -> Result<ClientConfig, DashboardError> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let builder = ClientConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()
        .map_err(|e| DashboardError::config(OP, format!("tls versions: {e}")))?;
    let mut config = if insecure_skip_verify {
        builder
            .dangerous()
            .with_custom_certificate_verifier(Arc::new(NoVerification {
                algorithms: provider.signature_verification_algorithms,
            }))
            .with_no_client_auth()
    } else if let Some(pem) = ca_pem {
        builder
            .with_root_certificates(roots_from_pem(pem)?)
            .with_no_client_auth()
    } else {
        builder
            .with_platform_verifier()
            .map_err(|e| DashboardError::config(OP, format!("system trust store: {e}")))?
            .with_no_client_auth()
    };
    // reqwest is built without HTTP/2; offer only what it speaks.
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(config)
}

fn roots_from_pem(pem: &[u8]) -> Result<RootCertStore, DashboardError> {
    let mut roots = RootCertStore::empty();
    for cert in CertificateDer::pem_slice_iter(pem) {
        let cert = cert.map_err(|e| DashboardError::config(OP, format!("ca bundle: {e}")))?;
        roots
            .add(cert)
            .map_err(|e| DashboardError::config(OP, format!("ca certificate: {e}")))?;
    }
    if roots.is_empty() {
        return Err(DashboardError::config(OP, "ca bundle holds no certificate"));
    }
    Ok(roots)
}

/// Accepts any server certificate, as `insecureSkipVerify` asks. Handshake signatures are
/// still checked so the connection is at least consistent with the presented key.
#[derive(Debug)]
struct NoVerification {
    algorithms: WebPkiSupportedAlgorithms,
}

impl ServerCertVerifier for NoVerification {
    fn verify_server_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(message, cert, dss, &self.algorithms)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(message, cert, dss, &self.algorithms)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.algorithms.supported_schemes()
    }
}

/// Finds a rustls certificate error in the chain. hyper nests it in `io::Error`s, whose
/// `source()` skips the wrapped error itself, so those are opened with `get_ref()`.
pub(crate) fn certificate_error<'a>(
    e: &'a (dyn std::error::Error + 'static),
) -> Option<&'a rustls::Error> {
    let mut next = Some(e);
    while let Some(err) = next {
        if let Some(t) = err.downcast_ref::<rustls::Error>() {
            return is_certificate_error(t).then_some(t);
        }
        next = match err
            .downcast_ref::<std::io::Error>()
            .and_then(|io| io.get_ref())
        {
            Some(inner) => Some(inner as &(dyn std::error::Error + 'static)),
            None => err.source(),
        };
    }
    None
}

fn is_certificate_error(e: &rustls::Error) -> bool {
    matches!(
        e,
        rustls::Error::InvalidCertificate(_)
            | rustls::Error::NoCertificatesPresented
            | rustls::Error::UnsupportedNameType
    )
}
