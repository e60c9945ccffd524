//! Two `brook registry` processes on one broker: writes through the follower go to the
//! leader, and when the leader is killed (SIGKILL, no goodbye to the group) the survivor takes
//! over the writes once the group notices.

mod common;

use std::net::{SocketAddr, TcpListener, TcpStream};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use common::Server;

/// A `brook registry` child, killed when dropped.
struct Registry {
    child: Child,
    url: String,
}

impl Drop for Registry {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn start_registry(bootstrap: SocketAddr, listen: SocketAddr) -> Registry {
    let child = Command::new(env!("CARGO_BIN_EXE_brook"))
        .args(["-b", &bootstrap.to_string(), "registry", "--listen"])
        .arg(listen.to_string())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(20);
    while TcpStream::connect(listen).is_err() {
        assert!(Instant::now() < deadline, "brook registry did not start");
        std::thread::sleep(Duration::from_millis(20));
    }
    Registry {
        child,
        url: format!("http://{listen}"),
    }
}

fn register(agent: &ureq::Agent, url: &str, subject: &str, schema: &str) -> (u16, String) {
    let body = serde_json::json!({ "schema": schema }).to_string();
    let mut response = agent
        .post(format!("{url}/subjects/{subject}/versions"))
        .header("Content-Type", "application/vnd.schemaregistry.v1+json")
        .send(&body)
        .unwrap();
    let status = response.status().as_u16();
    (status, response.body_mut().read_to_string().unwrap())
}

#[test]
fn the_survivor_takes_over_writes_when_the_leader_is_killed() {
    let tmp = tempfile::tempdir().unwrap();
    let broker = Server::start(tmp.path());
    // Ports whose URLs sort in this order: the range assignor hands the one partition to the
    // member whose id (its URL) sorts first, so the first registry leads.
    let mut ports: Vec<SocketAddr> = (0..2)
        .map(|_| {
            TcpListener::bind("127.0.0.1:0")
                .unwrap()
                .local_addr()
                .unwrap()
        })
        .collect();
    ports.sort_by_key(|a| format!("http://{a}"));
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(Some(Duration::from_secs(60)))
        .build()
        .into();

    let leader = start_registry(broker.addr, ports[0]);
    let (status, body) = register(&agent, &leader.url, "first", r#""int""#);
    assert_eq!(status, 200, "{body}");
    let follower = start_registry(broker.addr, ports[1]);
    let (status, body) = register(&agent, &follower.url, "second", r#""long""#);
    assert_eq!(status, 200, "{body}");
    // The election group says who leads: the member holding the `_schemas` partition.
    let described = Command::new(env!("CARGO_BIN_EXE_brook"))
        .args(["-b", &broker.addr.to_string(), "-o", "json"])
        .args(["group", "describe", "schema-registry"])
        .output()
        .unwrap();
    let group: serde_json::Value = serde_json::from_slice(&described.stdout).unwrap();
    assert_eq!(group["members"].as_array().unwrap().len(), 2, "{group}");
    assert_eq!(
        group["partitions"][0]["client_id"],
        leader.url.as_str(),
        "{group}"
    );

    // The leader dies without leaving its group; the survivor's write waits for the group to
    // drop it (session.timeout.ms, 10 s) and then goes through.
    drop(leader);
    let started = Instant::now();
    let (status, body) = register(&agent, &follower.url, "third", r#""string""#);
    assert_eq!(status, 200, "{body}");
    let ids: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(ids["id"], 3, "{body}");
    assert!(
        started.elapsed() < Duration::from_secs(20),
        "took {:?}",
        started.elapsed()
    );
    // Everything written before is still there.
    let mut response = agent
        .get(format!("{}/subjects", follower.url))
        .call()
        .unwrap();
    let subjects: serde_json::Value =
        serde_json::from_str(&response.body_mut().read_to_string().unwrap()).unwrap();
    assert_eq!(subjects, serde_json::json!(["first", "second", "third"]));
}
