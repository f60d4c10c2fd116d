//! TLS in front of a replay server, for the TLS fault tests: a loopback listener that does the
//! handshake with a certificate from `tests/fixtures/tls/` (see its gen.sh) and relays the
//! plaintext to the replay server, so the same scripted Loki or ES server (websocket included)
//! can be reached over `https://` with a good, expired, wrong-host or wrongly-signed certificate.
#![allow(dead_code)]

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};

/// Path of a file under tests/fixtures/tls/.
pub fn tls_fixture(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/tls").join(name)
}

/// The test CA that signed `localhost`, `expired` and `wronghost`.
pub fn test_ca() -> PathBuf {
    tls_fixture("ca.pem")
}

/// Which certificate the front presents.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cert {
    /// Valid for 127.0.0.1 and localhost, signed by the test CA.
    Good,
    /// Valid names, signed by the test CA, expired in 2021.
    Expired,
    /// Signed by the test CA for `other.example`.
    WrongHost,
    /// Valid names, signed by a CA the client does not know.
    UnknownCa,
}

impl Cert {
    fn stem(self) -> &'static str {
        match self {
            Cert::Good => "localhost",
            Cert::Expired => "expired",
            Cert::WrongHost => "wronghost",
            Cert::UnknownCa => "othersigned",
        }
    }
}

/// Starts a TLS front for the plain server at `backend`; returns its `https://127.0.0.1:port`.
pub async fn tls_front(backend: SocketAddr, cert: Cert) -> String {
    let certs: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(tls_fixture(&format!("{}.pem", cert.stem())))
        .expect("certificate file")
        .collect::<Result<_, _>>()
        .expect("certificate PEM");
    let key = PrivateKeyDer::from_pem_file(tls_fixture(&format!("{}.key", cert.stem()))).expect("key PEM");
    let config = rustls::ServerConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
        .with_safe_default_protocol_versions()
        .expect("protocol versions")
        .with_no_client_auth()
        .with_single_cert(certs, key)
        .expect("server certificate");
    let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(config));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind loopback");
    let addr = listener.local_addr().expect("local addr");
    tokio::spawn(async move {
        while let Ok((tcp, _)) = listener.accept().await {
            let acceptor = acceptor.clone();
            tokio::spawn(async move {
                // A refused handshake is the point of most tests: just drop the connection.
                let Ok(mut tls) = acceptor.accept(tcp).await else { return };
                let Ok(mut plain) = tokio::net::TcpStream::connect(backend).await else { return };
                let _ = tokio::io::copy_bidirectional(&mut tls, &mut plain).await;
            });
        }
    });
    format!("https://{addr}")
}
