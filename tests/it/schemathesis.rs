//! Issue #7, hostile input: Schemathesis (installed by `scripts/test` into
//! `target/schemathesis`) generates requests for every operation in `/openapi.json` and checks
//! that none answers 5xx, every status and content type is one the document declares for the
//! operation (errors are `application/problem+json`), and every body matches its schema.
//! Without Schemathesis the test is skipped unless `TEST_REQUIRE_SCHEMATHESIS=1`.

use crate::harness::*;
use std::path::PathBuf;
use std::process::Command;

/// Examples per operation: enough to find shape bugs, small enough for CI (≈ 30 operations).
const EXAMPLES: &str = "25";

fn schemathesis() -> Option<PathBuf> {
    let installed = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target/schemathesis/bin/st");
    let found = [installed, PathBuf::from("st")]
        .into_iter()
        .find(|st| Command::new(st).arg("--version").output().is_ok_and(|o| o.status.success()));
    if found.is_none() && std::env::var("TEST_REQUIRE_SCHEMATHESIS").is_ok_and(|v| v == "1") {
        panic!("TEST_REQUIRE_SCHEMATHESIS=1 but Schemathesis is not installed (scripts/test installs it)");
    }
    found
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_operation_conforms_to_the_openapi_document() {
    let Some(st) = schemathesis() else {
        eprintln!("skipped: Schemathesis is not installed (scripts/test installs it)");
        return;
    };
    let app = TestApp::start(&Backend::Sqlite).await;
    let (_, key) = app.authority("Schemathesis Kommune").await;
    // something to find: a citizen and a letter with a document
    let mut body = letter("0101901234");
    body["documents"] = serde_json::json!([{ "filename": "a.pdf", "content": pdf_base64() }]);
    assert_eq!(app.post_letter(&key, &body).await.status(), 201);

    let base = app.base.clone();
    let output = tokio::task::spawn_blocking(move || {
        Command::new(st)
            .args(["--no-color", "run", &format!("{base}/openapi.json"), "--url", &base])
            .args(["--header", &format!("Authorization: Bearer {key}")])
            .args([
                "--checks",
                "not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance",
            ])
            .args(["--max-examples", EXAMPLES, "--seed", "7", "--generation-deterministic"])
            // one worker: Python 3.11's `ast` is not safe when Hypothesis parses lambdas on two
            // threads at once ("AST constructor recursion depth mismatch", CPython gh-106905)
            .args(["--workers", "1", "--request-timeout", "10", "--max-time", "90"])
            .output()
            .expect("run schemathesis")
    })
    .await
    .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "Schemathesis found problems:\n{stdout}\n{stderr}");
    app.finish().await;
}
