//! Test peer: a real SMTP server (aiosmtpd, via tests/peers/smtp_sink.py). It writes every
//! message it accepts to `<dir>/NNNN.eml` and `index.jsonl`; recipients whose local part
//! starts with `reject` get 550, with `tempfail` 451.

use super::{PeerProcess, free_port, peer_file, wait_for_text};
use serde_json::Value;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::Duration;

pub struct SmtpSink {
    pub port: u16,
    pub dir: PathBuf,
    _process: PeerProcess,
}

impl SmtpSink {
    pub async fn start(dir: PathBuf) -> SmtpSink {
        std::fs::create_dir_all(&dir).expect("sink dir");
        let port = free_port();
        let log = dir.join("sink.out");
        let process = PeerProcess::spawn(
            "smtp_sink",
            Command::new("/usr/bin/python3")
                .arg(peer_file("smtp_sink.py"))
                .arg(port.to_string())
                .arg(dir.join("out"))
                .stdout(Stdio::from(std::fs::File::create(&log).expect("log")))
                .stderr(Stdio::null()),
        );
        assert!(wait_for_text(&log, "listening", Duration::from_secs(10)).await, "SMTP sink did not start");
        SmtpSink { port, dir, _process: process }
    }

    /// Messages accepted so far: the index line and the raw message.
    pub fn messages(&self) -> Vec<(Value, String)> {
        let out = self.dir.join("out");
        std::fs::read_to_string(out.join("index.jsonl"))
            .unwrap_or_default()
            .lines()
            .filter_map(|l| serde_json::from_str::<Value>(l).ok())
            .map(|entry| {
                let raw =
                    std::fs::read_to_string(out.join(entry["file"].as_str().unwrap_or_default())).unwrap_or_default();
                (entry, raw)
            })
            .collect()
    }
}
