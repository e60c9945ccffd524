//! `brook serve`'s log as an operator reads it from a file: plain text (no terminal escape
//! codes), and a client refused for a feature Brook lacks is named once, at INFO, with the API
//! and its client id — however often the client retries.

mod common;

use common::Server;
use std::io::{Read, Write};

use bytes::{BufMut, Bytes, BytesMut};
use kafka_protocol::messages::describe_configs_request::DescribeConfigsResource;
use kafka_protocol::messages::{
    ApiKey, DescribeConfigsRequest, DescribeConfigsResponse, RequestHeader,
};
use kafka_protocol::protocol::{Decodable, Encodable, HeaderVersion, StrBytes};

/// DescribeConfigs of a group's configs (resource type 32, which Brook refuses), as the client
/// `client_id` sends it; returns the resource's error code and message.
fn describe_group_configs(addr: &str, client_id: &str) -> (i16, String) {
    let version = 4;
    let mut body = BytesMut::new();
    RequestHeader::default()
        .with_request_api_key(ApiKey::DescribeConfigs as i16)
        .with_request_api_version(version)
        .with_correlation_id(1)
        .with_client_id(Some(StrBytes::from_string(client_id.to_string())))
        .encode(&mut body, DescribeConfigsRequest::header_version(version))
        .unwrap();
    DescribeConfigsRequest::default()
        .with_resources(vec![
            DescribeConfigsResource::default()
                .with_resource_type(32)
                .with_resource_name(StrBytes::from_static_str("g")),
        ])
        .encode(&mut body, version)
        .unwrap();
    let mut frame = BytesMut::new();
    frame.put_i32(body.len() as i32);
    frame.extend_from_slice(&body);
    let mut stream = std::net::TcpStream::connect(addr).unwrap();
    stream.write_all(&frame).unwrap();
    let mut size = [0u8; 4];
    stream.read_exact(&mut size).unwrap();
    let mut buf = vec![0u8; i32::from_be_bytes(size) as usize];
    stream.read_exact(&mut buf).unwrap();
    let mut bytes = Bytes::from(buf);
    kafka_protocol::messages::ResponseHeader::decode(
        &mut bytes,
        DescribeConfigsResponse::header_version(version),
    )
    .unwrap();
    let response = DescribeConfigsResponse::decode(&mut bytes, version).unwrap();
    let result = &response.results[0];
    (
        result.error_code,
        result.error_message.as_deref().unwrap_or("").to_string(),
    )
}

#[test]
fn the_log_is_plain_text_and_names_a_refused_client_once() {
    let tmp = tempfile::tempdir().unwrap();
    let log = tmp.path().join("brook.log");
    let server = Server::start_logging_to(&tmp.path().join("data"), &log);

    for _ in 0..3 {
        let (code, message) = describe_group_configs(&server.addr.to_string(), "config-app");
        assert_eq!(code, 42, "INVALID_REQUEST: {message}");
        assert!(message.contains("group configs"), "{message}");
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
    assert!(line.contains("api=DescribeConfigs"), "{line}");
    assert!(line.contains("client_id=config-app"), "{line}");
    assert!(line.contains("group configs"), "{line}");
}
