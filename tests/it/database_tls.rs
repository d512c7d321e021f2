//! The gateway's connection to PostgreSQL over TLS, as `deploy/postgresql` asks for: with
//! `sslmode=require` every connection the gateway opens is encrypted (the server's
//! `pg_stat_ssl` says so), and with `sslmode=verify-full` a server whose certificate the given
//! root did not sign is refused at start-up, with an error that says why.
//! Against the test server (Debian's PostgreSQL has TLS on, with its snakeoil certificate).

use crate::harness::{Backend, TestApp, TestDb, letter};
use budbringer::domain::SystemClock;
use std::sync::Arc;

/// `url` with `params` added to its query.
fn with_params(url: &str, params: &str) -> String {
    let mut url = reqwest::Url::parse(url).expect("database URL");
    let query = match url.query() {
        Some(q) if !q.is_empty() => format!("{q}&{params}"),
        _ => params.to_owned(),
    };
    url.set_query(Some(&query));
    url.to_string()
}

async fn server_has_tls(admin_url: &str) -> bool {
    let pool = sqlx::PgPool::connect(&with_params(admin_url, "sslmode=disable")).await.expect("connect without TLS");
    let ssl: String = sqlx::query_scalar("SHOW ssl").fetch_one(&pool).await.expect("SHOW ssl");
    pool.close().await;
    ssl == "on"
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_sslmode_require_every_connection_of_the_gateway_is_encrypted() {
    let Some(Backend::Postgres(admin_url)) = Backend::require_postgres() else { return };
    let db = TestDb::new(&Backend::Postgres(admin_url.clone())).await;
    let name = reqwest::Url::parse(&db.url).expect("url").path().trim_start_matches('/').to_owned();
    let tls_url = with_params(&db.url, "sslmode=require");
    if !server_has_tls(&admin_url).await {
        // a server without TLS must not be used as though it had it
        let refused = budbringer::store::connect(&tls_url).await;
        assert!(refused.is_err(), "sslmode=require must refuse a server without TLS");
        db.drop_database().await;
        return;
    }
    let db = db.with_url(tls_url);
    let app = TestApp::start_on(db, Arc::new(SystemClock), |_| {}).await;
    let (_, key) = app.authority("Tls Kommune").await;
    let response = app.post_letter(&key, &letter("0101701234")).await;
    assert_eq!(response.status(), 201);

    let admin = sqlx::PgPool::connect(&admin_url).await.expect("admin connection");
    let (all, encrypted): (i64, i64) = sqlx::query_as(
        "SELECT count(*), count(*) FILTER (WHERE s.ssl) FROM pg_stat_activity a JOIN pg_stat_ssl s USING (pid) \
         WHERE a.datname = $1",
    )
    .bind(&name)
    .fetch_one(&admin)
    .await
    .expect("the server's view of the connections");
    admin.close().await;
    assert!(all > 0, "the gateway holds connections to its database");
    assert_eq!(encrypted, all, "every connection of the gateway is encrypted");
    app.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_sslmode_verify_full_a_server_certificate_from_another_root_is_refused() {
    let Some(Backend::Postgres(admin_url)) = Backend::require_postgres() else { return };
    if !server_has_tls(&admin_url).await {
        eprintln!("skipped: the test server has no TLS, so there is no certificate to refuse");
        return;
    }
    let db = TestDb::new(&Backend::Postgres(admin_url)).await;
    // a root of our own, which certainly did not sign the server's certificate
    let root = rcgen::generate_simple_self_signed(vec!["localhost".to_owned()]).expect("a root certificate");
    let root_file = db.dir.join("root.pem");
    std::fs::write(&root_file, root.cert.pem()).expect("write the root");
    let url = with_params(&db.url, &format!("sslmode=verify-full&sslrootcert={}", root_file.display()));
    let error = match budbringer::store::connect(&url).await {
        Ok(_) => panic!("a server certificate the root did not sign was accepted"),
        Err(e) => e.to_string().to_lowercase(),
    };
    assert!(
        error.contains("tls") || error.contains("certificate") || error.contains("ssl"),
        "the error says it is about TLS: {error}"
    );
    db.drop_database().await;
}
