//! `brook serve`'s log as an operator reads it from a file: plain text (no terminal escape
//! codes), and a client refused for a feature Brook lacks is named once, at INFO, with the API
//! and its client id — however often the client retries.

mod common;

use std::time::Duration;

use common::Server;
use rdkafka::ClientConfig;
use rdkafka::producer::{BaseProducer, Producer};

#[test]
fn the_log_is_plain_text_and_names_a_refused_client_once() {
    let tmp = tempfile::tempdir().unwrap();
    let log = tmp.path().join("brook.log");
    let server = Server::start_logging_to(&tmp.path().join("data"), &log);

    for _ in 0..3 {
        let producer: BaseProducer = ClientConfig::new()
            .set("bootstrap.servers", server.addr.to_string())
            .set("client.id", "txn-app")
            .set("transactional.id", "txn-app-1")
            .create()
            .unwrap();
        let error = producer
            .init_transactions(Duration::from_secs(30))
            .expect_err("transactions are refused");
        assert!(
            error.to_string().contains("transactions are not available"),
            "{error}"
        );
    }
    assert!(server.terminate(), "brook serve exits cleanly on SIGTERM");

    let text = std::fs::read_to_string(&log).unwrap();
    assert!(
        !text.contains('\x1b'),
        "escape codes in the log file:\n{text}"
    );
    assert!(text.contains("broker listening"), "{text}");
    let refusals: Vec<&str> = text.lines().filter(|l| l.contains("refused")).collect();
    assert_eq!(refusals.len(), 1, "{text}");
    let line = refusals[0];
    assert!(line.contains(" INFO "), "{line}");
    assert!(line.contains("api=FindCoordinator"), "{line}");
    assert!(line.contains("client_id=txn-app"), "{line}");
    assert!(line.contains("transactions are not available"), "{line}");
}
