//! Running `brook serve` as a real process for tests.
#![allow(dead_code)]

use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A `brook serve` child process on a free loopback port.
pub struct Server {
    pub child: Child,
    pub addr: SocketAddr,
    pub data_dir: PathBuf,
    /// The schema registry's address, when started with one.
    pub registry: Option<SocketAddr>,
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

impl Server {
    /// Starts `brook serve` on `data_dir` (no schema registry) and waits until it accepts
    /// connections.
    pub fn start(data_dir: &Path) -> Server {
        Self::launch(data_dir, free_port(), None)
    }

    /// Starts on a given port (restarts reuse theirs).
    pub fn start_on(data_dir: &Path, port: u16) -> Server {
        Self::launch(data_dir, port, None)
    }

    /// Starts with the schema registry on a free port too.
    pub fn start_with_registry(data_dir: &Path) -> Server {
        let registry: SocketAddr = format!("127.0.0.1:{}", free_port()).parse().unwrap();
        Self::launch(data_dir, free_port(), Some(registry))
    }

    fn launch(data_dir: &Path, port: u16, registry: Option<SocketAddr>) -> Server {
        let addr: SocketAddr = format!("127.0.0.1:{port}").parse().unwrap();
        let child = Command::new(env!("CARGO_BIN_EXE_brook"))
            .args([
                "serve",
                "--metrics-listen",
                "off",
                "--registry-listen",
                &registry.map_or_else(|| "off".to_string(), |r| r.to_string()),
                "--listen",
                &addr.to_string(),
                "--data-dir",
            ])
            .arg(data_dir)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let deadline = Instant::now() + Duration::from_secs(20);
        for wait_for in std::iter::once(addr).chain(registry) {
            while TcpStream::connect(wait_for).is_err() {
                assert!(
                    Instant::now() < deadline,
                    "brook serve did not start listening on {wait_for}"
                );
                std::thread::sleep(Duration::from_millis(20));
            }
        }
        Server {
            child,
            addr,
            data_dir: data_dir.to_path_buf(),
            registry,
        }
    }

    /// Sends SIGTERM and waits; returns whether the process exited successfully.
    pub fn terminate(mut self) -> bool {
        let status = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status()
            .unwrap();
        assert!(status.success());
        self.child.wait().unwrap().success()
    }

    /// SIGKILL, no chance to flush or close.
    pub fn kill(mut self) {
        self.child.kill().unwrap();
        self.child.wait().unwrap();
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
