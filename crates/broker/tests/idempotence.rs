//! An idempotent librdkafka producer whose TCP connection is cut mid-flight (a proxy inside the
//! test drops it after the broker got a request but before the response reaches the client):
//! the producer retries, and the partition holds every record exactly once, in order.

mod common;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::Duration;

use brook_broker::{Broker, BrokerConfig};
use brook_protocol::Batches;
use rdkafka::config::ClientConfig;
use rdkafka::producer::{FutureProducer, FutureRecord};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// Forwards connections to `upstream`; when the request bytes of the whole proxy cross the next
/// threshold, it stops relaying responses and closes that connection.
async fn proxy(
    listener: TcpListener,
    upstream: std::net::SocketAddr,
    thresholds: Vec<usize>,
    cuts: Arc<AtomicUsize>,
) {
    let sent = Arc::new(AtomicUsize::new(0));
    let thresholds = Arc::new(thresholds);
    loop {
        let Ok((client, _)) = listener.accept().await else {
            return;
        };
        let Ok(server) = TcpStream::connect(upstream).await else {
            continue;
        };
        let (mut client_read, mut client_write) = client.into_split();
        let (mut server_read, mut server_write) = server.into_split();
        let cutting = Arc::new(AtomicBool::new(false));
        let (sent, thresholds, cuts, cut_flag) = (
            sent.clone(),
            thresholds.clone(),
            cuts.clone(),
            cutting.clone(),
        );
        tokio::spawn(async move {
            let mut buf = vec![0u8; 64 * 1024];
            loop {
                let n = match client_read.read(&mut buf).await {
                    Ok(0) | Err(_) => return,
                    Ok(n) => n,
                };
                let before = sent.fetch_add(n, Ordering::SeqCst);
                let crossed = thresholds.iter().any(|t| before < *t && before + n >= *t);
                if crossed {
                    // The broker gets the request; the client never sees the answer.
                    cut_flag.store(true, Ordering::SeqCst);
                }
                if server_write.write_all(&buf[..n]).await.is_err() {
                    return;
                }
                if crossed {
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    cuts.fetch_add(1, Ordering::SeqCst);
                    return; // dropping both halves closes the connection
                }
            }
        });
        tokio::spawn(async move {
            let mut buf = vec![0u8; 64 * 1024];
            loop {
                let n = match server_read.read(&mut buf).await {
                    Ok(0) | Err(_) => return,
                    Ok(n) => n,
                };
                if cutting.load(Ordering::SeqCst)
                    || client_write.write_all(&buf[..n]).await.is_err()
                {
                    return;
                }
            }
        });
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_idempotent_producer_survives_cut_connections_without_duplicates() {
    let tmp = tempfile::tempdir().unwrap();
    let proxy_listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let proxy_port = proxy_listener.local_addr().unwrap().port();
    let broker = Broker::start(BrokerConfig {
        // Clients must reach the broker through the proxy, metadata included.
        advertised: Some(("127.0.0.1".to_string(), proxy_port)),
        ..common::test_config(tmp.path())
    })
    .await
    .unwrap();
    broker
        .context()
        .topics
        .create("exactly-once", 1, Default::default(), false)
        .unwrap();
    let cuts = Arc::new(AtomicUsize::new(0));
    tokio::spawn(proxy(
        proxy_listener,
        broker.local_addr(),
        vec![60_000, 200_000, 400_000],
        cuts.clone(),
    ));

    let producer: FutureProducer = ClientConfig::new()
        .set("bootstrap.servers", format!("127.0.0.1:{proxy_port}"))
        .set("enable.idempotence", "true")
        .set("linger.ms", "2")
        .set("batch.num.messages", "200")
        .set("message.timeout.ms", "60000")
        .create()
        .unwrap();
    const COUNT: usize = 5_000;
    let mut sends = Vec::with_capacity(COUNT);
    for i in 0..COUNT {
        let value = format!("record-{i:05}-{}", "x".repeat(100));
        sends.push(
            producer
                .send_result(FutureRecord::to("exactly-once").key("k").payload(&value))
                .unwrap(),
        );
    }
    for send in sends {
        send.await.unwrap().unwrap();
    }
    assert!(
        cuts.load(Ordering::SeqCst) >= 2,
        "the proxy cut connections mid-flight"
    );

    let log = &broker
        .context()
        .topics
        .get("exactly-once")
        .unwrap()
        .partitions[0]
        .log;
    let mut values = Vec::new();
    let mut offset = 0;
    while offset < log.high_watermark() {
        let read = log.read(offset, 1 << 20).unwrap();
        for batch in Batches::new(read.records) {
            let batch = batch.unwrap();
            for record in batch.records().unwrap() {
                values.push(String::from_utf8(record.value.unwrap().to_vec()).unwrap());
            }
            offset = batch.next_offset();
        }
    }
    let expected: Vec<String> = (0..COUNT)
        .map(|i| format!("record-{i:05}-{}", "x".repeat(100)))
        .collect();
    assert_eq!(values.len(), COUNT, "every record exactly once");
    assert!(values == expected, "in order");
    drop(producer);
    broker.shutdown().await;
}
