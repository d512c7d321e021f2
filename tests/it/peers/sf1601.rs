//! Test peer: an SF1601 KombiPostAfsend endpoint, in this test process. HTTPS on loopback
//! that REQUIRES a client certificate from a throwaway CA (made with rcgen), checks the
//! transaction headers and the request, validates the remote-print order (`ForsendelseI`)
//! with xmllint against tests/fixtures/fjernprint-sf1600, and records what it got.

use budbringer::channels::digital_post::memo::{MEMO_NS, Message};
use budbringer::channels::digital_post::xml::XmlElement;
use http_body_util::{BodyExt, Full};
use hyper::body::{Bytes, Incoming};
use hyper::{Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, Issuer, KeyPair, KeyUsagePurpose};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use tokio_rustls::TlsAcceptor;
use tokio_rustls::rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use tokio_rustls::rustls::server::WebPkiClientVerifier;
use tokio_rustls::rustls::{RootCertStore, ServerConfig, crypto::ring};

const FJERNPRINT: &str = "urn:oio:fjernprint:1.0.0";

/// A throwaway CA with a server certificate for 127.0.0.1/localhost and a client certificate,
/// written as PEM files (the transport reads files, as in production).
pub struct Pki {
    pub dir: PathBuf,
    pub ca_file: PathBuf,
    pub client_cert_file: PathBuf,
    pub client_key_file: PathBuf,
    ca_der: CertificateDer<'static>,
    server_der: CertificateDer<'static>,
    server_key_der: Vec<u8>,
}

impl Pki {
    pub fn generate(dir: &Path) -> Pki {
        std::fs::create_dir_all(dir).expect("pki dir");
        let ca_key = KeyPair::generate().expect("CA key");
        let mut ca_params = CertificateParams::new(Vec::<String>::new()).expect("CA params");
        ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        ca_params.distinguished_name.push(DnType::CommonName, "Budbringer test CA");
        ca_params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
        let ca = ca_params.self_signed(&ca_key).expect("CA cert");
        let issuer = Issuer::new(ca_params, ca_key);

        let leaf = |names: Vec<String>, cn: &str| {
            let key = KeyPair::generate().expect("leaf key");
            let mut params = CertificateParams::new(names).expect("leaf params");
            params.distinguished_name.push(DnType::CommonName, cn);
            params.use_authority_key_identifier_extension = true;
            let cert = params.signed_by(&key, &issuer).expect("leaf cert");
            (cert, key)
        };
        let (server, server_key) = leaf(vec!["localhost".into(), "127.0.0.1".into()], "sf1601 test peer");
        let (client, client_key) = leaf(vec![], "Budbringer test client (CVR 55133018)");

        let pki = Pki {
            dir: dir.to_owned(),
            ca_file: dir.join("ca.pem"),
            client_cert_file: dir.join("client.pem"),
            client_key_file: dir.join("client-key.pem"),
            ca_der: ca.der().clone(),
            server_der: server.der().clone(),
            server_key_der: server_key.serialize_der(),
        };
        std::fs::write(&pki.ca_file, ca.pem()).expect("write CA");
        std::fs::write(&pki.client_cert_file, client.pem()).expect("write client cert");
        std::fs::write(&pki.client_key_file, client_key.serialize_pem()).expect("write client key");
        pki
    }
}

/// One request the peer answered.
#[derive(Debug, Clone, Default)]
pub struct Recorded {
    pub transaction_id: String,
    pub transaction_time: String,
    pub kombi_valg_kode: String,
    pub message_uuid: String,
    /// The MeMo message as sent (re-serialised from the request).
    pub memo: Option<Message>,
    /// Whether a `ForsendelseI` came along, and whether xmllint found it valid.
    pub forsendelse: Option<bool>,
    pub xmllint_errors: String,
    /// What was wrong with the request; empty when it was right (then the answer was 200).
    pub problems: Vec<String>,
}

pub struct Sf1601Peer {
    pub url: String,
    pub requests: Arc<Mutex<Vec<Recorded>>>,
    /// TLS handshakes that failed (e.g. no client certificate).
    pub refused_handshakes: Arc<AtomicUsize>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for Sf1601Peer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl Sf1601Peer {
    pub async fn start(pki: &Pki) -> Sf1601Peer {
        let provider = Arc::new(ring::default_provider());
        let mut roots = RootCertStore::empty();
        roots.add(pki.ca_der.clone()).expect("CA into the root store");
        let verifier = WebPkiClientVerifier::builder_with_provider(Arc::new(roots), Arc::clone(&provider))
            .build()
            .expect("client verifier");
        let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(pki.server_key_der.clone()));
        let config = ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .expect("protocol versions")
            .with_client_cert_verifier(verifier)
            .with_single_cert(vec![pki.server_der.clone()], key)
            .expect("server config");
        let acceptor = TlsAcceptor::from(Arc::new(config));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let url = format!(
            "https://127.0.0.1:{}/service/KombiPostAfsend_1/kombi",
            listener.local_addr().expect("addr").port()
        );
        let requests = Arc::new(Mutex::new(Vec::new()));
        let refused = Arc::new(AtomicUsize::new(0));
        let schema_dir = pki.dir.join("xmllint");
        std::fs::create_dir_all(&schema_dir).expect("xmllint dir");
        let (recorded, refused_count) = (Arc::clone(&requests), Arc::clone(&refused));
        let task = tokio::spawn(async move {
            loop {
                let Ok((tcp, _)) = listener.accept().await else { continue };
                let acceptor = acceptor.clone();
                let (recorded, refused, schema_dir) =
                    (Arc::clone(&recorded), Arc::clone(&refused_count), schema_dir.clone());
                tokio::spawn(async move {
                    let tls = match acceptor.accept(tcp).await {
                        Ok(tls) => tls,
                        Err(_) => {
                            refused.fetch_add(1, Ordering::SeqCst);
                            return;
                        }
                    };
                    let has_client_cert = tls.get_ref().1.peer_certificates().is_some_and(|c| !c.is_empty());
                    let service = hyper::service::service_fn(move |request| {
                        let (recorded, schema_dir) = (Arc::clone(&recorded), schema_dir.clone());
                        async move {
                            Ok::<_, std::convert::Infallible>(
                                handle(request, has_client_cert, &recorded, &schema_dir).await,
                            )
                        }
                    });
                    let _ =
                        hyper::server::conn::http1::Builder::new().serve_connection(TokioIo::new(tls), service).await;
                });
            }
        });
        Sf1601Peer { url, requests, refused_handshakes: refused, task }
    }

    pub fn recorded(&self) -> Vec<Recorded> {
        self.requests.lock().expect("lock").clone()
    }
}

async fn handle(
    request: Request<Incoming>,
    has_client_cert: bool,
    recorded: &Mutex<Vec<Recorded>>,
    schema_dir: &Path,
) -> Response<Full<Bytes>> {
    let mut r = Recorded::default();
    let header = |name: &str| request.headers().get(name).and_then(|v| v.to_str().ok()).unwrap_or("").to_owned();
    r.transaction_id = header("x-transaktionsid");
    r.transaction_time = header("x-transaktionstid");
    if !has_client_cert {
        r.problems.push("no client certificate".into());
    }
    if request.method() != hyper::Method::POST || request.uri().path() != "/service/KombiPostAfsend_1/kombi" {
        r.problems.push(format!("{} {}", request.method(), request.uri().path()));
    }
    if uuid::Uuid::parse_str(&r.transaction_id).is_err() {
        r.problems.push(format!("x-TransaktionsId {:?} is not a UUID", r.transaction_id));
    }
    if !r.transaction_time.ends_with('Z') || r.transaction_time.parse::<jiff::Timestamp>().is_err() {
        r.problems.push(format!("x-TransaktionsTid {:?} is not UTC", r.transaction_time));
    }
    if !header("content-type").starts_with("application/xml") {
        r.problems.push(format!("content type {:?}", header("content-type")));
    }
    let body = match request.into_body().collect().await {
        Ok(body) => body.to_bytes(),
        Err(e) => {
            r.problems.push(format!("body: {e}"));
            Bytes::new()
        }
    };
    inspect(&body, &mut r, schema_dir).await;
    let status = if r.problems.is_empty() { StatusCode::OK } else { StatusCode::BAD_REQUEST };
    let answer = format!(
        "<kombi_response><TransaktionsId>{}</TransaktionsId><Problemer>{}</Problemer></kombi_response>",
        r.transaction_id,
        r.problems.len()
    );
    recorded.lock().expect("lock").push(r);
    let mut response = Response::new(Full::new(Bytes::from(answer)));
    *response.status_mut() = status;
    response
}

/// Check the kombi_request: well-formed (xmllint), KombiValgKode, a MeMo message, and a
/// schema-valid ForsendelseI when the paper route is asked for.
async fn inspect(body: &[u8], r: &mut Recorded, dir: &Path) {
    let request_file = dir.join(format!("{}-request.xml", uuid::Uuid::new_v4()));
    std::fs::write(&request_file, body).expect("write request");
    let (ok, errors) = xmllint(&["--noout", "--nonet"], &request_file).await;
    if !ok {
        r.problems.push(format!("request is not well-formed XML: {errors}"));
        return;
    }
    let Ok(root) = XmlElement::parse(&String::from_utf8_lossy(body)) else {
        r.problems.push("request unreadable".into());
        return;
    };
    if !root.is("", "kombi_request") {
        r.problems.push(format!("root is {}", root.name));
    }
    r.kombi_valg_kode = root.find("", "KombiValgKode").map(|e| e.text.clone()).unwrap_or_default();
    match root.find(MEMO_NS, "Message").map(Message::from_element) {
        Some(Ok(memo)) => {
            r.message_uuid = memo.header.message_uuid.clone();
            r.memo = Some(memo);
        }
        Some(Err(e)) => r.problems.push(format!("MeMo message: {e}")),
        None => r.problems.push("no memo:Message".into()),
    }
    let order = root.find(FJERNPRINT, "ForsendelseI");
    match (r.kombi_valg_kode.as_str(), order) {
        ("Digital Post", None) => {}
        ("Automatisk Valg" | "Fysisk Post", Some(order)) => {
            let order_file = dir.join(format!("{}-forsendelse.xml", uuid::Uuid::new_v4()));
            std::fs::write(&order_file, order.to_document()).expect("write order");
            let schema =
                Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/fjernprint-sf1600/ForsendelseI.xsd");
            let schema = schema.to_string_lossy().into_owned();
            let (valid, errors) = xmllint(&["--noout", "--nonet", "--schema", &schema], &order_file).await;
            r.forsendelse = Some(valid);
            r.xmllint_errors = errors.clone();
            if !valid {
                r.problems.push(format!("ForsendelseI does not validate: {errors}"));
            }
        }
        (code, order) => r.problems.push(format!("KombiValgKode {code:?} with ForsendelseI: {}", order.is_some())),
    }
}

async fn xmllint(args: &[&str], file: &Path) -> (bool, String) {
    let out = tokio::process::Command::new("xmllint")
        .args(args)
        .arg(file)
        .output()
        .await
        .expect("xmllint (libxml2-utils) is installed");
    (out.status.success(), String::from_utf8_lossy(&out.stderr).into_owned())
}
