//! Admin requests librdkafka does not expose (DescribeLogDirs, IncrementalAlterConfigs), sent
//! directly to one broker with the `kafka-protocol` crate over a blocking socket. The version
//! is the highest both sides support, learned from ApiVersions first.

use std::io::{Read as _, Write as _};
use std::net::TcpStream;
use std::time::Duration;

use anyhow::{Context as _, anyhow, bail};
use bytes::{Buf as _, BufMut as _, Bytes, BytesMut};
use kafka_protocol::messages::{ApiKey, ApiVersionsRequest, RequestHeader, ResponseHeader};
use kafka_protocol::protocol::{Decodable, Encodable, Request, StrBytes};

/// One connection to one broker.
pub struct BrokerConnection {
    stream: TcpStream,
    address: String,
    correlation_id: i32,
    versions: Vec<(i16, i16, i16)>,
}

impl BrokerConnection {
    /// Connects to `address` (host:port) and asks which versions it supports.
    pub fn open(address: &str, timeout: Duration) -> anyhow::Result<BrokerConnection> {
        let addr = std::net::ToSocketAddrs::to_socket_addrs(address)
            .with_context(|| format!("cannot resolve {address}"))?
            .next()
            .ok_or_else(|| anyhow!("{address} resolves to no address"))?;
        let stream = TcpStream::connect_timeout(&addr, timeout)
            .with_context(|| format!("cannot connect to {address}"))?;
        stream.set_read_timeout(Some(timeout))?;
        stream.set_write_timeout(Some(timeout))?;
        let mut connection = BrokerConnection {
            stream,
            address: address.to_string(),
            correlation_id: 0,
            versions: Vec::new(),
        };
        let versions = connection.send(&ApiVersionsRequest::default(), 0)?;
        connection.versions = versions
            .api_keys
            .iter()
            .map(|k| (k.api_key, k.min_version, k.max_version))
            .collect();
        Ok(connection)
    }

    /// The highest version of `R` both this client and the broker support.
    pub fn version<R: Request>(&self) -> anyhow::Result<i16> {
        let (_, min, max) = self
            .versions
            .iter()
            .find(|(key, _, _)| *key == R::KEY)
            .ok_or_else(|| anyhow!("{} does not support API key {}", self.address, R::KEY))?;
        let version = (*max).min(R::VERSIONS.max);
        if version < (*min).max(R::VERSIONS.min) {
            bail!(
                "{} supports no version of this request we know",
                self.address
            );
        }
        Ok(version)
    }

    /// Sends `request` at `version` and reads its response.
    pub fn send<R: Request>(&mut self, request: &R, version: i16) -> anyhow::Result<R::Response> {
        let key = ApiKey::try_from(R::KEY).map_err(|_| anyhow!("unknown API key {}", R::KEY))?;
        self.correlation_id += 1;
        let header = RequestHeader::default()
            .with_request_api_key(R::KEY)
            .with_request_api_version(version)
            .with_correlation_id(self.correlation_id)
            .with_client_id(Some(StrBytes::from_static_str("brook-cli")));
        let mut body = BytesMut::new();
        header.encode(&mut body, key.request_header_version(version))?;
        request.encode(&mut body, version)?;
        let mut frame = BytesMut::with_capacity(4 + body.len());
        frame.put_i32(body.len() as i32);
        frame.extend_from_slice(&body);
        self.stream
            .write_all(&frame)
            .with_context(|| format!("cannot send to {}", self.address))?;

        let mut size = [0u8; 4];
        self.stream
            .read_exact(&mut size)
            .with_context(|| format!("no answer from {}", self.address))?;
        let size = i32::from_be_bytes(size);
        if !(0..=100 << 20).contains(&size) {
            bail!("{} sent a {size}-byte frame", self.address);
        }
        let mut response = vec![0u8; size as usize];
        self.stream
            .read_exact(&mut response)
            .with_context(|| format!("short answer from {}", self.address))?;
        let mut response = Bytes::from(response);
        let header = ResponseHeader::decode(&mut response, key.response_header_version(version))?;
        if header.correlation_id != self.correlation_id {
            bail!("{} answered another request", self.address);
        }
        let decoded = R::Response::decode(&mut response, version)
            .with_context(|| format!("cannot read the answer of {}", self.address))?;
        if response.has_remaining() {
            tracing::debug!(left = response.remaining(), "trailing response bytes");
        }
        Ok(decoded)
    }

    /// Opens a connection to the coordinator of `key` (key type 0: a group, 1: a
    /// transactional id), found through this broker (FindCoordinator v1–3). Returns it with
    /// the coordinator's node id; this connection is reused when it is the coordinator.
    pub fn coordinator(
        mut self,
        key_type: i8,
        key: &str,
        timeout: Duration,
    ) -> anyhow::Result<(BrokerConnection, i32)> {
        let what = if key_type == 0 {
            "group"
        } else {
            "transactional id"
        };
        let version = self
            .version::<kafka_protocol::messages::FindCoordinatorRequest>()?
            .clamp(1, 3);
        let found = self.send(
            &kafka_protocol::messages::FindCoordinatorRequest::default()
                .with_key_type(key_type)
                .with_key(StrBytes::from_string(key.to_string())),
            version,
        )?;
        if found.error_code != 0 {
            return Err(super::Fail::failed(format!(
                "cannot find the coordinator of {what} '{key}' (error code {})",
                found.error_code
            ))
            .into());
        }
        let address = format!("{}:{}", found.host.as_str(), found.port);
        let connection = if address == self.address {
            self
        } else {
            BrokerConnection::open(&address, timeout)?
        };
        Ok((connection, found.node_id.0))
    }
}
