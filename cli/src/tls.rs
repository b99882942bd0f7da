//! TLS with rustls: `--tls --sni --cacert --cacertdir --insecure --cert --key
//! --tls-ciphers --tls-ciphersuites` and `rediss://`.

use crate::opts::TlsOptions;
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::{ring as provider, CryptoProvider};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName, UnixTime};
use rustls::{
    ClientConfig, ClientConnection, DigitallySignedStruct, RootCertStore, SignatureScheme,
};
use std::net::TcpStream;
use std::sync::Arc;

/// OpenSSL cipher names (as users pass them to Redis) for the suites rustls
/// offers, so `--tls-ciphers` / `--tls-ciphersuites` keep their syntax.
const OPENSSL_NAMES: &[(&str, &str)] = &[
    ("TLS_AES_128_GCM_SHA256", "TLS13_AES_128_GCM_SHA256"),
    ("TLS_AES_256_GCM_SHA384", "TLS13_AES_256_GCM_SHA384"),
    (
        "TLS_CHACHA20_POLY1305_SHA256",
        "TLS13_CHACHA20_POLY1305_SHA256",
    ),
    (
        "ECDHE-ECDSA-AES128-GCM-SHA256",
        "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256",
    ),
    (
        "ECDHE-ECDSA-AES256-GCM-SHA384",
        "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384",
    ),
    (
        "ECDHE-ECDSA-CHACHA20-POLY1305",
        "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256",
    ),
    (
        "ECDHE-RSA-AES128-GCM-SHA256",
        "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256",
    ),
    (
        "ECDHE-RSA-AES256-GCM-SHA384",
        "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384",
    ),
    (
        "ECDHE-RSA-CHACHA20-POLY1305",
        "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256",
    ),
];

fn provider_for(opts: &TlsOptions) -> Result<CryptoProvider, String> {
    let mut p = provider::default_provider();
    let wanted: Vec<String> = [&opts.ciphers, &opts.ciphersuites]
        .iter()
        .filter_map(|o| o.as_ref())
        .flat_map(|s| s.split(':').map(|x| x.trim().to_string()))
        .filter(|x| !x.is_empty())
        .collect();
    if wanted.is_empty() {
        return Ok(p);
    }
    let tls13_given = opts.ciphersuites.is_some();
    let tls12_given = opts.ciphers.is_some();
    p.cipher_suites.retain(|s| {
        let name = format!("{:?}", s.suite());
        let is13 = name.starts_with("TLS13_");
        // A list only restricts its own protocol version, as with OpenSSL.
        if (is13 && !tls13_given) || (!is13 && !tls12_given) {
            return true;
        }
        wanted.iter().any(|w| {
            w == &name
                || OPENSSL_NAMES
                    .iter()
                    .any(|(ossl, iana)| ossl == w && *iana == name)
        })
    });
    if p.cipher_suites.is_empty() {
        return Err("Error while configuring ciphers".into());
    }
    Ok(p)
}

fn load_certs(path: &str) -> Result<Vec<CertificateDer<'static>>, String> {
    let data = std::fs::read(path).map_err(|e| format!("{path}: {}", crate::conn::strerror(&e)))?;
    rustls_pemfile::certs(&mut &data[..])
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| format!("{path}: {e}"))
}

fn roots(opts: &TlsOptions) -> Result<RootCertStore, String> {
    let mut store = RootCertStore::empty();
    if opts.cacert.is_none() && opts.cacertdir.is_none() {
        for c in rustls_native_certs::load_native_certs().certs {
            let _ = store.add(c);
        }
        return Ok(store);
    }
    if let Some(f) = &opts.cacert {
        for c in load_certs(f)? {
            store.add(c).map_err(|e| e.to_string())?;
        }
    }
    if let Some(d) = &opts.cacertdir {
        let rd = std::fs::read_dir(d).map_err(|e| format!("{d}: {}", crate::conn::strerror(&e)))?;
        for ent in rd.flatten() {
            if let Ok(certs) = load_certs(&ent.path().to_string_lossy()) {
                for c in certs {
                    let _ = store.add(c);
                }
            }
        }
    }
    Ok(store)
}

/// `--insecure`: accept any server certificate (signatures are still checked
/// so the handshake itself stays sound).
#[derive(Debug)]
struct AcceptAny(Arc<CryptoProvider>);

impl ServerCertVerifier for AcceptAny {
    fn verify_server_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp: &[u8],
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
        rustls::crypto::verify_tls12_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }
    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }
    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.signature_verification_algorithms.supported_schemes()
    }
}

fn client_config(opts: &TlsOptions) -> Result<ClientConfig, String> {
    let provider = Arc::new(provider_for(opts)?);
    let builder = ClientConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()
        .map_err(|e| e.to_string())?;
    let builder = if opts.insecure {
        builder
            .dangerous()
            .with_custom_certificate_verifier(Arc::new(AcceptAny(provider)))
    } else {
        builder.with_root_certificates(roots(opts)?)
    };
    match (&opts.cert, &opts.key) {
        (Some(cert), Some(key)) => {
            let chain = load_certs(cert)?;
            let data =
                std::fs::read(key).map_err(|e| format!("{key}: {}", crate::conn::strerror(&e)))?;
            let k: PrivateKeyDer<'static> = rustls_pemfile::private_key(&mut &data[..])
                .map_err(|e| format!("{key}: {e}"))?
                .ok_or_else(|| format!("{key}: no private key found"))?;
            builder
                .with_client_auth_cert(chain, k)
                .map_err(|e| e.to_string())
        }
        (Some(_), None) | (None, Some(_)) => {
            Err("Both --cert and --key must be given for a client certificate".into())
        }
        (None, None) => Ok(builder.with_no_client_auth()),
    }
}

/// Wraps a connected socket in TLS and completes the handshake, so errors
/// show up at connect time as with Redis.
pub fn wrap(
    mut sock: TcpStream,
    host: &str,
    opts: &TlsOptions,
) -> Result<rustls::StreamOwned<ClientConnection, TcpStream>, String> {
    let cfg = client_config(opts)?;
    let name_text = opts.sni.clone().unwrap_or_else(|| host.to_string());
    let name = ServerName::try_from(name_text)
        .map_err(|e| e.to_string())?
        .to_owned();
    let mut conn = ClientConnection::new(Arc::new(cfg), name).map_err(|e| e.to_string())?;
    while conn.is_handshaking() {
        conn.complete_io(&mut sock).map_err(|e| e.to_string())?;
    }
    Ok(rustls::StreamOwned::new(conn, sock))
}
