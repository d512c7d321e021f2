//! Test peer: a private OpenSSH sshd (internal-sftp) on a free loopback port, in a temp dir of
//! its own: its own host key, a client key made here as the only authorized key, the current
//! user, and an upload directory inside the temp dir. Stopped by PID when dropped.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use budbringer::channels::print::SftpSettings;

use super::{PeerProcess, free_port};

pub struct SftpServer {
    pub port: u16,
    pub dir: PathBuf,
    /// Where uploads go (absolute; no chroot).
    pub remote: PathBuf,
    pub client_key: PathBuf,
    /// The server's real host key, as the client must know it.
    pub known_hosts: PathBuf,
    pub user: String,
    sshd: Option<PeerProcess>,
}

fn keygen(path: &Path) {
    let status = Command::new("ssh-keygen")
        .args(["-q", "-t", "ed25519", "-N", "", "-C", "budbringer-test", "-f"])
        .arg(path)
        .stdout(Stdio::null())
        .status()
        .unwrap_or_else(|e| panic!("cannot run ssh-keygen: {e} (openssh-client installed? run scripts/test)"));
    assert!(status.success(), "ssh-keygen failed for {}", path.display());
}

fn public_key(private: &Path) -> String {
    let mut public = private.as_os_str().to_owned();
    public.push(".pub");
    std::fs::read_to_string(PathBuf::from(public)).expect("public key").trim().to_owned()
}

impl SftpServer {
    /// A running server on a free port. Another process may take the port between
    /// `free_port` and sshd binding it; then sshd exits and the next port is tried.
    pub async fn start() -> SftpServer {
        for _ in 0..5 {
            let mut server = Self::prepare(free_port());
            if server.try_run().await {
                return server;
            }
        }
        panic!("sshd did not start on any of 5 ports");
    }

    /// Keys, config and directories for a server on `port`, not started yet.
    pub fn prepare(port: u16) -> SftpServer {
        let dir = crate::harness::temp_dir("sftp");
        let remote = dir.join("inbox");
        std::fs::create_dir_all(&remote).expect("remote dir");
        let host_key = dir.join("host_key");
        let client_key = dir.join("client_key");
        keygen(&host_key);
        keygen(&client_key);
        std::fs::write(dir.join("authorized_keys"), public_key(&client_key) + "\n").expect("authorized_keys");
        let known_hosts = dir.join("known_hosts");
        std::fs::write(&known_hosts, format!("[127.0.0.1]:{port} {}\n", public_key(&host_key))).expect("known_hosts");
        let config = format!(
            "Port {port}\nListenAddress 127.0.0.1\nHostKey {host}\nAuthorizedKeysFile {auth}\n\
             PasswordAuthentication no\nKbdInteractiveAuthentication no\nUsePAM no\nStrictModes no\n\
             PidFile {pid}\nSubsystem sftp internal-sftp\n",
            host = host_key.display(),
            auth = dir.join("authorized_keys").display(),
            pid = dir.join("sshd.pid").display(),
        );
        std::fs::write(dir.join("sshd_config"), config).expect("sshd_config");
        let user = String::from_utf8(Command::new("whoami").output().expect("whoami").stdout)
            .expect("user name")
            .trim()
            .to_owned();
        SftpServer { port, dir, remote, client_key, known_hosts, user, sshd: None }
    }

    /// Start sshd (in the foreground, logging to a file) and wait until it listens.
    pub async fn run(&mut self) {
        assert!(
            self.try_run().await,
            "sshd did not listen on {}: {}",
            self.port,
            std::fs::read_to_string(self.dir.join("sshd.log")).unwrap_or_default()
        );
    }

    /// Start sshd; false when it did not come up on its port (it has stopped then).
    async fn try_run(&mut self) -> bool {
        // sshd refuses to start without its privilege separation directory
        let _ = std::fs::create_dir_all("/run/sshd");
        let log_path = self.dir.join("sshd.log");
        let log = std::fs::File::create(&log_path).expect("log file");
        let mut sshd = PeerProcess::spawn(
            "sshd",
            Command::new("/usr/sbin/sshd")
                .args(["-D", "-e", "-f"])
                .arg(self.dir.join("sshd_config"))
                .stdout(Stdio::null())
                .stderr(log),
        );
        // its own log line, not just an open port: something else may listen there
        let listening = format!("Server listening on 127.0.0.1 port {}", self.port);
        let start = Instant::now();
        while start.elapsed() < Duration::from_secs(10) {
            if std::fs::read_to_string(&log_path).is_ok_and(|s| s.contains(&listening)) {
                self.sshd = Some(sshd);
                return true;
            }
            if let Ok(Some(_)) = sshd.child.try_wait() {
                return false;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        false
    }

    /// Client settings that reach this server.
    pub fn settings(&self) -> SftpSettings {
        SftpSettings {
            host: "127.0.0.1".into(),
            port: self.port,
            username: self.user.clone(),
            private_key_file: self.client_key.clone(),
            known_hosts_file: self.known_hosts.clone(),
            remote_directory: self.remote.to_string_lossy().into_owned(),
            timeout_secs: 10,
        }
    }

    /// A known_hosts file that names another key for this server (a man in the middle).
    pub fn wrong_known_hosts(&self) -> PathBuf {
        let other = self.dir.join("other_host_key");
        keygen(&other);
        let path = self.dir.join("wrong_known_hosts");
        std::fs::write(&path, format!("[127.0.0.1]:{} {}\n", self.port, public_key(&other))).expect("known_hosts");
        path
    }

    /// Every name in the upload directory, dot files included.
    pub fn uploaded(&self) -> Vec<String> {
        let mut names: Vec<String> = std::fs::read_dir(&self.remote)
            .map(|entries| {
                entries.filter_map(|e| e.ok()).map(|e| e.file_name().to_string_lossy().into_owned()).collect()
            })
            .unwrap_or_default();
        names.sort();
        names
    }
}

impl Drop for SftpServer {
    fn drop(&mut self) {
        // stop sshd before its files go
        self.sshd.take();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}
