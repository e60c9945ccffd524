//! The REST proxy in the binary: `brook serve --rest-listen` serves Confluent's REST Proxy API
//! beside the broker and the registry. 10,000 rides produced through it as JSON in batches of
//! 100 through v2 and through v3's streaming form are read back by `brook consume` and by a v2
//! consumer instance, each once; rides produced as Avro with an inline schema are decoded by
//! confluent-kafka's AvroDeserializer (PyPI).

mod common;

use std::net::{SocketAddr, TcpStream};
use std::path::PathBuf;
use std::process::Command;
use std::time::{Duration, Instant};

use common::{Server, free_port, python};
use serde_json::{Value as Json, json};

fn get(url: &str) -> (u16, Json) {
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .build()
        .into();
    let mut r = agent.get(url).call().unwrap();
    let status = r.status().as_u16();
    let text = r.body_mut().read_to_string().unwrap();
    (status, serde_json::from_str(&text).unwrap_or(Json::Null))
}

fn post(url: &str, content_type: &str, body: &Json) -> (u16, Json) {
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(Some(Duration::from_secs(30)))
        .build()
        .into();
    let mut r = agent
        .post(url)
        .header("Content-Type", content_type)
        .send(body.to_string())
        .unwrap();
    let status = r.status().as_u16();
    let text = r.body_mut().read_to_string().unwrap();
    (status, serde_json::from_str(&text).unwrap_or(Json::Null))
}

#[test]
fn rides_through_the_rest_proxy_reach_brook_consume_and_confluent_kafka() {
    let dir = tempfile::tempdir().unwrap();
    let rest: SocketAddr = format!("127.0.0.1:{}", free_port()).parse().unwrap();
    let server = Server::start_with_registry_and_args(
        &dir.path().join("data"),
        &["--rest-listen", &rest.to_string()],
    );
    let deadline = Instant::now() + Duration::from_secs(60);
    while TcpStream::connect(rest).is_err() {
        assert!(Instant::now() < deadline, "the REST proxy did not start");
        std::thread::sleep(Duration::from_millis(50));
    }
    let bootstrap = server.addr.to_string();
    let brook = |args: &[&str]| {
        let out = Command::new(env!("CARGO_BIN_EXE_brook"))
            .args(["-b", &bootstrap])
            .args(args)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "brook {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    brook(&["topic", "create", "rides", "--partitions", "2"]);
    brook(&["topic", "create", "rides_avro"]);
    for batch in 0..100 {
        let records: Vec<Json> = (0..100)
            .map(|i| {
                let n = batch * 100 + i;
                json!({"key": format!("{}", 1 + n % 2), "value": {"ride_id": n, "total_amount": 12.5}})
            })
            .collect();
        let (status, answer) = post(
            &format!("http://{rest}/topics/rides"),
            "application/vnd.kafka.json.v2+json",
            &json!({ "records": records }),
        );
        assert_eq!(status, 200, "{answer}");
    }
    let printed = brook(&["consume", "rides", "--from-beginning", "-n", "10000"]);
    let mut ids: Vec<i64> = printed
        .lines()
        .map(|l| {
            serde_json::from_str::<Json>(l).unwrap()["ride_id"]
                .as_i64()
                .unwrap()
        })
        .collect();
    ids.sort_unstable();
    assert_eq!(ids, (0..10_000).collect::<Vec<_>>());

    // The same rides through v3's streaming produce, 100 per stream, then read back by a v2
    // consumer instance (both topics) and by `brook consume`.
    brook(&["topic", "create", "rides_v3", "--partitions", "2"]);
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(Some(Duration::from_secs(60)))
        .build()
        .into();
    let (_, clusters) = get(&format!("http://{rest}/v3/clusters"));
    let cluster = clusters["data"][0]["cluster_id"]
        .as_str()
        .unwrap()
        .to_string();
    for batch in 0..100 {
        let lines: String = (0..100)
            .map(|i| {
                let n = batch * 100 + i;
                format!(
                    "{}\n",
                    json!({"key": {"type": "STRING", "data": format!("{}", 1 + n % 2)},
                           "value": {"type": "JSON", "data": {"ride_id": n, "total_amount": 12.5}}})
                )
            })
            .collect();
        let mut reader = lines.as_bytes();
        let mut response = agent
            .post(format!(
                "http://{rest}/v3/clusters/{cluster}/topics/rides_v3/records"
            ))
            .header("Content-Type", "application/json")
            .send(ureq::SendBody::from_reader(&mut reader))
            .unwrap();
        let text = response.body_mut().read_to_string().unwrap();
        assert_eq!(text.lines().count(), 100, "{text:.300}");
        assert!(
            text.lines().all(|l| l.contains("\"error_code\":200")),
            "{text:.300}"
        );
    }
    let printed = brook(&["consume", "rides_v3", "--from-beginning", "-n", "10000"]);
    let mut ids: Vec<i64> = printed
        .lines()
        .map(|l| {
            serde_json::from_str::<Json>(l).unwrap()["ride_id"]
                .as_i64()
                .unwrap()
        })
        .collect();
    ids.sort_unstable();
    assert_eq!(ids, (0..10_000).collect::<Vec<_>>());
    let v2 = "application/vnd.kafka.v2+json";
    post(
        &format!("http://{rest}/consumers/readers"),
        v2,
        &json!({"name": "r", "format": "json", "auto.offset.reset": "earliest"}),
    );
    post(
        &format!("http://{rest}/consumers/readers/instances/r/subscription"),
        v2,
        &json!({"topics": ["rides", "rides_v3"]}),
    );
    let mut seen: std::collections::BTreeMap<String, Vec<i64>> = Default::default();
    let deadline = Instant::now() + Duration::from_secs(120);
    while seen.values().map(Vec::len).sum::<usize>() < 20_000 {
        assert!(
            Instant::now() < deadline,
            "only {:?} records",
            seen.values().map(Vec::len).collect::<Vec<_>>()
        );
        let mut r = agent
            .get(format!(
                "http://{rest}/consumers/readers/instances/r/records"
            ))
            .header("Accept", "application/vnd.kafka.json.v2+json")
            .call()
            .unwrap();
        let got: Json = serde_json::from_str(&r.body_mut().read_to_string().unwrap()).unwrap();
        for record in got.as_array().unwrap() {
            seen.entry(record["topic"].as_str().unwrap().to_string())
                .or_default()
                .push(record["value"]["ride_id"].as_i64().unwrap());
        }
    }
    for (topic, mut ids) in seen {
        ids.sort_unstable();
        assert_eq!(
            ids,
            (0..10_000).collect::<Vec<_>>(),
            "{topic}: each ride once"
        );
    }

    // Commit the first 100 rides of rides' partition 0; the v3 lag summary says what `brook
    // group describe` says.
    let (status, _) = post(
        &format!("http://{rest}/consumers/readers/instances/r/offsets"),
        v2,
        &json!({"offsets": [{"topic": "rides", "partition": 0, "offset": 99}]}),
    );
    assert_eq!(status, 200);
    let (_, summary) = get(&format!(
        "http://{rest}/v3/clusters/{cluster}/consumer-groups/readers/lag-summary"
    ));
    let described: Json = serde_json::from_str(&brook(&[
        "--output", "json", "group", "describe", "readers",
    ]))
    .unwrap();
    let total: i64 = described["partitions"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|p| p["lag"].as_i64())
        .sum();
    assert_eq!(summary["total_lag"], total, "{summary}\n{described}");
    assert!(total > 0, "{described}");

    let script = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/python/rest_avro.py");
    let out = Command::new(python())
        .arg(&script)
        .arg(&bootstrap)
        .arg(format!("http://{}", server.registry.unwrap()))
        .arg(format!("http://{rest}"))
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "rest_avro.py failed\n{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        stdout.contains("200 rides decoded by AvroDeserializer"),
        "{stdout}"
    );
    assert!(server.terminate());
}
