//! The console in the binary: `brook serve --console-listen` serves it beside the broker, and
//! `brook console` runs it alone against a cluster.

mod common;

use std::net::{SocketAddr, TcpStream};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::{Server, free_port};

fn wait_listening(addr: SocketAddr) {
    let deadline = Instant::now() + Duration::from_secs(60);
    while TcpStream::connect(addr).is_err() {
        assert!(Instant::now() < deadline, "nothing listens on {addr}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn get(url: &str) -> (u16, String) {
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(Some(Duration::from_secs(30)))
        .build()
        .into();
    let mut r = agent.get(url).call().unwrap();
    (r.status().as_u16(), r.body_mut().read_to_string().unwrap())
}

#[test]
fn serve_and_brook_console_serve_the_console() {
    let dir = tempfile::tempdir().unwrap();
    let console: SocketAddr = format!("127.0.0.1:{}", free_port()).parse().unwrap();
    let server = Server::start_with_args(
        &dir.path().join("data"),
        &["--console-listen", &console.to_string()],
    );
    wait_listening(console);
    let (status, html) = get(&format!("http://{console}/"));
    assert_eq!(status, 200);
    assert!(html.contains("<title>Brook Console</title>"), "{html}");
    let (status, overview) = get(&format!("http://{console}/api/overview"));
    assert_eq!(status, 200, "{overview}");
    assert!(overview.contains("\"brokers\""), "{overview}");

    let alone: SocketAddr = format!("127.0.0.1:{}", free_port()).parse().unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_brook"))
        .args([
            "-b",
            &server.addr.to_string(),
            "console",
            "--listen",
            &alone.to_string(),
        ])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    wait_listening(alone);
    let (status, topics) = get(&format!("http://{alone}/api/topics"));
    let _ = child.kill();
    let _ = child.wait();
    assert_eq!(status, 200, "{topics}");
    assert!(topics.starts_with('['), "{topics}");
    assert!(
        server.terminate(),
        "brook serve stops cleanly with the console running"
    );
}
