//! Real test peers (Kannel, ippeveprinter, an SMTP server, an HTTPS SF1601 peer), started by
//! the test harness on loopback and free ports, in a temp dir, and stopped by PID.
// The helpers below serve the channel tests; some land before others use them.
#![allow(dead_code)]

pub mod ipp;
pub mod kannel;
pub mod oidc;
pub mod otlp;
pub mod sf1601;
pub mod sftp;
pub mod smtp;

use std::path::{Path, PathBuf};
use std::process::{Child, Command};
use std::time::{Duration, Instant};

/// A free TCP port on loopback (bound and released; the peer binds it next).
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").expect("bind").local_addr().expect("addr").port()
}

/// Wait until something accepts TCP connections on `port`.
pub async fn wait_for_port(port: u16, limit: Duration) -> bool {
    let start = Instant::now();
    while start.elapsed() < limit {
        if tokio::net::TcpStream::connect(("127.0.0.1", port)).await.is_ok() {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    false
}

/// Wait until `path` exists and contains `needle` (peers that announce readiness in a log).
pub async fn wait_for_text(path: &Path, needle: &str, limit: Duration) -> bool {
    let start = Instant::now();
    while start.elapsed() < limit {
        if std::fs::read_to_string(path).is_ok_and(|s| s.contains(needle)) {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    false
}

/// A peer process: SIGTERM and reaped when dropped, so no test leaves one behind.
pub struct PeerProcess {
    pub name: &'static str,
    pub child: Child,
}

impl PeerProcess {
    pub fn spawn(name: &'static str, command: &mut Command) -> PeerProcess {
        let child =
            command.spawn().unwrap_or_else(|e| panic!("cannot start {name}: {e} (is it installed? run scripts/test)"));
        PeerProcess { name, child }
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }
}

impl Drop for PeerProcess {
    fn drop(&mut self) {
        let _ = Command::new("kill").args(["-TERM", &self.child.id().to_string()]).status();
        let start = Instant::now();
        while start.elapsed() < Duration::from_secs(3) {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Files the test harness ships for its peers (configs, scripts, schemas) under tests/peers.
pub fn peer_file(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/peers").join(name)
}
