//! The audit log: real administrative, API and caseworker actions leave hash-chained rows with
//! the right actor; `budbringer audit verify` passes on the untouched chain and names the
//! first bad seq once someone with database access changes or removes a row; the table
//! refuses UPDATE and DELETE; concurrent appends from two pools keep the chain whole.

use crate::harness::*;
use crate::processes::{BIN, gateway_env};
use budbringer::domain::ManualClock;
use budbringer::domain::audit_chain::{ActorKind, AuditRecord, verify};
use budbringer::store::{self, AuditEntry};
use serde_json::{Value, json};
use std::process::{Command, Output, Stdio};
use std::sync::Arc;
use std::time::Duration;

on_both_backends!(actions_are_audited_and_tampering_is_found, concurrent_appends_from_two_pools_keep_one_chain);

const CPR: &str = "0101901234";
const PASSWORD: &str = "correct horse battery";

fn cli(db: &TestDb, args: &[&str]) -> Output {
    use std::io::Write as _;
    let mut child = Command::new(BIN)
        .args(args)
        .envs(gateway_env(db, &db.dir.join("data"), 1))
        .env("USER", "ops-test")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run budbringer");
    // `create-caseworker` reads the password from stdin; the others ignore it
    if let Some(mut stdin) = child.stdin.take() {
        let _ = writeln!(stdin, "{PASSWORD}");
    }
    child.wait_with_output().expect("budbringer output")
}

fn json_of(out: &Output) -> Value {
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    serde_json::from_slice(&out.stdout).expect("JSON on stdout")
}

/// `audit verify`: its exit code and the JSON it printed.
fn audit_verify(db: &TestDb, head: Option<&str>) -> (Option<i32>, Value, String) {
    let mut args = vec!["audit", "verify"];
    if let Some(head) = head {
        args.extend(["--head", head]);
    }
    let out = cli(db, &args);
    let printed = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|_| panic!("JSON from audit verify: {}", String::from_utf8_lossy(&out.stderr)));
    (out.status.code(), printed, String::from_utf8_lossy(&out.stderr).into_owned())
}

/// Run SQL as someone with direct access to the database (not through the gateway).
async fn raw_sql(db: &TestDb, statement: &str) -> Result<u64, sqlx::Error> {
    let statement = sqlx::AssertSqlSafe(statement.to_owned());
    if db.url.starts_with("sqlite:") {
        let pool = sqlx::SqlitePool::connect(&db.url).await?;
        let done = sqlx::query(statement).execute(&pool).await;
        pool.close().await;
        Ok(done?.rows_affected())
    } else {
        let pool = sqlx::PgPool::connect(&db.url).await?;
        let done = sqlx::query(statement).execute(&pool).await;
        pool.close().await;
        Ok(done?.rows_affected())
    }
}

async fn all_rows(store: &dyn budbringer::store::Store) -> Vec<AuditRecord> {
    store.audit_entries(0, 10_000).await.expect("audit rows")
}

fn browser() -> reqwest::Client {
    reqwest::Client::builder().cookie_store(true).redirect(reqwest::redirect::Policy::none()).build().unwrap()
}

fn csrf(html: &str) -> String {
    let marker = "name=\"csrf\" value=\"";
    let at = html.find(marker).unwrap_or_else(|| panic!("no csrf field in {html}")) + marker.len();
    html[at..].split('"').next().unwrap().to_owned()
}

/// Log in on the staff pages; the client and the session's form token.
async fn staff_login(app: &TestApp, username: &str, password: &str) -> (reqwest::Client, u16, String) {
    let client = browser();
    let form = client.get(format!("{}/staff/login", app.base)).send().await.unwrap().text().await.unwrap();
    let response = client
        .post(format!("{}/staff/login", app.base))
        .form(&[("csrf", csrf(&form).as_str()), ("username", username), ("password", password)])
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    let mut token = String::new();
    if status == 303 {
        let page = client.get(format!("{}/staff/alerts", app.base)).send().await.unwrap().text().await.unwrap();
        token = csrf(&page);
    }
    (client, status, token)
}

async fn actions_are_audited_and_tampering_is_found(backend: Backend) {
    // administrative commands through the real binary
    let db = TestDb::new(&backend).await;
    json_of(&cli(&db, &["migrate"]));
    let created = json_of(&cli(&db, &["admin", "create-authority", "--name", "Viborg Kommune", "--cvr", "29189846"]));
    let authority = created["authority_id"].as_str().unwrap().to_owned();
    let key = created["api_key"].as_str().unwrap().to_owned();
    json_of(&cli(&db, &["admin", "create-api-key", "--authority", &authority]));
    let hook_url = "https://hooks.example.org/in?token=s3cret-token";
    json_of(&cli(&db, &["admin", "add-webhook", "--authority", &authority, "--url", hook_url]));
    let anna = json_of(&cli(
        &db,
        &["admin", "create-caseworker", "--authority", &authority, "--username", "anna", "--name", "Anna Andersen"],
    ))["caseworker_id"]
        .as_str()
        .unwrap()
        .to_owned();

    // the gateway on the same database: API and staff-page actions
    let clock = Arc::new(ManualClock::new("2026-11-25T09:00:00Z".parse().unwrap()));
    let app = TestApp::start_on(db, clock.clone(), |s| {
        s.policies.important = fast_ladder();
        s.web.session_idle_minutes = 24 * 60;
    })
    .await;
    let api = |method: reqwest::Method, path: &str| {
        app.client.request(method, format!("{}{path}", app.base)).bearer_auth(&key)
    };
    let profile =
        json!({ "cpr": CPR, "name": "Jens Jensen", "phone": "+45 12 34 56 78", "exempt_from_digital_post": false });
    let put = api(reqwest::Method::PUT, "/v1/citizens/profile").json(&profile).send().await.unwrap();
    assert_eq!(put.status(), 200);
    let citizen_id = put.json::<Value>().await.unwrap()["citizen_id"].as_str().unwrap().to_owned();
    let hours = json!({ "office_hours": "mon-fri 09:00-15:00", "time_zone": "Europe/Copenhagen" });
    assert_eq!(api(reqwest::Method::PUT, "/v1/settings/office-hours").json(&hours).send().await.unwrap().status(), 200);
    let hook = api(reqwest::Method::POST, "/v1/webhooks").json(&json!({ "url": "https://other.example.org/h" }));
    let hook_id = hook.send().await.unwrap().json::<Value>().await.unwrap()["id"].as_str().unwrap().to_owned();
    let deleted = api(reqwest::Method::DELETE, &format!("/v1/webhooks/{hook_id}")).send().await.unwrap();
    assert_eq!(deleted.status(), 204);
    let found = api(reqwest::Method::POST, "/v1/citizens/lookup").json(&json!({ "cpr": CPR })).send().await.unwrap();
    assert_eq!(found.status(), 200);

    // an important letter nobody opens raises an alert, which a caseworker takes and closes
    let posted: Value = app.post_letter(&key, &letter(CPR)).await.json().await.unwrap();
    let letter_id = posted["id"].as_str().unwrap().to_owned();
    app.wait_for_status(&key, &letter_id, "delivered").await;
    clock.advance(Duration::from_secs(3601));
    let alerts_appear = eventually(Duration::from_secs(20), || async {
        !app.get_json(&key, "/v1/alerts").await.as_array().unwrap().is_empty()
    });
    assert!(alerts_appear.await, "the unopened alert");
    let alert_id = app.get_json(&key, "/v1/alerts").await[0]["id"].as_str().unwrap().to_owned();

    let (_, status, _) = staff_login(&app, "anna", "not the password at all").await;
    assert_eq!(status, 401);
    let (staff, status, token) = staff_login(&app, "anna", PASSWORD).await;
    assert_eq!(status, 303);
    let post = |path: String, fields: Vec<(&'static str, &'static str)>| {
        let mut form = vec![("csrf", token.clone())];
        form.extend(fields.into_iter().map(|(k, v)| (k, v.to_owned())));
        staff.post(format!("{}{path}", app.base)).form(&form).send()
    };
    assert_eq!(post(format!("/staff/alerts/{alert_id}/take"), vec![]).await.unwrap().status(), 303);
    // the note mentions the CPR number: it stays with the alert, never in the audit log
    let note = vec![("note", "Ringede til 0101901234, brevet er modtaget")];
    let closed = post(format!("/staff/alerts/{alert_id}/close"), note).await.unwrap();
    assert_eq!(closed.headers()["location"], "/staff/alerts?msg=closed");
    let looked_up = post("/staff/citizens/lookup".into(), vec![("cpr", CPR)]).await.unwrap();
    assert_eq!(looked_up.headers()["location"].to_str().unwrap(), format!("/staff/citizens/{citizen_id}"));

    // the rows: who did what, in order, chained
    let rows = all_rows(app.store.as_ref()).await;
    let seen: Vec<(&str, &str)> = rows.iter().map(|r| (r.actor_kind.as_str(), r.action.as_str())).collect();
    let expected = [
        ("admin_cli", "authority.created"),
        ("admin_cli", "api_key.created"),
        ("admin_cli", "api_key.created"),
        ("admin_cli", "webhook.added"),
        ("admin_cli", "caseworker.created"),
        ("api_key", "profile.changed_on_behalf"),
        ("api_key", "settings.office_hours_changed"),
        ("api_key", "webhook.added"),
        ("api_key", "webhook.deleted"),
        ("api_key", "citizen.looked_up"),
        ("caseworker", "caseworker.login_failed"),
        ("caseworker", "caseworker.logged_in"),
        ("caseworker", "alert.taken"),
        ("caseworker", "alert.closed"),
        ("caseworker", "citizen.looked_up"),
    ];
    assert_eq!(seen, expected);
    assert_eq!(rows.iter().map(|r| r.seq).collect::<Vec<_>>(), (1..=15).collect::<Vec<_>>());
    assert!(rows.iter().all(|r| r.authority_id.map(|a| a.to_string()).as_deref() == Some(authority.as_str())));
    let row = |action: &str, actor: &str| rows.iter().find(|r| r.action == action && r.actor_kind == actor).unwrap();
    assert_eq!(row("authority.created", "admin_cli").actor_id, "ops-test", "the operator's login name");
    assert_eq!(row("caseworker.created", "admin_cli").subject, anna);
    assert_eq!(row("webhook.added", "admin_cli").details, r#"{"host":"hooks.example.org"}"#, "never the token");
    let profile_row = row("profile.changed_on_behalf", "api_key");
    assert_eq!((profile_row.subject.as_str(), profile_row.actor_id.as_str()), (citizen_id.as_str(), &key[..9]));
    assert_eq!(row("webhook.deleted", "api_key").subject, hook_id);
    for action in ["caseworker.logged_in", "alert.taken", "alert.closed", "citizen.looked_up"] {
        assert_eq!(row(action, "caseworker").actor_id, anna, "{action}");
    }
    assert_eq!(row("caseworker.login_failed", "caseworker").subject, anna);
    assert_eq!(row("alert.taken", "caseworker").subject, alert_id);
    assert_eq!(row("alert.closed", "caseworker").subject, alert_id);
    assert_eq!(row("alert.closed", "caseworker").details, r#"{"kind":"unopened"}"#);
    assert_eq!(row("citizen.looked_up", "caseworker").subject, citizen_id);
    // no CPR number, secret, note or contact detail anywhere in the log
    for r in &rows {
        let text = format!("{r:?}");
        for forbidden in [CPR, "010190-1234", "s3cret", "Ringede", "12 34 56 78", key.as_str(), PASSWORD] {
            assert!(!text.contains(forbidden), "{forbidden} in {text}");
        }
    }
    assert_eq!(verify(&rows).unwrap().0, 15);

    // the command agrees, and names the head to record elsewhere
    let (code, printed, stderr) = audit_verify(&app.db, None);
    assert_eq!(code, Some(0), "{stderr}");
    assert_eq!(printed["verified"], true);
    assert_eq!(printed["rows"], 15);
    assert_eq!(printed["head"]["seq"], 15);
    assert_eq!(printed["head"]["hash"], rows[14].hash);
    let recorded_head = printed["head"]["record"].as_str().unwrap().to_owned();
    let listed = cli(&app.db, &["audit", "list", "--after", "12", "--limit", "2"]);
    let lines: Vec<Value> =
        String::from_utf8_lossy(&listed.stdout).lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert_eq!(lines.len(), 2);
    assert_eq!((lines[0]["seq"].as_i64(), lines[0]["action"].as_str()), (Some(13), Some("alert.taken")));
    assert_eq!(lines[1]["details"], json!({ "kind": "unopened" }));

    // append-only: the database itself refuses changes and deletions
    let refused = raw_sql(&app.db, "UPDATE audit_log SET details = '{}' WHERE seq = 4").await;
    assert!(refused.unwrap_err().to_string().contains("append-only"));
    let refused = raw_sql(&app.db, "DELETE FROM audit_log WHERE seq = 4").await;
    assert!(refused.unwrap_err().to_string().contains("append-only"));
    if matches!(backend, Backend::Postgres(_)) {
        assert!(raw_sql(&app.db, "TRUNCATE audit_log").await.is_err());
    }
    assert_eq!(all_rows(app.store.as_ref()).await, rows, "nothing changed");

    // an attacker with full access drops the triggers and edits a row: verify names it
    let drops = if matches!(backend, Backend::Sqlite) {
        ["DROP TRIGGER audit_log_no_update", "DROP TRIGGER audit_log_no_delete"]
    } else {
        ["DROP TRIGGER audit_log_no_update ON audit_log", "DROP TRIGGER audit_log_no_delete ON audit_log"]
    };
    for drop in drops {
        raw_sql(&app.db, drop).await.unwrap();
    }
    let original = rows[4].details.clone();
    let forged = r#"{"oidc":false,"role":"administrator"}"#;
    assert_ne!(original, forged);
    raw_sql(&app.db, &format!("UPDATE audit_log SET details = '{forged}' WHERE seq = 5")).await.unwrap();
    let (code, printed, stderr) = audit_verify(&app.db, None);
    assert_eq!(code, Some(3), "a broken chain: {printed}");
    assert_eq!((printed["verified"].as_bool(), printed["first_bad_seq"].as_i64()), (Some(false), Some(5)));
    assert_eq!(printed["rows"], 4, "the rows before it are fine");
    assert!(stderr.contains("seq 5") && stderr.contains("changed"), "{stderr}");
    raw_sql(&app.db, &format!("UPDATE audit_log SET details = '{original}' WHERE seq = 5")).await.unwrap();
    assert_eq!(audit_verify(&app.db, None).0, Some(0), "put back, it verifies again");

    // cutting the end off is invisible to the chain alone, but not to the recorded head
    raw_sql(&app.db, "DELETE FROM audit_log WHERE seq = 15").await.unwrap();
    let (code, printed, _) = audit_verify(&app.db, None);
    assert_eq!((code, printed["rows"].as_i64()), (Some(0), Some(14)));
    let (code, printed, _) = audit_verify(&app.db, Some(&recorded_head));
    assert_eq!((code, printed["first_bad_seq"].as_i64()), (Some(3), Some(15)));

    // a row removed from the middle
    raw_sql(&app.db, "DELETE FROM audit_log WHERE seq = 8").await.unwrap();
    let (code, printed, stderr) = audit_verify(&app.db, None);
    assert_eq!((code, printed["first_bad_seq"].as_i64()), (Some(3), Some(9)), "{stderr}");
    assert!(stderr.contains("missing"), "{stderr}");
    app.finish().await;
}

/// Many appends at once from two connection pools (as from two gateway processes): seqs 1..=n
/// without a gap or a repeat, and one unbroken chain.
async fn concurrent_appends_from_two_pools_keep_one_chain(backend: Backend) {
    const TASKS: usize = 8;
    const EACH: usize = 25;
    let db = TestDb::new(&backend).await;
    let first = store::connect(&db.url).await.unwrap();
    first.migrate().await.unwrap();
    let second = store::connect(&db.url).await.unwrap();
    let mut tasks = tokio::task::JoinSet::new();
    for task in 0..TASKS {
        let store = if task % 2 == 0 { Arc::clone(&first) } else { Arc::clone(&second) };
        tasks.spawn(async move {
            let mut seqs = Vec::new();
            for n in 0..EACH {
                let entry =
                    AuditEntry::new(n as i64, ActorKind::System, format!("task-{task}"), None, "test.appended", n)
                        .details(json!({ "task": task, "n": n }));
                seqs.push(store.append_audit(&entry).await.expect("append").seq);
            }
            seqs
        });
    }
    let mut seqs: Vec<i64> = Vec::new();
    while let Some(done) = tasks.join_next().await {
        seqs.extend(done.unwrap());
    }
    seqs.sort_unstable();
    let total = (TASKS * EACH) as i64;
    assert_eq!(seqs, (1..=total).collect::<Vec<_>>(), "every append got its own seq, no gaps");
    let rows = all_rows(second.as_ref()).await;
    assert_eq!(rows.len() as i64, total);
    assert_eq!(verify(&rows).unwrap().1.map(|h| h.seq), Some(total));
    // every task's appends are all there, in its own order
    for task in 0..TASKS {
        let mine: Vec<i64> = rows
            .iter()
            .filter(|r| r.actor_id == format!("task-{task}"))
            .map(|r| serde_json::from_str::<Value>(&r.details).unwrap()["n"].as_i64().unwrap())
            .collect();
        assert_eq!(mine, (0..EACH as i64).collect::<Vec<_>>());
    }
    first.close().await;
    second.close().await;
    db.drop_database().await;
}
