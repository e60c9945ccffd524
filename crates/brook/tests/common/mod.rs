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
    /// Brook SQL's address, when started with it.
    pub sql: Option<SocketAddr>,
}

pub fn free_port() -> u16 {
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
        Self::launch(data_dir, free_port(), None, None, &[])
    }

    /// Starts with its log (stderr) written to `log`.
    pub fn start_logging_to(data_dir: &Path, log: &Path) -> Server {
        Self::launch(data_dir, free_port(), None, Some(log), &[])
    }

    /// Starts with extra `brook serve` arguments (`--set name=value`, …).
    pub fn start_with_args(data_dir: &Path, args: &[&str]) -> Server {
        Self::launch(data_dir, free_port(), None, None, args)
    }

    /// Starts on a given port (restarts reuse theirs).
    pub fn start_on(data_dir: &Path, port: u16) -> Server {
        Self::launch(data_dir, port, None, None, &[])
    }

    /// Starts on a given port with extra `brook serve` arguments.
    pub fn start_on_with_args(data_dir: &Path, port: u16, args: &[&str]) -> Server {
        Self::launch(data_dir, port, None, None, args)
    }

    /// Starts with the schema registry on a free port too.
    pub fn start_with_registry(data_dir: &Path) -> Server {
        Self::start_with_registry_and_args(data_dir, &[])
    }

    /// Starts with the schema registry on a free port and extra `brook serve` arguments.
    pub fn start_with_registry_and_args(data_dir: &Path, args: &[&str]) -> Server {
        let registry: SocketAddr = format!("127.0.0.1:{}", free_port()).parse().unwrap();
        Self::launch(data_dir, free_port(), Some(registry), None, args)
    }

    /// Starts with Brook SQL on `sql` (restarts reuse its address), its log in `log`.
    pub fn start_with_sql(data_dir: &Path, port: u16, sql: SocketAddr, log: &Path) -> Server {
        let sql_text = sql.to_string();
        let mut server = Self::launch(
            data_dir,
            port,
            None,
            Some(log),
            &[
                "--sql-listen",
                &sql_text,
                "--set",
                "group.initial.rebalance.delay.ms=0",
            ],
        );
        let deadline = Instant::now() + Duration::from_secs(60);
        while TcpStream::connect(sql).is_err() {
            assert!(
                Instant::now() < deadline,
                "Brook SQL did not start listening on {sql}"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
        server.sql = Some(sql);
        server
    }

    fn launch(
        data_dir: &Path,
        port: u16,
        registry: Option<SocketAddr>,
        log: Option<&Path>,
        extra: &[&str],
    ) -> Server {
        let stderr = match log {
            Some(path) => Stdio::from(std::fs::File::create(path).unwrap()),
            None => Stdio::null(),
        };
        let addr: SocketAddr = format!("127.0.0.1:{port}").parse().unwrap();
        let child = Command::new(env!("CARGO_BIN_EXE_brook"))
            .args(["serve"])
            .args(if extra.contains(&"--metrics-listen") {
                &[][..]
            } else {
                &["--metrics-listen", "off"][..]
            })
            .args([
                "--registry-listen",
                &registry.map_or_else(|| "off".to_string(), |r| r.to_string()),
                "--listen",
                &addr.to_string(),
                "--data-dir",
            ])
            .arg(data_dir)
            .args(if extra.contains(&"--sql-listen") {
                &[][..]
            } else {
                &["--sql-listen", "off"][..]
            })
            .args(if extra.contains(&"--connect-listen") {
                &[][..]
            } else {
                &["--connect-listen", "off"][..]
            })
            .args(if extra.contains(&"--console-listen") {
                &[][..]
            } else {
                &["--console-listen", "off"][..]
            })
            .args(if extra.contains(&"--rest-listen") {
                &[][..]
            } else {
                &["--rest-listen", "off"][..]
            })
            .args(extra)
            .stdout(Stdio::null())
            .stderr(stderr)
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
            sql: None,
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

/// The Python interpreter of the venv that `./scripts/test` creates (`.venv` at the workspace
/// root, with the Kafka clients the tests drive), or `BROOK_TEST_PYTHON`.
pub fn python() -> PathBuf {
    if let Ok(path) = std::env::var("BROOK_TEST_PYTHON") {
        return PathBuf::from(path);
    }
    let venv = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../.venv/bin/python");
    assert!(
        venv.exists(),
        "no Python venv with the Kafka clients at {}: run ./scripts/test, which creates it",
        venv.display()
    );
    venv
}

/// `relative` inside the venv of [`python`], which `./scripts/test` installs beside the Python
/// packages; fails the test naming `what` when it is missing.
fn in_venv(relative: &str, what: &str) -> PathBuf {
    let path = python()
        .parent()
        .and_then(|bin| bin.parent())
        .expect("the venv's python is in <venv>/bin")
        .join(relative);
    assert!(
        path.exists(),
        "no {what} at {}: run ./scripts/test, which installs it",
        path.display()
    );
    path
}

/// kafka-python 2.0.2, the course's era, which `./scripts/test` installs beside the venv's
/// current release (`pip install --target <venv>/kafka-python-2.0.2`); put it first on
/// PYTHONPATH to run it.
pub fn kafka_python_2_0_2() -> PathBuf {
    in_venv("kafka-python-2.0.2/kafka", "kafka-python 2.0.2")
        .parent()
        .expect("the package is inside its install directory")
        .to_path_buf()
}

/// The Java Kafka client's jar (kafka-clients 3.9.2, bundled in the `atoti-server-kafka`
/// wheel), which `./scripts/test` installs into `<venv>/java-kafka-clients`.
pub fn java_kafka_clients_jar() -> PathBuf {
    in_venv(
        "java-kafka-clients/_atoti_server_kafka/__resources__/plugin.jar",
        "kafka-clients jar",
    )
}
