//! Running the `runner` binary: a command to configure, a run in a directory, a `bench` run that
//! must succeed, its output as text, and a local port nothing listens on.

use std::path::Path;
use std::process::Output;

use assert_cmd::Command;

/// The `runner` binary as a command.
pub fn runner() -> Command {
    Command::new(assert_cmd::cargo::cargo_bin!("runner"))
}

/// Run `runner` with `args` in `dir`.
pub fn runner_in(dir: &Path, args: &[&str]) -> Output {
    runner().current_dir(dir).args(args).output().unwrap()
}

/// Run `runner bench` with `args` in `dir`; panics with its output unless it exits 0.
pub fn bench_ok(dir: &Path, args: &[&str]) -> (String, String) {
    let mut all = vec!["bench"];
    all.extend_from_slice(args);
    let out = runner_in(dir, &all);
    let (stdout, stderr) = texts(&out);
    assert!(
        out.status.success(),
        "runner {all:?} failed ({:?})\n{stdout}\n{stderr}",
        out.status.code()
    );
    (stdout, stderr)
}

/// stdout and stderr as text.
pub fn texts(out: &Output) -> (String, String) {
    (
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// A local port nothing listens on (bound, then released).
pub fn dead_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// The `runner` binary as a plain process, for tests that spawn it and signal it.
pub fn runner_process() -> std::process::Command {
    std::process::Command::new(assert_cmd::cargo::cargo_bin!("runner"))
}

/// The `runner` binary's path, for a `std::process::Command` (a child to keep running).
pub fn bin_path() -> std::path::PathBuf {
    std::path::PathBuf::from(assert_cmd::cargo::cargo_bin!("runner"))
}

/// `runner serve --port 0` with fixed timing, as a child process, and its base URL (no
/// trailing slash); killed when dropped.
pub struct Serve(pub std::process::Child, pub String);

impl Serve {
    /// Start it with the given TTFT and ITL (ms) and wait until it listens.
    pub fn start(ttft_ms: &str, itl_ms: &str) -> Serve {
        use std::io::{BufRead, BufReader};
        use std::process::Stdio;
        let mut child = std::process::Command::new(bin_path())
            .args([
                "serve",
                "--port",
                "0",
                "--ttft-ms",
                ttft_ms,
                "--itl-ms",
                itl_ms,
            ])
            .stderr(Stdio::piped())
            .stdout(Stdio::null())
            .spawn()
            .unwrap();
        let mut err = BufReader::new(child.stderr.take().unwrap());
        let mut line = String::new();
        while !line.contains("listening on") {
            line.clear();
            assert!(err.read_line(&mut line).unwrap() > 0, "serve ended");
        }
        let url = line
            .split_whitespace()
            .find(|w| w.starts_with("http://"))
            .unwrap();
        Serve(child, url.trim_end_matches('/').to_owned())
    }

    /// The port it listens on.
    pub fn port(&self) -> &str {
        self.1.rsplit(':').next().unwrap()
    }
}

impl Drop for Serve {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}
