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

/// The client's TLS settings: those the HTTP client makes for itself (its crypto provider,
/// TLS 1.3 and 1.2, HTTP/2 offered before HTTP/1.1, SNI) with a [`LazyVerifier`]. Given to
/// the client whole, they replace its own TLS options: any wanted belongs here.
pub fn client_config() -> Result<rustls::ClientConfig, rustls::Error> {
    let provider = CryptoProvider::get_default()
        .cloned()
        .unwrap_or_else(|| Arc::new(rustls::crypto::aws_lc_rs::default_provider()));
    let verifier = LazyVerifier {
        provider: provider.clone(),
        platform: OnceLock::new(),
        make: Verifier::new,
    };
    let mut config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()?
        .dangerous()
        .with_custom_certificate_verifier(Arc::new(verifier))
        .with_no_client_auth();
    config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    Ok(config)
}

/// The platform's verifier, made at its first use. While the roots cannot be read, each
/// handshake tries again and fails with the platform's reason, so a daemon started before
/// its certificates were in place takes them up without a restart.
#[derive(Debug)]
struct LazyVerifier {
    provider: Arc<CryptoProvider>,
    platform: OnceLock<Verifier>,
    /// [`Verifier::new`]; another in tests.
    make: fn(Arc<CryptoProvider>) -> Result<Verifier, rustls::Error>,
}

impl LazyVerifier {
    fn platform(&self) -> Result<&Verifier, rustls::Error> {
        if let Some(verifier) = self.platform.get() {
            return Ok(verifier);
        }
        let made = (self.make)(self.provider.clone())?;
        Ok(self.platform.get_or_init(|| made))
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

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};

    use rustls::pki_types::pem::PemObject;

    use super::*;

    #[test]
    fn the_client_offers_http2_then_http1_and_names_the_server() {
        let config = client_config().expect("the default provider");
        assert_eq!(
            config.alpn_protocols,
            [b"h2".to_vec(), b"http/1.1".to_vec()]
        );
        assert!(config.enable_sni);
    }

    /// Calls of [`no_roots_then_the_test_authority`].
    static MADE: AtomicUsize = AtomicUsize::new(0);

    /// Fails the first time, as a store of roots not yet in place would; then trusts the
    /// test authority of `tests/fixtures/tls`.
    fn no_roots_then_the_test_authority(
        provider: Arc<CryptoProvider>,
    ) -> Result<Verifier, rustls::Error> {
        if MADE.fetch_add(1, Ordering::SeqCst) == 0 {
            return Err(rustls::Error::General("no roots yet".into()));
        }
        let ca = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/tls/ca.pem");
        let ca = CertificateDer::from_pem_file(ca).expect("the test authority");
        Verifier::new_with_extra_roots([ca], provider)
    }

    #[test]
    fn roots_that_could_not_be_read_are_tried_again_and_kept_once_read() {
        let verifier = LazyVerifier {
            provider: Arc::new(rustls::crypto::aws_lc_rs::default_provider()),
            platform: OnceLock::new(),
            make: no_roots_then_the_test_authority,
        };
        let first = verifier
            .platform()
            .expect_err("the roots are not there yet");
        assert!(first.to_string().contains("no roots yet"), "{first}");
        verifier.platform().expect("read the second time");
        verifier.platform().expect("kept");
        assert_eq!(
            MADE.load(Ordering::SeqCst),
            2,
            "tried again once, then kept"
        );
    }
}
