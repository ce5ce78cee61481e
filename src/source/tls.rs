//! TLS for fetches: the platform's certificate verifier, with the system's roots read at
//! the first handshake rather than when the HTTP client is built.
//!
//! Loading the roots reads every file of the system's certificate store (on Debian, the
//! bundle and then each of the 146 files of `/etc/ssl/certs`) and parses them. Done when the
//! client was built, it stood before the first fetch of every run, on one core, whether or
//! not any source is `https`. Deferred, it runs once, at the first `https` handshake; what
//! is trusted, and `SSL_CERT_FILE` and `SSL_CERT_DIR`, are as before.

use std::sync::{Arc, OnceLock};

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::CryptoProvider;
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{DigitallySignedStruct, SignatureScheme};
use rustls_platform_verifier::Verifier;

/// The client's TLS settings: the HTTP client's own (its crypto provider, both protocol
/// versions, HTTP/2 offered before HTTP/1.1) with a [`LazyVerifier`].
pub fn client_config() -> rustls::ClientConfig {
    let provider = CryptoProvider::get_default()
        .cloned()
        .unwrap_or_else(|| Arc::new(rustls::crypto::aws_lc_rs::default_provider()));
    let verifier = LazyVerifier {
        provider: provider.clone(),
        platform: OnceLock::new(),
    };
    let mut config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .expect("the default provider supports the default protocol versions")
        .dangerous()
        .with_custom_certificate_verifier(Arc::new(verifier))
        .with_no_client_auth();
    config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    config
}

/// The platform's verifier, made at its first use. A store that cannot be read fails every
/// `https` fetch with the platform's error, as it failed the whole run before.
#[derive(Debug)]
struct LazyVerifier {
    provider: Arc<CryptoProvider>,
    platform: OnceLock<Result<Verifier, rustls::Error>>,
}

impl LazyVerifier {
    fn platform(&self) -> Result<&Verifier, rustls::Error> {
        self.platform
            .get_or_init(|| Verifier::new(self.provider.clone()))
            .as_ref()
            .map_err(Clone::clone)
    }
}

impl ServerCertVerifier for LazyVerifier {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp_response: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        self.platform()?.verify_server_cert(
            end_entity,
            intermediates,
            server_name,
            ocsp_response,
            now,
        )
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.platform()?.verify_tls12_signature(message, cert, dss)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.platform()?.verify_tls13_signature(message, cert, dss)
    }

    /// Asked for the first message of a handshake, before any certificate: the provider's
    /// schemes, which are what the platform's verifier answers, without reading the roots.
    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.provider
            .signature_verification_algorithms
            .supported_schemes()
    }
}
