//! SFTP transport: the PDF goes into a print-and-post vendor's directory, for the vendor to
//! pick up in batches.
//!
//! It runs OpenSSH's `sftp` client in batch mode (no SSH library to keep up to date; the
//! vendor's server is talked to by the same client operators test it with). Each upload is
//! atomic: `put` to a dot-prefixed temporary name, then `rename` to `<letter>_<delivery>.pdf`,
//! so the vendor never picks up half a file. The rename replaces an earlier copy
//! (OpenSSH's `posix-rename@openssh.com`), so sending the same delivery again leaves one file.
//!
//! Host keys are always checked against `known_hosts_file` alone. Failures: refused or lost
//! connections and timeouts are transient; authentication, host-key and permission problems
//! permanent. Errors carry `sftp`'s own diagnostics, never the letter.

use async_trait::async_trait;
use serde::{Deserialize, Serialize};
use std::io::Write;
use std::os::unix::fs::OpenOptionsExt;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::channels::file_drop::FileDrop;
use crate::channels::{ChannelError, OutboundMessage, Receipt, Transport};

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SftpSettings {
    pub host: String,
    pub port: u16,
    pub username: String,
    /// The client's private key (OpenSSH format, no passphrase: nobody is there to type it).
    pub private_key_file: PathBuf,
    /// The vendor's host key(s), `[host]:port ssh-ed25519 …`; the only keys trusted.
    pub known_hosts_file: PathBuf,
    /// Absolute directory on the server the PDFs go into.
    pub remote_directory: String,
    /// For connecting, and for the whole upload; keep it below `engine.lease_secs`.
    pub timeout_secs: u64,
}

impl Default for SftpSettings {
    fn default() -> Self {
        Self {
            host: String::new(),
            port: 22,
            username: String::new(),
            private_key_file: PathBuf::new(),
            known_hosts_file: PathBuf::new(),
            remote_directory: String::new(),
            timeout_secs: 30,
        }
    }
}

pub struct SftpTransport {
    settings: SftpSettings,
    /// `remote_directory` without a trailing slash.
    remote_dir: String,
    program: PathBuf,
}

impl SftpTransport {
    /// Checks the settings and that the key files and the `sftp` client exist, so that a
    /// mistake stops start-up instead of failing every delivery.
    pub fn new(settings: &SftpSettings) -> Result<Self, ChannelError> {
        let bad = |key: &str, why: &str| ChannelError::Permanent(format!("channels.print.sftp.{key}: {why}"));
        // these end up as command-line arguments: nothing that could read as an option
        let plain =
            |s: &str| !s.is_empty() && !s.starts_with('-') && !s.chars().any(|c| c.is_whitespace() || c.is_control());
        if !plain(&settings.host) || settings.host.contains(['@', '[', ']']) {
            return Err(bad("host", "a host name or IP address is required"));
        }
        if !plain(&settings.username) || settings.username.contains(['@', ':']) {
            return Err(bad("username", "a user name is required"));
        }
        if settings.port == 0 {
            return Err(bad("port", "must be above 0"));
        }
        if settings.timeout_secs == 0 {
            return Err(bad("timeout_secs", "must be above 0"));
        }
        // batch commands are lines of (quoted) words; these characters would change their meaning
        let dir = &settings.remote_directory;
        if !dir.starts_with('/') || dir.chars().any(|c| c.is_control() || "\"'\\*?[]".contains(c)) {
            return Err(bad(
                "remote_directory",
                "an absolute path without quotes, backslashes, glob characters or control characters is required",
            ));
        }
        for (key, path) in
            [("private_key_file", &settings.private_key_file), ("known_hosts_file", &settings.known_hosts_file)]
        {
            if path.as_os_str().is_empty() {
                return Err(bad(key, "is required"));
            }
            // ssh expands `%` tokens and splits on white space in these settings
            let text = path.to_string_lossy();
            if text.chars().any(|c| c.is_whitespace() || c.is_control() || "%\"'".contains(c)) {
                return Err(bad(key, "a path without white space, quotes or % is required"));
            }
            let readable = std::fs::File::open(path).and_then(|f| f.metadata()).is_ok_and(|m| m.is_file());
            if !readable {
                return Err(bad(key, &format!("{} is not a readable file", path.display())));
            }
        }
        let program = find_in_path("sftp").ok_or_else(|| {
            ChannelError::Permanent(
                "the sftp transport needs OpenSSH's sftp client on PATH (Debian: openssh-client)".into(),
            )
        })?;
        // `/` becomes empty: file names are joined with a `/` of their own
        let remote_dir = dir.trim_end_matches('/').to_owned();
        Ok(Self { settings: settings.clone(), remote_dir, program })
    }

    fn destination(&self) -> String {
        let host = &self.settings.host;
        // an IPv6 address needs brackets, or its colons read as `host:path`
        if host.contains(':') {
            format!("{}@[{host}]", self.settings.username)
        } else {
            format!("{}@{host}", self.settings.username)
        }
    }

    fn command(&self) -> Command {
        let s = &self.settings;
        let mut cmd = Command::new(&self.program);
        cmd.arg("-b")
            .arg("-")
            .arg("-i")
            .arg(&s.private_key_file)
            .arg("-P")
            .arg(s.port.to_string())
            .args(["-o", "BatchMode=yes", "-o", "StrictHostKeyChecking=yes"])
            .arg("-o")
            .arg(format!("UserKnownHostsFile={}", s.known_hosts_file.display()))
            // the configured file is the whole truth: no system-wide keys, no learning new ones
            .args(["-o", "GlobalKnownHostsFile=/dev/null", "-o", "UpdateHostKeys=no"])
            // only the configured key, not whatever an agent offers
            .args(["-o", "IdentitiesOnly=yes"])
            .arg("-o")
            .arg(format!("ConnectTimeout={}", s.timeout_secs))
            .arg("--")
            .arg(self.destination());
        cmd
    }
}

/// `program` in one of the `PATH` directories.
fn find_in_path(program: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path).map(|dir| dir.join(program)).find(|p| p.is_file())
}

/// A word for an sftp batch line: double-quoted, with `"` and `\` escaped. `globbed` words
/// (the local file of `put`) also escape glob characters, which `sftp` would expand.
fn quote(word: &str, globbed: bool) -> String {
    let mut out = String::with_capacity(word.len() + 2);
    out.push('"');
    for c in word.chars() {
        if c == '"' || c == '\\' || (globbed && "*?[]".contains(c)) {
            out.push('\\');
        }
        out.push(c);
    }
    out.push('"');
    out
}

/// The batch: upload under a dot-prefixed name the vendor ignores, then rename it into place.
fn batch(local: &str, remote_tmp: &str, remote_final: &str) -> String {
    format!(
        "put {} {}\nrename {} {}\n",
        quote(local, true),
        quote(remote_tmp, false),
        quote(remote_tmp, false),
        quote(remote_final, false)
    )
}

/// What a failed `sftp` run means, from its exit and its diagnostics.
fn classify(stderr: &str, target: &str) -> ChannelError {
    let lines: Vec<&str> = stderr
        .lines()
        .map(str::trim)
        // the host-key-changed banner is decoration; the verdict follows it
        .filter(|l| !l.is_empty() && !l.starts_with('@'))
        .collect();
    let find = |needles: &[&str]| lines.iter().find(|l| needles.iter().any(|n| l.contains(n))).copied();
    let brief = |line: &str| line.chars().take(240).collect::<String>();
    if let Some(line) = find(&["Host key verification failed", "host key for", "Host key for", "no matching host key"])
    {
        return ChannelError::Permanent(format!(
            "sftp {target}: host key not accepted (check known_hosts_file): {}",
            brief(line)
        ));
    }
    if let Some(line) = find(&["Permission denied", "Too many authentication failures", "bad permissions", "Load key"])
    {
        return ChannelError::Permanent(format!("sftp {target}: refused: {}", brief(line)));
    }
    if let Some(line) = find(&["No such file or directory", "Unable to negotiate"]) {
        return ChannelError::Permanent(format!("sftp {target}: {}", brief(line)));
    }
    // refused, timed out, reset, `Connection closed`, a server-side failure: worth another try
    let last = lines.iter().rev().find(|l| !l.starts_with("sftp>")).copied().unwrap_or("no diagnostics");
    let why = find(&[
        "Connection refused",
        "timed out",
        "Connection reset",
        "No route to host",
        "Network is unreachable",
        "Could not resolve hostname",
    ])
    .unwrap_or(last);
    ChannelError::Transient(format!("sftp {target}: {}", brief(why)))
}

/// A private temporary file (the PDF for `sftp` to read, its diagnostics); removed when
/// dropped, whatever happened.
struct PrivateFile(PathBuf);

impl PrivateFile {
    fn create(suffix: &str, bytes: &[u8]) -> std::io::Result<Self> {
        let path = std::env::temp_dir().join(format!("budbringer-sftp-{}.{suffix}", uuid::Uuid::new_v4()));
        // 0600 and a name that cannot exist yet: nobody else reads the letter
        let mut file = std::fs::OpenOptions::new().write(true).create_new(true).mode(0o600).open(&path)?;
        let private = Self(path);
        file.write_all(bytes)?;
        file.sync_all()?;
        Ok(private)
    }
}

impl Drop for PrivateFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

/// Run `sftp` with `batch` on stdin; kill it after `limit`. Blocking: call off the runtime.
fn run(mut cmd: Command, batch: &str, limit: Duration, target: &str) -> Result<(), ChannelError> {
    let local = |e: std::io::Error| ChannelError::Transient(format!("sftp {target}: cannot set up the log file: {e}"));
    let log = PrivateFile::create("log", b"").map_err(local)?;
    let stderr = std::fs::OpenOptions::new().append(true).open(&log.0).map_err(local)?;
    let mut child = cmd
        .stdin(Stdio::piped())
        // stdout only echoes the batch; stderr goes to a file, so no pipe can fill up and stall
        .stdout(Stdio::null())
        .stderr(stderr)
        .spawn()
        .map_err(|e| match e.kind() {
            // the client is gone or not executable: waiting will not bring it back
            std::io::ErrorKind::NotFound | std::io::ErrorKind::PermissionDenied => {
                ChannelError::Permanent(format!("cannot run sftp: {e}"))
            }
            _ => ChannelError::Transient(format!("cannot run sftp: {e}")),
        })?;
    if let Some(mut stdin) = child.stdin.take() {
        // a few hundred bytes fit the pipe; a client that died early is seen below
        let _ = stdin.write_all(batch.as_bytes());
    }
    let deadline = Instant::now() + limit;
    let status = loop {
        match child.try_wait() {
            Ok(Some(status)) => break status,
            Ok(None) if Instant::now() >= deadline => {
                let _ = child.kill();
                let _ = child.wait();
                return Err(ChannelError::Transient(format!("sftp {target}: no answer within {} s", limit.as_secs())));
            }
            Ok(None) => std::thread::sleep(Duration::from_millis(20)),
            Err(e) => return Err(ChannelError::Transient(format!("sftp {target}: lost the client: {e}"))),
        }
    };
    if status.success() {
        return Ok(());
    }
    let text = std::fs::read_to_string(&log.0).unwrap_or_default();
    Err(classify(&text, target))
}

#[async_trait]
impl Transport for SftpTransport {
    async fn send(&self, message: &OutboundMessage) -> Result<Receipt, ChannelError> {
        let name = FileDrop::file_name(message);
        let remote_final = format!("{}/{name}", self.remote_dir);
        let remote_tmp = format!("{}/.{name}.part", self.remote_dir);
        let target = format!("{}:{}", self.settings.host, self.settings.port);
        let cmd = self.command();
        let bytes = message.bytes.clone();
        let limit = Duration::from_secs(self.settings.timeout_secs);
        let upload_target = target.clone();
        let final_path = remote_final.clone();
        tokio::task::spawn_blocking(move || {
            let local = PrivateFile::create("pdf", &bytes)
                .map_err(|e| ChannelError::Transient(format!("sftp: cannot stage the PDF locally: {e}")))?;
            let local_path = local.0.to_string_lossy().into_owned();
            run(cmd, &batch(&local_path, &remote_tmp, &final_path), limit, &upload_target)
        })
        .await
        .map_err(|e| ChannelError::Transient(format!("sftp task failed: {e}")))??;
        tracing::info!(target = %target, file = %name, "uploaded over sftp");
        Ok(Receipt { transport: "sftp", provider_ref: Some(remote_final), confirmed: true })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;

    fn settings(dir: &Path) -> SftpSettings {
        let key = dir.join("key");
        let known = dir.join("known_hosts");
        std::fs::write(&key, "k").unwrap();
        std::fs::write(&known, "h").unwrap();
        SftpSettings {
            host: "vendor.example".into(),
            username: "budbringer".into(),
            private_key_file: key,
            known_hosts_file: known,
            remote_directory: "/in/".into(),
            ..SftpSettings::default()
        }
    }

    #[test]
    fn settings_have_defaults_and_refuse_unknown_keys() {
        let s: SftpSettings = serde_json::from_str(r#"{"host":"vendor.example"}"#).unwrap();
        assert_eq!((s.port, s.timeout_secs), (22, 30));
        assert!(serde_json::from_str::<SftpSettings>(r#"{"strict_host_key_checking":false}"#).is_err());
    }

    #[test]
    fn quotes_batch_words() {
        assert_eq!(quote("/tmp/a b.pdf", true), "\"/tmp/a b.pdf\"");
        assert_eq!(quote("/x/\"q\"\\*", true), "\"/x/\\\"q\\\"\\\\\\*\"");
        assert_eq!(quote("/x/*", false), "\"/x/*\"");
        assert_eq!(
            batch("/tmp/l.pdf", "/in/.f.pdf.part", "/in/f.pdf"),
            "put \"/tmp/l.pdf\" \"/in/.f.pdf.part\"\nrename \"/in/.f.pdf.part\" \"/in/f.pdf\"\n"
        );
    }

    #[test]
    fn classifies_openssh_diagnostics() {
        let t = "vendor:22";
        let refused = "ssh: connect to host 127.0.0.1 port 2300: Connection refused\nConnection closed\n";
        assert!(!classify(refused, t).is_permanent());
        assert!(classify(refused, t).to_string().contains("Connection refused"));
        assert!(!classify("Connection closed\n", t).is_permanent());
        assert!(!classify("Connection to 10.0.0.1 port 22 timed out\nConnection closed\n", t).is_permanent());
        let changed = "@@@@@\n@    WARNING: REMOTE HOST IDENTIFICATION HAS CHANGED!     @\n@@@@@\n\
                       Host key for [127.0.0.1]:2299 has changed and you have requested strict checking.\n\
                       Host key verification failed.\nConnection closed\n";
        let e = classify(changed, t);
        assert!(e.is_permanent() && e.to_string().contains("known_hosts_file"), "{e}");
        let unknown = "No ED25519 host key is known for [127.0.0.1]:2299 and you have requested strict checking.\n\
                       Host key verification failed.\nConnection closed\n";
        assert!(classify(unknown, t).is_permanent());
        assert!(classify("root@127.0.0.1: Permission denied (publickey).\nConnection closed\n", t).is_permanent());
        assert!(classify("dest open \"/in/.x.part\": Permission denied\n", t).is_permanent());
        assert!(classify("dest open \"/nodir/.x.part\": No such file or directory\n", t).is_permanent());
    }

    #[test]
    fn start_up_checks_name_the_setting() {
        let dir = std::env::temp_dir().join(format!("bb-sftp-{}", uuid::Uuid::new_v4()));
        std::fs::create_dir_all(&dir).unwrap();
        let good = settings(&dir);
        let fails = |s: SftpSettings, key: &str| match SftpTransport::new(&s) {
            Err(e) => assert!(e.to_string().contains(key), "{e} should name {key}"),
            Ok(_) => panic!("{key}: accepted"),
        };
        fails(SftpSettings { private_key_file: dir.join("missing"), ..good.clone() }, "private_key_file");
        fails(SftpSettings { known_hosts_file: PathBuf::new(), ..good.clone() }, "known_hosts_file");
        fails(SftpSettings { host: "-oProxyCommand=x".into(), ..good.clone() }, "host");
        fails(SftpSettings { username: String::new(), ..good.clone() }, "username");
        fails(SftpSettings { remote_directory: "in".into(), ..good.clone() }, "remote_directory");
        fails(SftpSettings { remote_directory: "/in\nrm x".into(), ..good.clone() }, "remote_directory");
        if find_in_path("sftp").is_some() {
            let t = SftpTransport::new(&good).unwrap();
            assert_eq!(t.remote_dir, "/in");
            assert_eq!(t.destination(), "budbringer@vendor.example");
        }
        std::fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn the_local_copy_is_private_and_goes_away() {
        use std::os::unix::fs::PermissionsExt;
        let copy = PrivateFile::create("pdf", b"%PDF").unwrap();
        let path = copy.0.clone();
        assert_eq!(std::fs::metadata(&path).unwrap().permissions().mode() & 0o777, 0o600);
        drop(copy);
        assert!(!path.exists());
    }
}
