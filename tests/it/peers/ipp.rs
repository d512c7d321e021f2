//! Test peer: ippeveprinter (CUPS's IPP Everywhere printer) on a free loopback port, keeping
//! every PDF it is sent in a spool dir of its own. ippeveprinter always sets up Avahi, which
//! needs a D-Bus system bus, so each printer gets a private, throw-away dbus-daemon.
//! Both are stopped by PID when the printer is dropped (printer first).

use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::Duration;

use super::{PeerProcess, free_port, peer_file, wait_for_port};

pub struct IppPrinter {
    pub port: u16,
    pub dir: PathBuf,
    pub spool: PathBuf,
    // dropped in this order: the printer before its bus
    _printer: PeerProcess,
    _dbus: PeerProcess,
}

impl IppPrinter {
    /// A printer that completes every job at once.
    pub async fn start() -> IppPrinter {
        Self::start_on(free_port(), "/bin/true").await
    }

    /// A printer whose jobs end `aborted` (its print command fails like a paper jam).
    pub async fn start_jammed() -> IppPrinter {
        let script = peer_file("ipp-fail.sh");
        Self::start_on(free_port(), script.to_str().expect("path")).await
    }

    /// A printer that takes 2 s per job.
    pub async fn start_slow() -> IppPrinter {
        let script = peer_file("ipp-slow.sh");
        Self::start_on(free_port(), script.to_str().expect("path")).await
    }

    /// A printer on `port`, running `command` for each job (`/bin/true`: done in an instant;
    /// without `-c` ippeveprinter would pretend to print for 5–15 s).
    pub async fn start_on(port: u16, command: &str) -> IppPrinter {
        let dir = crate::harness::temp_dir("ipp");
        let spool = dir.join("spool");
        std::fs::create_dir_all(&spool).expect("spool dir");
        let socket = dir.join("dbus.sock");
        let log = |name: &str| std::fs::File::create(dir.join(name)).expect("log file");
        let dbus = PeerProcess::spawn(
            "dbus-daemon",
            Command::new("dbus-daemon")
                .args(["--session", "--nofork", "--nopidfile"])
                .arg(format!("--address=unix:path={}", socket.display()))
                .stdout(Stdio::null())
                .stderr(log("dbus.err")),
        );
        assert!(
            crate::harness::eventually(Duration::from_secs(10), || {
                let ready = socket.exists();
                async move { ready }
            })
            .await,
            "dbus-daemon did not create {}",
            socket.display()
        );
        let printer = PeerProcess::spawn(
            "ippeveprinter",
            Command::new("ippeveprinter")
                .env("DBUS_SYSTEM_BUS_ADDRESS", format!("unix:path={}", socket.display()))
                // -n localhost: loopback only (127.0.0.1 and ::1); -k keeps the spooled PDFs;
                // -f application/pdf: without it only raster formats are accepted
                .args(["-n", "localhost", "-p", &port.to_string(), "-k", "-r", "off", "-f", "application/pdf"])
                .arg("-d")
                .arg(&spool)
                .args(["-c", command, "TestPrinter"])
                .stdout(log("ippeveprinter.out"))
                .stderr(log("ippeveprinter.log")),
        );
        assert!(wait_for_port(port, Duration::from_secs(10)).await, "ippeveprinter did not listen on {port}");
        IppPrinter { port, dir, spool, _printer: printer, _dbus: dbus }
    }

    pub fn uri(&self) -> String {
        format!("ipp://localhost:{}/ipp/print", self.port)
    }

    /// The PDFs the printer has stored (`<job-id>-<job-name>.pdf`).
    pub fn spooled(&self) -> Vec<PathBuf> {
        let mut files: Vec<PathBuf> = std::fs::read_dir(&self.spool)
            .map(|entries| entries.filter_map(|e| e.ok()).map(|e| e.path()).collect())
            .unwrap_or_default();
        files.retain(|p| p.extension().is_some_and(|e| e == "pdf"));
        files.sort();
        files
    }

    /// The stored PDF of the job named `job_name` (the delivery id).
    pub fn spooled_job(&self, job_name: &str) -> Option<PathBuf> {
        self.spooled().into_iter().find(|p| p.file_name().is_some_and(|n| n.to_string_lossy().contains(job_name)))
    }
}

impl Drop for IppPrinter {
    fn drop(&mut self) {
        // the processes stop in their own Drop; the files go with the temp dir
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}
