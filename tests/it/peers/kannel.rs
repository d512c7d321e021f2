//! Test peer: Kannel (bearerbox + fakesmsc + smsbox) on free loopback ports in a temp dir,
//! configured from tests/peers/kannel.conf.template and stopped by PID (smsbox, fakesmsc,
//! bearerbox: the reverse of the start order). fakesmsc plays the phone network: it prints
//! every SMS it receives and sends what the test writes to its stdin as SMS from a phone.

use std::io::Write as _;
use std::path::PathBuf;
use std::process::{ChildStdin, Command, Stdio};
use std::time::{Duration, Instant};

use super::{PeerProcess, free_port, peer_file, wait_for_port};

pub const USERNAME: &str = "budbringer";
pub const PASSWORD: &str = "kannel-test-pw";
const ADMIN_PASSWORD: &str = "kannel-admin-pw";
/// Numbers starting with this have no route (`denied-prefix` in the template).
pub const UNROUTABLE_PREFIX: &str = "+999";

const BEARERBOX: &str = "/usr/sbin/bearerbox";
const SMSBOX: &str = "/usr/sbin/smsbox";
const FAKESMSC: &str = "/usr/lib/kannel/test/fakesmsc";

pub struct Kannel {
    pub dir: PathBuf,
    pub sendsms_port: u16,
    admin_port: u16,
    /// Lines written here reach bearerbox as SMS from a phone: `sender receiver text <text>`.
    phone: Option<ChildStdin>,
    /// In start order; stopped in reverse.
    processes: Vec<PeerProcess>,
}

impl Kannel {
    /// Ports for a Kannel that is started later (so the app can be configured first).
    pub fn pick_sendsms_port() -> u16 {
        free_port()
    }

    /// Start Kannel with sendsms on `sendsms_port`; inbound SMS go to `mo_url`
    /// (`…/v1/inbound/sms/kannel/mo?token=…`). Returns once every part is ready.
    ///
    /// A port picked by `free_port` can be taken by another test's connection before Kannel
    /// binds it (CI saw a bearerbox that never came up), so a start that fails is retried
    /// on fresh ports; the failure names the last lines of the failed try's logs.
    pub async fn start(sendsms_port: u16, mo_url: &str) -> Kannel {
        let mut failures = Vec::new();
        for _ in 0..3 {
            match Kannel::try_start(sendsms_port, mo_url).await {
                Ok(kannel) => return kannel,
                Err(failure) => {
                    eprintln!("Kannel did not start, trying again on fresh ports: {failure}");
                    failures.push(failure);
                }
            }
        }
        panic!("Kannel did not start three times: {failures:#?}");
    }

    async fn try_start(sendsms_port: u16, mo_url: &str) -> Result<Kannel, String> {
        let dir = crate::harness::temp_dir("kannel");
        let admin_port = free_port();
        let smsbox_port = free_port();
        let fakesmsc_port = free_port();
        let config = std::fs::read_to_string(peer_file("kannel.conf.template"))
            .expect("tests/peers/kannel.conf.template")
            .replace("${KANNEL_DIR}", &dir.display().to_string())
            .replace("${KANNEL_ADMIN_PORT}", &admin_port.to_string())
            .replace("${KANNEL_ADMIN_PASSWORD}", ADMIN_PASSWORD)
            .replace("${KANNEL_SMSBOX_PORT}", &smsbox_port.to_string())
            .replace("${KANNEL_FAKESMSC_PORT}", &fakesmsc_port.to_string())
            .replace("${KANNEL_SENDSMS_PORT}", &sendsms_port.to_string())
            .replace("${KANNEL_SENDSMS_USER}", USERNAME)
            .replace("${KANNEL_SENDSMS_PASS}", PASSWORD)
            .replace("${KANNEL_MO_URL}", mo_url);
        assert!(!config.contains("${"), "unrendered placeholder in kannel.conf");
        let conf = dir.join("kannel.conf");
        std::fs::write(&conf, config).expect("write kannel.conf");

        let mut kannel = Kannel { dir, sendsms_port, admin_port, phone: None, processes: Vec::new() };
        let bearerbox =
            PeerProcess::spawn("bearerbox", Command::new(BEARERBOX).arg(&conf).stdio_to(&kannel.dir, "bearerbox"));
        kannel.processes.push(bearerbox);
        // the admin port opens a little before the SMSC and smsbox listeners
        kannel.wait_for_status(&format!("FAKE:{fakesmsc_port}")).await?;

        // stdbuf -i0: fakesmsc reads stdin with select() + fgets(); buffered, a second line
        // would wait for a third
        let mut fakesmsc = PeerProcess::spawn(
            "fakesmsc",
            Command::new("stdbuf")
                .args(["-i0", FAKESMSC, "-H", "127.0.0.1", "-r", &fakesmsc_port.to_string(), "-i", "0"])
                .stdin(Stdio::piped())
                .stdio_to(&kannel.dir, "fakesmsc"),
        );
        kannel.phone = fakesmsc.child.stdin.take();
        kannel.processes.push(fakesmsc);
        kannel.wait_for_status(&format!("FAKE:{fakesmsc_port} (online")).await?;

        let smsbox = PeerProcess::spawn("smsbox", Command::new(SMSBOX).arg(&conf).stdio_to(&kannel.dir, "smsbox"));
        kannel.processes.push(smsbox);
        kannel.wait_for_status("smsbox:(none), IP 127.0.0.1").await?;
        if !wait_for_port(sendsms_port, Duration::from_secs(10)).await {
            return Err(kannel.failure("smsbox sendsms port never opened"));
        }
        Ok(kannel)
    }

    pub fn sendsms_url(&self) -> String {
        format!("http://127.0.0.1:{}/cgi-bin/sendsms", self.sendsms_port)
    }

    async fn status(&self) -> Option<String> {
        let url = format!("http://127.0.0.1:{}/status.txt?password={ADMIN_PASSWORD}", self.admin_port);
        let response = reqwest::get(url).await.ok()?;
        if !response.status().is_success() {
            return None;
        }
        response.text().await.ok()
    }

    /// Wait until Kannel's status page shows `needle`; fails early when a process exits.
    async fn wait_for_status(&mut self, needle: &str) -> Result<(), String> {
        let start = Instant::now();
        while start.elapsed() < Duration::from_secs(15) {
            if self.status().await.is_some_and(|s| s.contains(needle)) {
                return Ok(());
            }
            if let Some(exited) = self.processes.iter_mut().find_map(|p| match p.child.try_wait() {
                Ok(Some(status)) => Some(format!("{} exited ({status})", p.name)),
                _ => None,
            }) {
                return Err(self.failure(&exited));
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        Err(self.failure(&format!("Kannel status never showed {needle:?}")))
    }

    /// `what` went wrong, with the last lines of every log (the directory goes when dropped).
    fn failure(&self, what: &str) -> String {
        let mut report = what.to_owned();
        for log in ["bearerbox.out", "bearerbox.log", "fakesmsc.out", "smsbox.out", "smsbox.log"] {
            let Ok(text) = std::fs::read_to_string(self.dir.join(log)) else { continue };
            let lines: Vec<&str> = text.lines().collect();
            report.push_str(&format!("\n--- {log}:\n{}", lines[lines.len().saturating_sub(10)..].join("\n")));
        }
        report
    }

    /// Every SMS fakesmsc received, as (receiver, text), the parts of a concatenated one
    /// joined. fakesmsc logs each part as `Got message N: <sender receiver [udh U] text T>`
    /// or, for UCS-2, `… data D>` with `U` and `D` URL-encoded bytes (D is UTF-16BE).
    pub fn received(&self) -> Vec<(String, String)> {
        let log = std::fs::read_to_string(self.dir.join("fakesmsc.out")).unwrap_or_default();
        let mut whole = Vec::new();
        let mut pending: std::collections::HashMap<(String, u8), Vec<(u8, String)>> = Default::default();
        for message in
            log.lines().filter_map(|line| line.split_once("Got message ")?.1.split_once(": <")?.1.strip_suffix('>'))
        {
            let Some((receiver, udh, text)) = parse_message(message) else { continue };
            // a concatenation header (IE 00): length 5, 00, 03, reference, total, sequence
            match udh.as_deref() {
                Some([5, 0, 3, reference, total, sequence]) => {
                    let parts = pending.entry((receiver.clone(), *reference)).or_default();
                    parts.push((*sequence, text));
                    if parts.len() == usize::from(*total) {
                        parts.sort_by_key(|(sequence, _)| *sequence);
                        whole.push((receiver, parts.iter().map(|(_, t)| t.as_str()).collect()));
                    }
                }
                _ => whole.push((receiver, text)),
            }
        }
        whole
    }

    /// Wait for the first SMS to `receiver` to reach the phone network.
    pub async fn wait_for_sms(&self, receiver: &str) -> String {
        let start = Instant::now();
        // fakesmsc looks at its bearerbox socket about once a second in stdin mode
        while start.elapsed() < Duration::from_secs(20) {
            if let Some((_, text)) = self.received().into_iter().find(|(to, _)| to == receiver) {
                return text;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("no SMS to {receiver} reached fakesmsc; logs in {}", self.dir.display());
    }

    /// Send an SMS from a phone (`from`) to our number (`to`), as a citizen replying would.
    pub fn send_from_phone(&mut self, from: &str, to: &str, text: &str) {
        let phone = self.phone.as_mut().expect("fakesmsc stdin");
        writeln!(phone, "{from} {to} text {text}").expect("write to fakesmsc");
        phone.flush().expect("flush fakesmsc stdin");
    }

    /// smsbox's log (level 0: every HTTP fetch it made, with the answer).
    pub fn smsbox_log(&self) -> String {
        std::fs::read_to_string(self.dir.join("smsbox.log")).unwrap_or_default()
    }
}

impl Drop for Kannel {
    fn drop(&mut self) {
        self.phone.take();
        while let Some(process) = self.processes.pop() {
            drop(process);
        }
        if !std::thread::panicking() {
            let _ = std::fs::remove_dir_all(&self.dir);
        }
    }
}

/// Send a peer's stdout and stderr to `<dir>/<name>.out`.
trait StdioTo {
    fn stdio_to(&mut self, dir: &std::path::Path, name: &str) -> &mut Self;
}

impl StdioTo for Command {
    fn stdio_to(&mut self, dir: &std::path::Path, name: &str) -> &mut Self {
        let out = std::fs::File::create(dir.join(format!("{name}.out"))).expect("peer log file");
        let err = out.try_clone().expect("peer log file");
        self.stdout(out).stderr(err)
    }
}

/// One logged part: its receiver, its user data header and its text.
fn parse_message(message: &str) -> Option<(String, Option<Vec<u8>>, String)> {
    let mut fields = message.splitn(3, ' ');
    let (_sender, receiver, rest) = (fields.next()?, fields.next()?, fields.next()?);
    let (udh, rest) = match rest.strip_prefix("udh ") {
        Some(rest) => {
            let (udh, rest) = rest.split_once(' ')?;
            (Some(url_decode(udh)), rest)
        }
        None => (None, rest),
    };
    let text = if let Some(text) = rest.strip_prefix("text ") {
        text.to_owned()
    } else {
        let bytes = url_decode(rest.strip_prefix("data ")?);
        let units: Vec<u16> = bytes.chunks_exact(2).map(|b| u16::from_be_bytes([b[0], b[1]])).collect();
        String::from_utf16(&units).ok()?
    };
    Some((receiver.to_owned(), udh, text))
}

/// Kannel's URL encoding: `%XX` is a byte, `+` a space, anything else itself.
fn url_decode(s: &str) -> Vec<u8> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = bytes.get(i + 1..i + 3).and_then(|h| std::str::from_utf8(h).ok());
        match (bytes[i], hex.and_then(|h| u8::from_str_radix(h, 16).ok())) {
            (b'%', Some(byte)) => {
                out.push(byte);
                i += 3;
            }
            (b'+', _) => {
                out.push(b' ');
                i += 1;
            }
            (b, _) => {
                out.push(b);
                i += 1;
            }
        }
    }
    out
}
