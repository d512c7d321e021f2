//! Test peer: an OTLP/HTTP trace receiver (tests/peers/otlp/receiver.py) that checks every
//! export against the official OpenTelemetry protobuf definitions, in the venv scripts/test
//! installs (target/otlp-peer). Without it the trace test is skipped, unless
//! `TEST_REQUIRE_OTLP_PEER=1`.

use super::{PeerProcess, free_port, peer_file, wait_for_text};
use serde_json::Value;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::Duration;

pub struct OtlpReceiver {
    pub port: u16,
    dir: PathBuf,
    _process: PeerProcess,
}

impl OtlpReceiver {
    pub async fn start() -> Option<OtlpReceiver> {
        let python = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target/otlp-peer/bin/python");
        if !python.exists() {
            assert!(
                !std::env::var("TEST_REQUIRE_OTLP_PEER").is_ok_and(|v| v == "1"),
                "TEST_REQUIRE_OTLP_PEER=1 but the OTLP peer's venv is missing (scripts/test installs it)"
            );
            eprintln!("skipped: no OTLP peer (run scripts/test)");
            return None;
        }
        let dir = crate::harness::temp_dir("otlp");
        let port = free_port();
        let log = dir.join("receiver.out");
        let process = PeerProcess::spawn(
            "otlp receiver",
            Command::new(python)
                .arg(peer_file("otlp/receiver.py"))
                .arg(port.to_string())
                .arg(&dir)
                .stdout(Stdio::from(std::fs::File::create(&log).expect("log")))
                .stderr(Stdio::from(std::fs::File::create(dir.join("receiver.err")).expect("log"))),
        );
        assert!(wait_for_text(&log, "listening", Duration::from_secs(20)).await, "the OTLP receiver did not start");
        Some(OtlpReceiver { port, dir, _process: process })
    }

    pub fn endpoint(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    fn lines(&self, file: &str) -> Vec<Value> {
        std::fs::read_to_string(self.dir.join(file))
            .unwrap_or_default()
            .lines()
            .filter_map(|l| serde_json::from_str(l).ok())
            .collect()
    }

    /// The spans received, as the receiver decoded them from valid exports.
    pub fn spans(&self) -> Vec<Value> {
        self.lines("spans.jsonl")
    }

    /// Exports the receiver refused, and why.
    pub fn refusals(&self) -> Vec<Value> {
        self.lines("errors.jsonl")
    }
}
