//! The TLS client configuration (rustls) from `--tls`, `--cacert`,
//! `--cacertdir`, `--insecure`, `--cert`, `--key`, `--sni`, `--tls-ciphers`
//! and `--tls-ciphersuites`.
//!
//! Cipher lists use OpenSSL's names. rustls implements only modern AEAD
//! suites, so names of other suites are ignored; OpenSSL's keywords and
//! `!`/`-`/`+` modifiers (e.g. `DEFAULT:-AES128-SHA256`) are accepted and
//! leave rustls's defaults in place. A list naming no suite rustls knows
//! is an error, as it is for OpenSSL.

use std::sync::Arc;

use redis_client_tls::{openssl_name, AcceptAny, ChainOnly};
use rustls::crypto::ring as provider;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use rustls::{ClientConfig, RootCertStore, SupportedCipherSuite};

use crate::conn::TlsSetup;
use crate::options::TlsOptions;

/// Filters `suites` (of one TLS version) by an OpenSSL-style list. `None`: keep all.
fn filter_suites(
    list: &str,
    suites: Vec<SupportedCipherSuite>,
) -> Result<Vec<SupportedCipherSuite>, String> {
    let mut named = Vec::new();
    let mut keyword = false;
    for item in list.split([':', ',', ' ']).filter(|s| !s.is_empty()) {
        if item.starts_with(['!', '-', '+', '@']) || item.chars().all(|c| c.is_ascii_uppercase()) {
            keyword = true;
            continue;
        }
        named.extend(suites.iter().filter(|s| openssl_name(s) == item).copied());
    }
    if named.is_empty() {
        if keyword {
            return Ok(suites);
        }
        return Err("no cipher match".into());
    }
    Ok(named)
}

fn read_file(path: &str) -> Result<Vec<u8>, String> {
    std::fs::read(path).map_err(|e| format!("{path}: {}", crate::conn::errstr(&e)))
}

fn load_certs(path: &str) -> Result<Vec<CertificateDer<'static>>, String> {
    let data = read_file(path)?;
    rustls_pemfile::certs(&mut &data[..])
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| format!("{path}: {e}"))
}

/// Builds the connector, or the message Redis prints when TLS cannot be set up.
pub fn setup(o: &TlsOptions) -> Result<TlsSetup, String> {
    let mut p = provider::default_provider();
    let (v13, v12): (Vec<_>, Vec<_>) = p
        .cipher_suites
        .iter()
        .partition(|s| s.version() == &rustls::version::TLS13);
    let v13 = match &o.ciphersuites {
        Some(l) => filter_suites(l, v13)?,
        None => v13,
    };
    let v12 = match &o.ciphers {
        Some(l) => filter_suites(l, v12)?,
        None => v12,
    };
    p.cipher_suites = v13.into_iter().chain(v12).collect();
    let builder = ClientConfig::builder_with_provider(Arc::new(p))
        .with_safe_default_protocol_versions()
        .map_err(|e| e.to_string())?;

    let builder = if o.insecure {
        builder
            .dangerous()
            .with_custom_certificate_verifier(Arc::new(AcceptAny::new(Arc::new(
                provider::default_provider(),
            ))))
    } else {
        let mut roots = RootCertStore::empty();
        if o.cacert.is_none() && o.cacertdir.is_none() {
            for c in rustls_native_certs::load_native_certs().certs {
                let _ = roots.add(c);
            }
        }
        if let Some(f) = &o.cacert {
            for c in load_certs(f)? {
                roots.add(c).map_err(|e| e.to_string())?;
            }
        }
        if let Some(d) = &o.cacertdir {
            let entries =
                std::fs::read_dir(d).map_err(|e| format!("{d}: {}", crate::conn::errstr(&e)))?;
            for e in entries.flatten() {
                // Hashed links and stray files: take what parses as PEM.
                if let Ok(certs) = load_certs(&e.path().to_string_lossy()) {
                    for c in certs {
                        let _ = roots.add(c);
                    }
                }
            }
        }
        let inner = rustls::client::WebPkiServerVerifier::builder_with_provider(
            Arc::new(roots),
            Arc::new(provider::default_provider()),
        )
        .build()
        .map_err(|e| e.to_string())?;
        builder
            .dangerous()
            .with_custom_certificate_verifier(Arc::new(ChainOnly(inner)))
    };
    let config = match (&o.cert, &o.key) {
        (Some(cert), Some(key)) => {
            let chain = load_certs(cert)?;
            let data = read_file(key)?;
            let key: PrivateKeyDer<'static> = rustls_pemfile::private_key(&mut &data[..])
                .map_err(|e| e.to_string())?
                .ok_or_else(|| format!("{key}: no private key found"))?;
            builder
                .with_client_auth_cert(chain, key)
                .map_err(|e| e.to_string())?
        }
        _ => builder.with_no_client_auth(),
    };
    Ok(TlsSetup {
        connector: tokio_rustls::TlsConnector::from(Arc::new(config)),
        sni: o.sni.clone(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cipher_lists() {
        let all: Vec<_> = provider::default_provider().cipher_suites;
        let (v13, v12): (Vec<_>, Vec<_>) = all
            .into_iter()
            .partition(|s| s.version() == &rustls::version::TLS13);
        assert_eq!(
            filter_suites("TLS_AES_128_GCM_SHA256", v13.clone())
                .unwrap()
                .len(),
            1
        );
        assert_eq!(
            filter_suites("DEFAULT:-AES128-SHA256", v12.clone())
                .unwrap()
                .len(),
            v12.len()
        );
        assert!(filter_suites("NOPE-CIPHER", v12).is_err());
    }

    #[test]
    fn missing_ca_file_is_reported() {
        let o = TlsOptions {
            enabled: true,
            cacert: Some("/nonexistent/ca.crt".into()),
            ..Default::default()
        };
        assert!(setup(&o).err().unwrap().contains("/nonexistent/ca.crt"));
    }
}
