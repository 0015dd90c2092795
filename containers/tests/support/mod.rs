//! Helpers shared by the integration tests and the benchmark: start the
//! real `edgemine-server` binary, wait for it, talk to it.
#![allow(dead_code)]

pub mod kafka;

use std::io::{BufRead, BufReader};
use std::net::TcpListener;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// The server binary cargo built for these tests.
pub fn server_binary() -> PathBuf {
    std::env::var_os("EDGEMINE_SERVER_BIN")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_BIN_EXE_edgemine-server")))
}

/// A free loopback port (bound, read, released).
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

/// A running server process, killed when dropped; its log lines are kept.
pub struct Server {
    pub child: Child,
    pub base: String,
    pub log: Arc<Mutex<Vec<String>>>,
}

impl Server {
    /// Starts `edgemine-server <mode> --listen 127.0.0.1:<port> <args>` and
    /// waits until `/readyz` answers 200.
    pub fn start(mode: &str, args: &[&str]) -> Server {
        let port = free_port();
        let mut child = Command::new(server_binary())
            .arg(mode)
            .arg("--listen")
            .arg(format!("127.0.0.1:{port}"))
            .args(args)
            .env("RUST_LOG", "info")
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start edgemine-server");
        let log = Arc::new(Mutex::new(Vec::new()));
        let stderr = child.stderr.take().unwrap();
        let sink = log.clone();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                sink.lock().unwrap().push(line);
            }
        });
        let server = Server { child, base: format!("http://127.0.0.1:{port}"), log };
        server.wait_ready(Duration::from_secs(120));
        server
    }

    pub fn wait_ready(&self, limit: Duration) {
        let started = Instant::now();
        while started.elapsed() < limit {
            if let Ok(response) = agent().get(format!("{}/readyz", self.base)).call()
                && response.status() == 200
            {
                return;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        panic!("server not ready within {limit:?}; log:\n{}", self.log.lock().unwrap().join("\n"));
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.base, path)
    }

    /// Sends a signal to the process.
    pub fn signal(&self, signal: &str) {
        let status = Command::new("kill").arg(format!("-{signal}")).arg(self.child.id().to_string()).status().unwrap();
        assert!(status.success(), "kill -{signal} failed");
    }

    /// Waits for the process to exit, up to `limit`.
    pub fn wait_exit(&mut self, limit: Duration) -> Option<std::process::ExitStatus> {
        let started = Instant::now();
        while started.elapsed() < limit {
            if let Some(status) = self.child.try_wait().unwrap() {
                return Some(status);
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        None
    }

    /// The value of an unlabelled or labelled sample in `/metrics`.
    pub fn metric(&self, sample: &str) -> f64 {
        let text = get_text(&self.url("/metrics")).1;
        text.lines()
            .find_map(|line| line.strip_prefix(sample).and_then(|rest| rest.strip_prefix(' ')))
            .map(|value| value.trim().parse().unwrap())
            .unwrap_or(0.0)
    }

    pub fn log_text(&self) -> String {
        self.log.lock().unwrap().join("\n")
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// An HTTP agent that returns error statuses as responses, not errors.
pub fn agent() -> ureq::Agent {
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(Some(Duration::from_secs(120)))
        .build()
        .into()
}

/// GET: status and body.
pub fn get_text(url: &str) -> (u16, String) {
    let mut response = agent().get(url).call().expect("GET");
    let status = response.status().as_u16();
    (status, response.body_mut().read_to_string().unwrap())
}

/// POST a JSON body: status, headers of interest, parsed body.
pub struct Answer {
    pub status: u16,
    pub retry_after: Option<String>,
    pub body: serde_json::Value,
}

pub fn post(url: &str, body: &str, token: Option<&str>) -> Answer {
    let mut request = agent().post(url).header("content-type", "application/json");
    if let Some(token) = token {
        request = request.header("authorization", format!("Bearer {token}"));
    }
    let mut response = request.send(body).expect("POST");
    let status = response.status().as_u16();
    let retry_after = response.headers().get("retry-after").map(|v| v.to_str().unwrap().to_string());
    let text = response.body_mut().with_config().limit(64 << 20).read_to_string().unwrap();
    let body = serde_json::from_str(&text).unwrap_or(serde_json::Value::String(text));
    Answer { status, retry_after, body }
}

/// Sentences to make documents from: names, places, companies, varied lengths.
pub const SENTENCES: &[&str] = &[
    "Dr. Anna Keller inspected the Hamburg plant of Siemens on Monday.",
    "The pump at station 4 failed after the bearing overheated.",
    "Maria Lopez joined Acme Corporation in Madrid as head of maintenance.",
    "Engineers replaced the cracked valve and restarted the cooling loop.",
    "The auditors from Deloitte met the site manager in Rotterdam.",
    "A power surge tripped the breakers across the northern warehouse.",
    "John Smith reported the leak to the control room at 6 a.m.",
    "Toyota shipped the spare gearbox from Nagoya to the Detroit depot.",
];

/// Document `i`: one to four sentences, distinct per `i`.
pub fn document(i: usize) -> String {
    let n = 1 + i % 4;
    let mut text = format!("Report {i}. ");
    for k in 0..n {
        text.push_str(SENTENCES[(i + k * 3) % SENTENCES.len()]);
        text.push(' ');
    }
    text.trim_end().to_string()
}

/// Quantile `q` of sorted `values`.
pub fn quantile(sorted: &[f64], q: f64) -> f64 {
    let index = ((sorted.len() as f64 - 1.0) * q).round() as usize;
    sorted[index.min(sorted.len() - 1)]
}
