//! Requests librdkafka does not expose (DescribeLogDirs, IncrementalAlterConfigs, OffsetFetch
//! for a whole group, DescribeTransactions, …), sent directly to one broker with the
//! `kafka-protocol` crate over a blocking socket. The version is the highest both sides
//! support, learned from ApiVersions first.

use std::io::{Read as _, Write as _};
use std::net::TcpStream;
use std::time::Duration;

use bytes::{Buf as _, BufMut as _, Bytes, BytesMut};
use kafka_protocol::messages::{ApiKey, ApiVersionsRequest, RequestHeader, ResponseHeader};
use kafka_protocol::protocol::{Decodable, Encodable, Request, StrBytes};

/// Why a request sent this way failed.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct WireError(pub String);

impl From<std::io::Error> for WireError {
    fn from(e: std::io::Error) -> Self {
        WireError(e.to_string())
    }
}

fn fail<T>(message: impl Into<String>) -> Result<T, WireError> {
    Err(WireError(message.into()))
}

/// One connection to one broker.
pub struct BrokerConnection {
    stream: TcpStream,
    address: String,
    correlation_id: i32,
    versions: Vec<(i16, i16, i16)>,
}

impl BrokerConnection {
    /// Connects to `address` (host:port) and asks which versions it supports.
    pub fn open(address: &str, timeout: Duration) -> Result<BrokerConnection, WireError> {
        let addr = std::net::ToSocketAddrs::to_socket_addrs(address)
            .map_err(|e| WireError(format!("cannot resolve {address}: {e}")))?
            .next()
            .ok_or_else(|| WireError(format!("{address} resolves to no address")))?;
        let stream = TcpStream::connect_timeout(&addr, timeout)
            .map_err(|e| WireError(format!("cannot connect to {address}: {e}")))?;
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
    pub fn version<R: Request>(&self) -> Result<i16, WireError> {
        let (_, min, max) = self
            .versions
            .iter()
            .find(|(key, _, _)| *key == R::KEY)
            .ok_or_else(|| {
                WireError(format!(
                    "{} does not support API key {}",
                    self.address,
                    R::KEY
                ))
            })?;
        let version = (*max).min(R::VERSIONS.max);
        if version < (*min).max(R::VERSIONS.min) {
            return fail(format!(
                "{} supports no version of this request we know",
                self.address
            ));
        }
        Ok(version)
    }

    /// Sends `request` at `version` and reads its response.
    pub fn send<R: Request>(
        &mut self,
        request: &R,
        version: i16,
    ) -> Result<R::Response, WireError> {
        let key = ApiKey::try_from(R::KEY)
            .map_err(|_| WireError(format!("unknown API key {}", R::KEY)))?;
        self.correlation_id += 1;
        let header = RequestHeader::default()
            .with_request_api_key(R::KEY)
            .with_request_api_version(version)
            .with_correlation_id(self.correlation_id)
            .with_client_id(Some(StrBytes::from_static_str("brook")));
        let mut body = BytesMut::new();
        let unencodable = |e| WireError(format!("cannot encode the request: {e}"));
        header
            .encode(&mut body, key.request_header_version(version))
            .map_err(unencodable)?;
        request.encode(&mut body, version).map_err(unencodable)?;
        let mut frame = BytesMut::with_capacity(4 + body.len());
        frame.put_i32(body.len() as i32);
        frame.extend_from_slice(&body);
        self.stream
            .write_all(&frame)
            .map_err(|e| WireError(format!("cannot send to {}: {e}", self.address)))?;

        let mut size = [0u8; 4];
        self.stream
            .read_exact(&mut size)
            .map_err(|e| WireError(format!("no answer from {}: {e}", self.address)))?;
        let size = i32::from_be_bytes(size);
        if !(0..=100 << 20).contains(&size) {
            return fail(format!("{} sent a {size}-byte frame", self.address));
        }
        let mut response = vec![0u8; size as usize];
        self.stream
            .read_exact(&mut response)
            .map_err(|e| WireError(format!("short answer from {}: {e}", self.address)))?;
        let mut response = Bytes::from(response);
        let address = &self.address;
        let unreadable = |e| WireError(format!("cannot read the answer of {address}: {e}"));
        let header = ResponseHeader::decode(&mut response, key.response_header_version(version))
            .map_err(unreadable)?;
        if header.correlation_id != self.correlation_id {
            return fail(format!("{} answered another request", self.address));
        }
        let decoded = R::Response::decode(&mut response, version).map_err(unreadable)?;
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
    ) -> Result<(BrokerConnection, i32), WireError> {
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
            return fail(format!(
                "cannot find the coordinator of {what} '{key}' (error code {})",
                found.error_code
            ));
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
