//! `brook serve` as a real process for the examples' end-to-end tests: the binary the README
//! runs, on a free loopback port with its data in a temporary directory.
#![allow(dead_code)]

use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A running `brook serve`.
pub struct BrookServe {
    child: Child,
    /// Its Kafka listener, `127.0.0.1:<port>`.
    pub bootstrap: String,
}

/// The `brook` binary of this build (target/<profile>/brook, beside this test's directory),
/// built first if a partial build left it out.
fn brook_binary() -> PathBuf {
    let exe = std::env::current_exe().unwrap();
    let profile_dir = exe.parent().and_then(Path::parent).unwrap().to_path_buf();
    let brook = profile_dir.join("brook");
    if !brook.exists() {
        let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_string());
        let mut build = Command::new(cargo);
        build.args(["build", "-p", "brook", "--bin", "brook"]);
        if profile_dir.ends_with("release") {
            build.arg("--release");
        }
        assert!(
            build.status().unwrap().success(),
            "cargo build -p brook failed"
        );
    }
    brook
}

impl BrookServe {
    /// Starts `brook serve` with its data in `data_dir`; groups form at once.
    pub fn start(data_dir: &Path) -> BrookServe {
        let port = TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let bootstrap = format!("127.0.0.1:{port}");
        let child = Command::new(brook_binary())
            .args([
                "serve",
                "--listen",
                &bootstrap,
                "--metrics-listen",
                "off",
                "--registry-listen",
                "off",
                "--sql-listen",
                "off",
                "--connect-listen",
                "off",
                "--console-listen",
                "off",
                "--rest-listen",
                "off",
                "--set",
                "group.initial.rebalance.delay.ms=0",
                "--data-dir",
            ])
            .arg(data_dir)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let deadline = Instant::now() + Duration::from_secs(20);
        while TcpStream::connect(&bootstrap).is_err() {
            assert!(Instant::now() < deadline, "brook serve did not start");
            std::thread::sleep(Duration::from_millis(20));
        }
        BrookServe { child, bootstrap }
    }
}

impl Drop for BrookServe {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
