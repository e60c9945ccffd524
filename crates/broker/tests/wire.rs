//! The broker at the byte level: bad input, the ApiVersions fallback, pipelining and the fetch
//! long-poll, over raw TCP.

mod common;

use std::time::{Duration, Instant};

use brook_broker::{Broker, BrokerConfig};
use brook_protocol::{Compression, RecordBatchBuilder};
use bytes::{Buf, BufMut, Bytes, BytesMut};
use kafka_protocol::messages::fetch_request::{FetchPartition, FetchTopic};
use kafka_protocol::messages::produce_request::{PartitionProduceData, TopicProduceData};
use kafka_protocol::messages::{
    ApiKey, ApiVersionsRequest, ApiVersionsResponse, FetchRequest, FetchResponse, MetadataRequest,
    MetadataResponse, ProduceRequest, ProduceResponse, RequestHeader, ResponseHeader, TopicName,
};
use kafka_protocol::protocol::{Decodable, Encodable, HeaderVersion, Request, StrBytes};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

async fn start(dir: &std::path::Path, max_request: usize) -> Broker {
    Broker::start(BrokerConfig {
        socket_request_max_bytes: max_request,
        ..common::test_config(dir)
    })
    .await
    .unwrap()
}

fn frame<R: Request>(request: &R, version: i16, correlation_id: i32) -> Bytes {
    let mut body = BytesMut::new();
    RequestHeader::default()
        .with_request_api_key(R::KEY)
        .with_request_api_version(version)
        .with_correlation_id(correlation_id)
        .with_client_id(Some(StrBytes::from_static_str("wire-test")))
        .encode(&mut body, R::header_version(version))
        .unwrap();
    request.encode(&mut body, version).unwrap();
    let mut out = BytesMut::new();
    out.put_i32(body.len() as i32);
    out.extend_from_slice(&body);
    out.freeze()
}

async fn read_response(stream: &mut TcpStream) -> Option<Bytes> {
    let size = stream.read_i32().await.ok()?;
    let mut buf = vec![0; size as usize];
    stream.read_exact(&mut buf).await.ok()?;
    Some(Bytes::from(buf))
}

async fn call<R: Request>(
    stream: &mut TcpStream,
    request: &R,
    version: i16,
    correlation_id: i32,
) -> R::Response {
    stream
        .write_all(&frame(request, version, correlation_id))
        .await
        .unwrap();
    let mut bytes = read_response(stream).await.expect("a response");
    let header = ResponseHeader::decode(&mut bytes, R::Response::header_version(version)).unwrap();
    assert_eq!(header.correlation_id, correlation_id);
    R::Response::decode(&mut bytes, version).unwrap()
}

async fn still_serving(broker: &Broker) {
    let mut stream = TcpStream::connect(broker.local_addr()).await.unwrap();
    let response = call(&mut stream, &ApiVersionsRequest::default(), 3, 99).await;
    assert_eq!(response.error_code, 0);
}

/// The connection is closed by the broker: reads hit EOF.
async fn assert_closed(stream: &mut TcpStream) {
    let mut buf = [0u8; 1];
    let n = tokio::time::timeout(Duration::from_secs(5), stream.read(&mut buf))
        .await
        .unwrap()
        .unwrap_or(0);
    assert_eq!(n, 0, "connection should be closed");
}

#[tokio::test]
async fn bad_frames_close_only_their_connection() {
    let tmp = tempfile::tempdir().unwrap();
    let broker = start(tmp.path(), 1024 * 1024).await;
    let cases: Vec<(&str, Vec<u8>)> = vec![
        ("garbage", {
            let mut v = 20i32.to_be_bytes().to_vec();
            v.extend_from_slice(&[0xab; 20]);
            v
        }),
        (
            "over the size limit",
            (2 * 1024 * 1024i32).to_be_bytes().to_vec(),
        ),
        ("negative size", (-5i32).to_be_bytes().to_vec()),
        ("unknown API key", {
            let mut v = 12i32.to_be_bytes().to_vec();
            v.extend_from_slice(&[0x7f, 0x00, 0, 0, 0, 0, 0, 1, 0xff, 0xff, 0, 0]);
            v
        }),
        (
            "unsupported Produce version",
            frame(&ProduceRequest::default(), 3, 1)[..]
                .iter()
                .enumerate()
                .map(|(i, b)| if i == 7 { 99 } else { *b })
                .collect(),
        ),
        ("array count far beyond the frame (fuzz regression)", {
            // AlterConfigs v0 whose resources array claims 3 million entries in 14 bytes: the
            // unpatched decoder tried to allocate gigabytes and aborted the process.
            let frame = [
                0x00, 0x21, 0x00, 0x00, 0x00, 0x00, 0x00, 0x23, 0x00, 0x00, 0x2e, 0x00, 0x21, 0x00,
            ];
            let mut v = (frame.len() as i32).to_be_bytes().to_vec();
            v.extend_from_slice(&frame);
            v
        }),
        ("header shorter than 8 bytes", {
            let mut v = 4i32.to_be_bytes().to_vec();
            v.extend_from_slice(&[0, 18, 0, 3]);
            v
        }),
    ];
    for (name, bytes) in cases {
        let mut stream = TcpStream::connect(broker.local_addr()).await.unwrap();
        stream.write_all(&bytes).await.unwrap();
        assert_closed(&mut stream).await;
        still_serving(&broker).await;
        eprintln!("ok: {name}");
    }
    // A truncated frame: the size promises more than arrives before the client gives up.
    let mut stream = TcpStream::connect(broker.local_addr()).await.unwrap();
    stream.write_all(&100i32.to_be_bytes()).await.unwrap();
    stream.write_all(&[0, 18, 0]).await.unwrap();
    drop(stream);
    still_serving(&broker).await;
    broker.shutdown().await;
}

#[tokio::test]
async fn unknown_api_versions_version_gets_a_v0_answer_with_our_ranges() {
    let tmp = tempfile::tempdir().unwrap();
    let broker = start(tmp.path(), 1 << 20).await;
    let mut stream = TcpStream::connect(broker.local_addr()).await.unwrap();
    // ApiVersions v127 with a v2 header the broker cannot know.
    let mut body = BytesMut::new();
    body.put_i16(ApiKey::ApiVersions as i16);
    body.put_i16(127);
    body.put_i32(42);
    body.put_i16(-1);
    body.put_u8(0);
    let mut out = BytesMut::new();
    out.put_i32(body.len() as i32);
    out.extend_from_slice(&body);
    stream.write_all(&out).await.unwrap();
    let mut bytes = read_response(&mut stream).await.unwrap();
    assert_eq!(
        bytes.get_i32(),
        42,
        "v0 response header: correlation id only"
    );
    let response = ApiVersionsResponse::decode(&mut bytes, 0).unwrap();
    assert_eq!(response.error_code, 35, "UNSUPPORTED_VERSION");
    let produce = response.api_keys.iter().find(|k| k.api_key == 0).unwrap();
    assert_eq!((produce.min_version, produce.max_version), (3, 13));
    // The connection stays usable for the retry.
    let retry = call(&mut stream, &ApiVersionsRequest::default(), 3, 43).await;
    assert_eq!(retry.error_code, 0);
    broker.shutdown().await;
}

#[tokio::test]
async fn pipelined_requests_are_answered_in_order() {
    let tmp = tempfile::tempdir().unwrap();
    let broker = start(tmp.path(), 1 << 20).await;
    let mut stream = TcpStream::connect(broker.local_addr()).await.unwrap();
    let mut all = BytesMut::new();
    for id in 0..20 {
        all.extend_from_slice(&frame(&MetadataRequest::default(), 12, id));
        all.extend_from_slice(&frame(&ApiVersionsRequest::default(), 3, 1000 + id));
    }
    stream.write_all(&all).await.unwrap();
    for id in 0..20 {
        let mut bytes = read_response(&mut stream).await.unwrap();
        let header =
            ResponseHeader::decode(&mut bytes, MetadataResponse::header_version(12)).unwrap();
        assert_eq!(header.correlation_id, id);
        MetadataResponse::decode(&mut bytes, 12).unwrap();
        let mut bytes = read_response(&mut stream).await.unwrap();
        assert_eq!(bytes.get_i32(), 1000 + id);
    }
    broker.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_waiting_fetch_returns_as_soon_as_a_record_arrives() {
    let tmp = tempfile::tempdir().unwrap();
    let broker = start(tmp.path(), 1 << 20).await;
    broker
        .context()
        .topics
        .create("poll", 1, Default::default(), false)
        .unwrap();
    let name = TopicName(StrBytes::from_static_str("poll"));
    let fetch = FetchRequest::default()
        .with_replica_id((-1).into())
        .with_max_wait_ms(5000)
        .with_min_bytes(1)
        .with_max_bytes(1 << 20)
        .with_session_epoch(-1)
        .with_topics(vec![
            FetchTopic::default()
                .with_topic(name.clone())
                .with_partitions(vec![
                    FetchPartition::default()
                        .with_partition(0)
                        .with_fetch_offset(0)
                        .with_partition_max_bytes(1 << 20),
                ]),
        ]);
    let addr = broker.local_addr();
    let waiter = tokio::spawn(async move {
        let mut stream = TcpStream::connect(addr).await.unwrap();
        let start = Instant::now();
        let response: FetchResponse = call(&mut stream, &fetch, 12, 7).await;
        (start.elapsed(), response)
    });
    tokio::time::sleep(Duration::from_millis(200)).await;
    let mut batch = RecordBatchBuilder::new(Compression::None);
    batch.append(1, None, Some(b"wake up"), &[]);
    let produce = ProduceRequest::default()
        .with_acks(1)
        .with_timeout_ms(5000)
        .with_topic_data(vec![
            TopicProduceData::default()
                .with_name(name)
                .with_partition_data(vec![
                    PartitionProduceData::default()
                        .with_index(0)
                        .with_records(Some(batch.build())),
                ]),
        ]);
    let mut stream = TcpStream::connect(addr).await.unwrap();
    let produced: ProduceResponse = call(&mut stream, &produce, 9, 8).await;
    assert_eq!(produced.responses[0].partition_responses[0].error_code, 0);
    let (elapsed, response) = waiter.await.unwrap();
    let partition = &response.responses[0].partitions[0];
    assert_eq!(partition.high_watermark, 1);
    assert!(!partition.records.as_ref().unwrap().is_empty());
    assert!(
        elapsed >= Duration::from_millis(150),
        "the fetch waited for data: {elapsed:?}"
    );
    assert!(
        elapsed < Duration::from_millis(2000),
        "woken by the append, not by max_wait: {elapsed:?}"
    );
    broker.shutdown().await;
}

#[tokio::test]
async fn produce_errors_are_per_partition_kafka_codes() {
    let tmp = tempfile::tempdir().unwrap();
    let broker = start(tmp.path(), 1 << 22).await;
    let topics = &broker.context().topics;
    topics
        .create("errors", 1, Default::default(), false)
        .unwrap();
    let small = [("max.message.bytes".to_string(), "200".to_string())]
        .into_iter()
        .collect();
    topics.create("small", 1, small, false).unwrap();
    let append_time = [(
        "message.timestamp.type".to_string(),
        "LogAppendTime".to_string(),
    )]
    .into_iter()
    .collect();
    topics.create("stamped", 1, append_time, false).unwrap();

    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64;
    let batch = |timestamp: i64, value: &[u8]| {
        let mut b = RecordBatchBuilder::new(Compression::None);
        b.append(timestamp, Some(b"k"), Some(value), &[]);
        b.build()
    };
    let mut corrupt = batch(now, b"fine").to_vec();
    let last = corrupt.len() - 1;
    corrupt[last] ^= 1;
    let mut lying = batch(now, b"fine").to_vec();
    lying[57..61].copy_from_slice(&3i32.to_be_bytes());
    brook_protocol::record_batch::patch::rewrite_crc(&mut lying);

    let cases: Vec<(&str, i16, Bytes, i16)> = vec![
        ("errors", 1, batch(now, b"fine"), 0),
        ("missing", 1, batch(now, b"fine"), 3), // UNKNOWN_TOPIC_OR_PARTITION
        ("errors", 1, Bytes::from(corrupt), 2), // CORRUPT_MESSAGE
        ("small", 1, batch(now, &[b'x'; 500]), 10), // MESSAGE_TOO_LARGE
        ("errors", 1, batch(now + 2 * 3_600_000, b"future"), 32), // INVALID_TIMESTAMP
        ("errors", 1, Bytes::from(lying), 87),  // INVALID_RECORD
        ("errors", 2, batch(now, b"fine"), 21), // INVALID_REQUIRED_ACKS
        ("stamped", 1, batch(1, b"old"), 0),
    ];
    let mut stream = TcpStream::connect(broker.local_addr()).await.unwrap();
    for (i, (topic, acks, records, expected)) in cases.into_iter().enumerate() {
        let request = ProduceRequest::default()
            .with_acks(acks)
            .with_timeout_ms(5000)
            .with_topic_data(vec![
                TopicProduceData::default()
                    .with_name(TopicName(StrBytes::from_string(topic.to_string())))
                    .with_partition_data(vec![
                        PartitionProduceData::default()
                            .with_index(0)
                            .with_records(Some(records)),
                    ]),
            ]);
        let response: ProduceResponse = call(&mut stream, &request, 9, i as i32).await;
        let partition = &response.responses[0].partition_responses[0];
        assert_eq!(partition.error_code, expected, "case {i} ({topic})");
        if expected == 0 && topic == "stamped" {
            assert!(
                partition.log_append_time_ms >= now,
                "LogAppendTime is reported"
            );
        } else if expected != 0 {
            assert_eq!(partition.base_offset, -1);
        }
    }
    assert_eq!(
        topics.get("errors").unwrap().partitions[0]
            .log
            .log_end_offset(),
        1,
        "only the good batch landed"
    );
    broker.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shutdown_does_not_wait_for_a_long_poll() {
    let tmp = tempfile::tempdir().unwrap();
    let broker = start(tmp.path(), 1 << 20).await;
    broker
        .context()
        .topics
        .create("quiet", 1, Default::default(), false)
        .unwrap();
    let fetch = FetchRequest::default()
        .with_replica_id((-1).into())
        .with_max_wait_ms(60_000)
        .with_min_bytes(1)
        .with_max_bytes(1 << 20)
        .with_session_epoch(-1)
        .with_topics(vec![
            FetchTopic::default()
                .with_topic(TopicName(StrBytes::from_static_str("quiet")))
                .with_partitions(vec![
                    FetchPartition::default()
                        .with_partition(0)
                        .with_fetch_offset(0)
                        .with_partition_max_bytes(1 << 20),
                ]),
        ]);
    let mut stream = TcpStream::connect(broker.local_addr()).await.unwrap();
    stream.write_all(&frame(&fetch, 12, 1)).await.unwrap();
    tokio::time::sleep(Duration::from_millis(200)).await;
    let started = Instant::now();
    broker.shutdown().await;
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "shutdown took {:?}",
        started.elapsed()
    );
}
