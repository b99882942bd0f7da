//! TLS with rustls: `--tls --sni --cacert --cacertdir --insecure --cert --key
//! --tls-ciphers --tls-ciphersuites` and `rediss://`.

use crate::opts::TlsOptions;
use redis_client_tls::{openssl_name, AcceptAny, ChainOnly};
use rustls::crypto::{ring as provider, CryptoProvider};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName};
use rustls::{ClientConfig, ClientConnection, RootCertStore};
use std::net::TcpStream;
use std::sync::Arc;

/// OpenSSL cipher-list keywords and operators we cannot map one to one;
/// a list using them keeps rustls's (safe) defaults for TLS 1.2.
fn is_openssl_keyword(tok: &str) -> bool {
    const WORDS: &[&str] = &[
        "ALL",
        "DEFAULT",
        "HIGH",
        "MEDIUM",
        "LOW",
        "COMPLEMENTOFALL",
        "COMPLEMENTOFDEFAULT",
        "ECDHE",
        "EECDH",
        "kECDHE",
        "kEECDH",
        "AES",
        "AESGCM",
        "AES128",
        "AES256",
        "CHACHA20",
        "RSA",
        "aRSA",
        "ECDSA",
        "aECDSA",
        "SHA256",
        "SHA384",
        "TLSv1.2",
        "SUITEB128",
        "SUITEB128ONLY",
        "SUITEB192",
        "PFS",
    ];
    tok.starts_with(['!', '+', '-', '@']) || WORDS.contains(&tok)
}

fn restrict(p: &mut CryptoProvider, list: &str, tls13: bool, err: &str) -> Result<(), String> {
    let tokens: Vec<&str> = list
        .split([':', ',', ' '])
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .collect();
    if !tls13 && tokens.iter().any(|t| is_openssl_keyword(t)) {
        return Ok(());
    }
    // A suite is named by its rustls (IANA) name or by OpenSSL's.
    let before = p.cipher_suites.len();
    p.cipher_suites.retain(|s| {
        let name = format!("{:?}", s.suite());
        name.starts_with("TLS13_") != tls13
            || tokens.iter().any(|w| *w == name || *w == openssl_name(s))
    });
    let kept_of_version = p
        .cipher_suites
        .iter()
        .filter(|s| format!("{:?}", s.suite()).starts_with("TLS13_") == tls13)
        .count();
    if kept_of_version == 0 && before > 0 {
        return Err(err.into());
    }
    Ok(())
}

fn provider_for(opts: &TlsOptions) -> Result<CryptoProvider, String> {
    let mut p = provider::default_provider();
    if let Some(c) = &opts.ciphers {
        restrict(&mut p, c, false, "Error while configuring ciphers")?;
    }
    if let Some(c) = &opts.ciphersuites {
        restrict(&mut p, c, true, "Error while setting cypher suites")?;
    }
    Ok(p)
}

fn load_certs(path: &str) -> Option<Vec<CertificateDer<'static>>> {
    let data = std::fs::read(path).ok()?;
    let certs = rustls_pemfile::certs(&mut &data[..])
        .collect::<Result<Vec<_>, _>>()
        .ok()?;
    (!certs.is_empty()).then_some(certs)
}

const BAD_CA: &str = "Invalid CA Certificate File/Directory";

fn roots(opts: &TlsOptions) -> Result<RootCertStore, String> {
    let mut store = RootCertStore::empty();
    if opts.cacert.is_none() && opts.cacertdir.is_none() {
        for c in rustls_native_certs::load_native_certs().certs {
            let _ = store.add(c);
        }
        return Ok(store);
    }
    if let Some(f) = &opts.cacert {
        for c in load_certs(f).ok_or(BAD_CA)? {
            store.add(c).map_err(|_| BAD_CA)?;
        }
    }
    if let Some(d) = &opts.cacertdir {
        let rd = std::fs::read_dir(d).map_err(|_| BAD_CA)?;
        // OpenSSL looks certificates up by subject hash (`c_rehash` names:
        // 8 hex digits, a dot, a number); other files are not consulted.
        let hashed = |n: &str| {
            n.split_once('.').is_some_and(|(h, k)| {
                h.len() == 8
                    && h.bytes().all(|b| b.is_ascii_hexdigit())
                    && !k.is_empty()
                    && k.bytes().all(|b| b.is_ascii_digit())
            })
        };
        for ent in rd
            .flatten()
            .filter(|e| hashed(&e.file_name().to_string_lossy()))
        {
            for c in load_certs(&ent.path().to_string_lossy()).unwrap_or_default() {
                let _ = store.add(c);
            }
        }
    }
    Ok(store)
}

fn client_config(opts: &TlsOptions) -> Result<ClientConfig, String> {
    let provider = Arc::new(provider_for(opts)?);
    let builder = ClientConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()
        .map_err(|e| e.to_string())?;
    let builder = if opts.insecure {
        builder
            .dangerous()
            .with_custom_certificate_verifier(Arc::new(AcceptAny::new(provider)))
    } else {
        let roots = roots(opts)?;
        if roots.is_empty() {
            return finish(
                builder
                    .dangerous()
                    .with_custom_certificate_verifier(Arc::new(AcceptAny::rejecting(provider))),
                opts,
            );
        }
        let verifier =
            rustls::client::WebPkiServerVerifier::builder_with_provider(Arc::new(roots), provider)
                .build()
                .map_err(|_| BAD_CA.to_string())?;
        builder
            .dangerous()
            .with_custom_certificate_verifier(Arc::new(ChainOnly(verifier)))
    };
    finish(builder, opts)
}

/// Adds the client certificate (if any) and the SNI setting.
fn finish(
    builder: rustls::ConfigBuilder<ClientConfig, rustls::client::WantsClientCert>,
    opts: &TlsOptions,
) -> Result<ClientConfig, String> {
    let chain = match &opts.cert {
        Some(c) => Some(load_certs(c).ok_or("Invalid client certificate")?),
        None => None,
    };
    let key: Option<PrivateKeyDer<'static>> = match &opts.key {
        Some(k) => Some(
            std::fs::read(k)
                .ok()
                .and_then(|d| rustls_pemfile::private_key(&mut &d[..]).ok().flatten())
                .ok_or("Invalid private key")?,
        ),
        None => None,
    };
    let mut cfg = match (chain, key) {
        (Some(chain), Some(key)) => builder
            .with_client_auth_cert(chain, key)
            .map_err(|_| "Invalid private key".to_string())?,
        // A lone certificate or key cannot authenticate; like OpenSSL we
        // then just offer none.
        _ => builder.with_no_client_auth(),
    };
    // Redis sends SNI only when --sni is given.
    cfg.enable_sni = opts.sni.is_some();
    Ok(cfg)
}

/// Why TLS could not be set up.
#[derive(Debug)]
pub enum TlsError {
    /// Local configuration (certificates, ciphers): Redis prints
    /// `Could not negotiate a TLS connection: ...`.
    Config(String),
    /// The handshake failed: Redis reports it as a connection error.
    Handshake(String),
}

/// OpenSSL's wording for the common handshake failures.
fn handshake_reason(e: &std::io::Error) -> String {
    let inner = e.get_ref().and_then(|i| i.downcast_ref::<rustls::Error>());
    match inner {
        Some(rustls::Error::InvalidCertificate(_)) => "certificate verify failed".into(),
        Some(other) => other.to_string(),
        None => crate::conn::strerror(e),
    }
}

/// Wraps a connected socket in TLS and completes the handshake, so errors
/// show up at connect time as with Redis.
pub fn wrap(
    mut sock: TcpStream,
    host: &str,
    opts: &TlsOptions,
) -> Result<rustls::StreamOwned<ClientConnection, TcpStream>, TlsError> {
    let cfg = client_config(opts).map_err(TlsError::Config)?;
    let name_text = opts.sni.clone().unwrap_or_else(|| host.to_string());
    let name = ServerName::try_from(name_text)
        .or_else(|_| ServerName::try_from("localhost"))
        .map_err(|e| TlsError::Config(e.to_string()))?
        .to_owned();
    let mut conn =
        ClientConnection::new(Arc::new(cfg), name).map_err(|e| TlsError::Config(e.to_string()))?;
    while conn.is_handshaking() {
        conn.complete_io(&mut sock).map_err(|e| {
            TlsError::Handshake(format!("SSL_connect failed: {}", handshake_reason(&e)))
        })?;
    }
    Ok(rustls::StreamOwned::new(conn, sock))
}
