//! TLS on the server's `tls-port`, with rustls: the certificate, key and CA files,
//! client authentication (`tls-auth-clients`), protocols and cipher lists read as
//! Redis reads them from its configuration, with its log lines on errors.
//!
//! Differences from Redis's OpenSSL build, all in what rustls supports: TLS 1.2 and
//! 1.3 only (`TLSv1`/`TLSv1.1` in `tls-protocols` are refused with Redis's message);
//! cipher lists are matched by OpenSSL suite names (no `DEFAULT`/`!aNULL` grammar);
//! `tls-dh-params-file` is accepted and unused (rustls negotiates ECDHE only, so it
//! needs no DH parameters); an encrypted `tls-key-file` (`tls-key-file-pass`) cannot
//! be read.

use crate::config::{Config, TlsAuthClients};
use crate::log::{log, Level};
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use rustls::server::{NoServerSessionStorage, ServerSessionMemoryCache, WebPkiClientVerifier};
use rustls::sign::CertifiedKey;
use rustls::{RootCertStore, ServerConfig, SupportedProtocolVersion};
use std::sync::Arc;

/// The configured contexts, one per `tls-auth-clients` mode, so a CONFIG SET of that
/// option applies to the next connection without rebuilding anything (as Redis
/// reads it per accepted connection).
pub struct TlsContexts {
    require: Arc<ServerConfig>,
    optional: Arc<ServerConfig>,
    none: Arc<ServerConfig>,
}

impl TlsContexts {
    /// The acceptor for a new connection under `auth`.
    pub fn acceptor(&self, auth: TlsAuthClients) -> tokio_rustls::TlsAcceptor {
        let cfg = match auth {
            TlsAuthClients::Yes => &self.require,
            TlsAuthClients::Optional => &self.optional,
            TlsAuthClients::No => &self.none,
        };
        tokio_rustls::TlsAcceptor::from(cfg.clone())
    }
}

fn path(v: &Option<Vec<u8>>) -> Option<String> {
    v.as_ref()
        .filter(|p| !p.is_empty())
        .map(|p| String::from_utf8_lossy(p).into_owned())
}

fn read_certs(file: &str) -> Result<Vec<CertificateDer<'static>>, String> {
    let data = std::fs::read(file).map_err(|e| e.to_string())?;
    let certs: Vec<_> = rustls_pemfile::certs(&mut &data[..])
        .collect::<Result<_, _>>()
        .map_err(|e| e.to_string())?;
    if certs.is_empty() {
        return Err("no certificate found".into());
    }
    Ok(certs)
}

fn read_key(file: &str) -> Result<PrivateKeyDer<'static>, String> {
    let data = std::fs::read(file).map_err(|e| e.to_string())?;
    rustls_pemfile::private_key(&mut &data[..])
        .map_err(|e| e.to_string())?
        .ok_or_else(|| "no (unencrypted) private key found".into())
}

/// `tls-protocols`: `None` when invalid (logged as Redis logs it).
fn protocols(cfg: &Config) -> Option<Vec<&'static SupportedProtocolVersion>> {
    let Some(text) = path(&cfg.tls_protocols) else {
        return Some(vec![&rustls::version::TLS12, &rustls::version::TLS13]);
    };
    let mut out = Vec::new();
    for t in text.split(' ').filter(|t| !t.is_empty()) {
        match t.to_ascii_lowercase().as_str() {
            "tlsv1.2" => out.push(&rustls::version::TLS12),
            "tlsv1.3" => out.push(&rustls::version::TLS13),
            _ => {
                log(
                    Level::Warning,
                    "Invalid tls-protocols specified. Use a combination of 'TLSv1', 'TLSv1.1', 'TLSv1.2' and 'TLSv1.3'.",
                );
                return None;
            }
        }
    }
    if out.is_empty() {
        out = vec![&rustls::version::TLS12, &rustls::version::TLS13];
    }
    Some(out)
}

/// The crypto provider with the suites `tls-ciphers` (TLS 1.2) and `tls-ciphersuites`
/// (TLS 1.3) allow, by OpenSSL name.
fn provider(cfg: &Config) -> Result<rustls::crypto::CryptoProvider, ()> {
    let mut p = rustls::crypto::ring::default_provider();
    let lists = [
        (
            &cfg.tls_ciphers,
            rustls::ProtocolVersion::TLSv1_2,
            "ciphers",
        ),
        (
            &cfg.tls_ciphersuites,
            rustls::ProtocolVersion::TLSv1_3,
            "ciphersuites",
        ),
    ];
    for (list, version, what) in lists {
        let Some(list) = path(list) else { continue };
        let names: Vec<&str> = list.split(':').collect();
        let before = p.cipher_suites.len();
        p.cipher_suites.retain(|s| {
            s.version().version != version || names.contains(&redis_client_tls::openssl_name(s))
        });
        let kept = p
            .cipher_suites
            .iter()
            .filter(|s| s.version().version == version)
            .count();
        if kept == 0 || before == 0 {
            log(
                Level::Warning,
                &format!("Failed to configure {what}: {list}"),
            );
            return Err(());
        }
    }
    Ok(p)
}

/// A TLS configuration error, already logged with Redis's line.
#[derive(Debug)]
pub struct Logged;

/// Builds the contexts from the configuration (Redis's tlsConfigure); errors are
/// logged with Redis's lines.
pub fn configure(cfg: &Config) -> Result<TlsContexts, Logged> {
    configure_inner(cfg).map_err(|()| Logged)
}

fn configure_inner(cfg: &Config) -> Result<TlsContexts, ()> {
    let Some(cert_file) = path(&cfg.tls_cert_file) else {
        log(Level::Warning, "No tls-cert-file configured!");
        return Err(());
    };
    let Some(key_file) = path(&cfg.tls_key_file) else {
        log(Level::Warning, "No tls-key-file configured!");
        return Err(());
    };
    let ca_file = path(&cfg.tls_ca_cert_file);
    let ca_dir = path(&cfg.tls_ca_cert_dir);
    if (cfg.tls_auth_clients != TlsAuthClients::No || cfg.tls_replication || cfg.tls_cluster)
        && ca_file.is_none()
        && ca_dir.is_none()
    {
        log(Level::Warning, "Either tls-ca-cert-file or tls-ca-cert-dir must be specified when tls-cluster, tls-replication or tls-auth-clients are enabled!");
        return Err(());
    }
    let certs = read_certs(&cert_file).map_err(|e| {
        log(
            Level::Warning,
            &format!("Failed to load certificate: {cert_file}: {e}"),
        )
    })?;
    let key = read_key(&key_file).map_err(|e| {
        log(
            Level::Warning,
            &format!("Failed to load private key: {key_file}: {e}"),
        )
    })?;
    let mut roots = RootCertStore::empty();
    let ca_err = |e: String| {
        log(
            Level::Warning,
            &format!("Failed to configure CA certificate(s) file/directory: {e}"),
        )
    };
    if let Some(f) = &ca_file {
        for c in read_certs(f).map_err(ca_err)? {
            roots.add(c).map_err(|e| ca_err(e.to_string()))?;
        }
    }
    if let Some(d) = &ca_dir {
        let entries = std::fs::read_dir(d).map_err(|e| ca_err(e.to_string()))?;
        for e in entries.flatten() {
            if let Ok(certs) = read_certs(&e.path().to_string_lossy()) {
                for c in certs {
                    let _ = roots.add(c);
                }
            }
        }
    }
    let versions = protocols(cfg).ok_or(())?;
    let provider = Arc::new(provider(cfg)?);
    let signing_key = provider.key_provider.load_private_key(key).map_err(|e| {
        log(
            Level::Warning,
            &format!("Failed to load private key: {key_file}: {e}"),
        )
    })?;
    let ck = CertifiedKey::new(certs, signing_key);
    // The key must belong to the certificate, as OpenSSL checks. A certificate
    // webpki cannot parse (X.509 v1, as Redis's test certificates are) cannot be
    // compared; it is still served, since OpenSSL clients accept it.
    if let Err(rustls::Error::InconsistentKeys(rustls::InconsistentKeys::KeyMismatch)) =
        ck.keys_match()
    {
        log(
            Level::Warning,
            &format!("Failed to load private key: {key_file}: key values mismatch"),
        );
        return Err(());
    }
    let certified = Arc::new(FixedCert(Arc::new(ck)));
    let roots = Arc::new(roots);
    let build = |auth: TlsAuthClients| -> Result<Arc<ServerConfig>, ()> {
        let builder = ServerConfig::builder_with_provider(provider.clone())
            .with_protocol_versions(&versions)
            .map_err(|e| log(Level::Warning, &format!("Failed to configure TLS: {e}")))?;
        let builder = if auth == TlsAuthClients::No || roots.is_empty() {
            builder.with_no_client_auth()
        } else {
            let v = WebPkiClientVerifier::builder_with_provider(roots.clone(), provider.clone());
            let v = if auth == TlsAuthClients::Optional {
                v.allow_unauthenticated()
            } else {
                v
            };
            let v = v.build().map_err(|e| {
                log(
                    Level::Warning,
                    &format!("Failed to configure CA certificate(s) file/directory: {e}"),
                )
            })?;
            builder.with_client_cert_verifier(v)
        };
        let mut sc = builder.with_cert_resolver(certified.clone());
        sc.ignore_client_order = cfg.tls_prefer_server_ciphers;
        sc.session_storage = if cfg.tls_session_caching {
            ServerSessionMemoryCache::new(cfg.tls_session_cache_size.max(1) as usize)
        } else {
            Arc::new(NoServerSessionStorage {})
        };
        Ok(Arc::new(sc))
    };
    Ok(TlsContexts {
        require: build(TlsAuthClients::Yes)?,
        optional: build(TlsAuthClients::Optional)?,
        none: build(TlsAuthClients::No)?,
    })
}

/// The server's one certificate, whatever the client asks for.
#[derive(Debug)]
struct FixedCert(Arc<CertifiedKey>);

impl rustls::server::ResolvesServerCert for FixedCert {
    fn resolve(&self, _: rustls::server::ClientHello<'_>) -> Option<Arc<CertifiedKey>> {
        Some(self.0.clone())
    }
}

/// True when TLS must be configured: a TLS port, or TLS links for replication or
/// cluster.
pub fn wanted(cfg: &Config) -> bool {
    cfg.tls_port != 0 || cfg.tls_replication || cfg.tls_cluster
}
