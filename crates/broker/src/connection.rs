//! One client connection: size-prefixed frames in, responses out, one request at a time (as
//! Kafka does), so pipelined requests are answered in order. Undecodable input closes the
//! connection with a logged reason; the broker keeps serving everyone else.

use std::net::SocketAddr;
use std::sync::Arc;

use bytes::{BufMut, Bytes, BytesMut};
use kafka_protocol::messages::{ApiKey, RequestHeader, RequestKind, ResponseHeader};
use kafka_protocol::protocol::{Decodable, Encodable};
use tokio::io::{AsyncReadExt, AsyncWriteExt, BufReader, BufWriter};
use tokio::net::TcpStream;
use tokio::sync::watch;

use crate::api;
use crate::server::BrokerContext;

/// How long a request in progress at shutdown may still take.
const SHUTDOWN_GRACE: std::time::Duration = std::time::Duration::from_secs(2);

pub(crate) async fn serve_connection(
    stream: TcpStream,
    peer: SocketAddr,
    context: Arc<BrokerContext>,
    mut shutdown: watch::Receiver<bool>,
) {
    let (read, write) = stream.into_split();
    let mut reader = BufReader::with_capacity(64 * 1024, read);
    let mut writer = BufWriter::with_capacity(64 * 1024, write);
    let max = context.config.socket_request_max_bytes;
    context.metrics.open_connections.inc();
    let _open = scopeguard(|| {
        context.metrics.open_connections.dec();
    });
    let mut out = BytesMut::with_capacity(64 * 1024);
    let mut input = BytesMut::with_capacity(64 * 1024);
    loop {
        let size = tokio::select! {
            size = reader.read_i32() => match size {
                Ok(size) => size,
                Err(_) => break, // the client closed the connection
            },
            // Not `changed()`: a shutdown already seen during the previous request (its
            // grace period) must still end the connection.
            _ = stopping(&mut shutdown) => break,
        };
        if size < 0 || size as usize > max {
            tracing::warn!(%peer, size, max, "closing connection: request size is over socket.request.max.bytes");
            break;
        }
        // Read into reused, uninitialised capacity: once the previous request's `Bytes` are
        // dropped, `reserve` takes the same allocation back instead of touching new memory.
        input.clear();
        input.reserve(size as usize);
        if read_frame(&mut reader, &mut input, size as usize)
            .await
            .is_err()
        {
            tracing::debug!(%peer, "closing connection: truncated frame");
            break;
        }
        let frame = input.split_to(size as usize).freeze();
        out.clear();
        let result = {
            let work = handle_frame(&context, peer, frame, &mut out);
            tokio::pin!(work);
            tokio::select! {
                result = &mut work => Some(result),
                // On shutdown an in-flight request gets a grace period; a JoinGroup or fetch
                // that would wait longer is dropped and the client reconnects later.
                _ = stopping(&mut shutdown) => tokio::time::timeout(SHUTDOWN_GRACE, &mut work).await.ok(),
            }
        };
        let Some(result) = result else { break };
        match result {
            Ok(true) => {
                if writer.write_all(&out).await.is_err() || writer.flush().await.is_err() {
                    break;
                }
            }
            Ok(false) => {} // acks=0 produce: no response
            Err(reason) => {
                tracing::warn!(%peer, %reason, "closing connection");
                break;
            }
        }
    }
}

/// Reads exactly `size` bytes into `buf`'s spare capacity.
async fn read_frame<R: tokio::io::AsyncRead + Unpin>(
    reader: &mut R,
    buf: &mut BytesMut,
    size: usize,
) -> std::io::Result<()> {
    while buf.len() < size {
        let mut limited = (&mut *reader).take((size - buf.len()) as u64);
        if limited.read_buf(buf).await? == 0 {
            return Err(std::io::ErrorKind::UnexpectedEof.into());
        }
    }
    Ok(())
}

/// What the first bytes of a frame say, or why the frame is unusable.
// The request is moved once, straight into its handler; boxing it would cost an allocation per
// request for nothing.
#[allow(clippy::large_enum_variant)]
#[derive(Debug)]
pub enum Decoded {
    /// A request this broker serves.
    Request {
        /// The API.
        api_key: ApiKey,
        /// The request header.
        header: RequestHeader,
        /// The request body.
        request: RequestKind,
    },
    /// ApiVersions at a version we do not know: answered with a v0 error response (KIP-511).
    UnsupportedApiVersions {
        /// To echo in the response.
        correlation_id: i32,
    },
}

/// Decodes a request frame (without its size prefix). `Err` carries the reason the connection
/// must be closed. Never panics, whatever the bytes.
pub fn decode_request(mut frame: Bytes) -> Result<Decoded, String> {
    if frame.len() < 8 {
        return Err(format!("request header truncated at {} bytes", frame.len()));
    }
    let raw_key = i16::from_be_bytes([frame[0], frame[1]]);
    let version = i16::from_be_bytes([frame[2], frame[3]]);
    let correlation_id = i32::from_be_bytes([frame[4], frame[5], frame[6], frame[7]]);
    let api_key = ApiKey::try_from(raw_key).map_err(|_| format!("unknown API key {raw_key}"))?;
    if !api::supports(api_key, version) {
        if api_key == ApiKey::ApiVersions {
            return Ok(Decoded::UnsupportedApiVersions { correlation_id });
        }
        return Err(format!("unsupported version {version} of {api_key:?}"));
    }
    let header_version = api_key.request_header_version(version);
    let header = RequestHeader::decode(&mut frame, header_version)
        .map_err(|e| format!("undecodable {api_key:?} v{version} request header: {e}"))?;
    let request = RequestKind::decode(api_key, &mut frame, version)
        .map_err(|e| format!("undecodable {api_key:?} v{version} request: {e}"))?;
    Ok(Decoded::Request {
        api_key,
        header,
        request,
    })
}

/// Decodes one request, runs it and encodes the size-prefixed response into `out`.
/// `Ok(false)` means the request takes no response.
pub(crate) async fn handle_frame(
    context: &BrokerContext,
    peer: SocketAddr,
    frame: Bytes,
    out: &mut BytesMut,
) -> Result<bool, String> {
    let (api_key, header, request) = match decode_request(frame)? {
        Decoded::Request {
            api_key,
            header,
            request,
        } => (api_key, header, request),
        Decoded::UnsupportedApiVersions { correlation_id } => {
            let response = api::api_versions::unsupported_version_response();
            encode_response(out, correlation_id, 0, 0, |buf| response.encode(buf, 0))?;
            return Ok(true);
        }
    };
    let version = header.request_api_version;
    let correlation_id = header.correlation_id;
    let started = std::time::Instant::now();
    let response = api::dispatch(context, peer, &header, request).await?;
    context.metrics.observe_request(api_key, started.elapsed());
    let Some(response) = response else {
        return Ok(false);
    };
    let response_header_version = api_key.response_header_version(version);
    let start = out.len();
    let Err(reason) = encode_response(
        out,
        correlation_id,
        response_header_version,
        version,
        |buf| response.encode(buf, version),
    ) else {
        return Ok(true);
    };
    // A handler set a field that does not exist at this version: a bug. The client gets an
    // error response of the same API rather than a closed connection it would retry forever.
    tracing::error!(%peer, api = ?api_key, version, %reason, "response cannot be encoded; sending an error response instead");
    context.metrics.response_encode_error(api_key);
    for with_error in [true, false] {
        out.truncate(start);
        let Some(fallback) = api::fallback::response(api_key, with_error) else {
            break;
        };
        if encode_response(
            out,
            correlation_id,
            response_header_version,
            version,
            |buf| fallback.encode(buf, version),
        )
        .is_ok()
        {
            return Ok(true);
        }
    }
    Err(reason)
}

fn encode_response(
    out: &mut BytesMut,
    correlation_id: i32,
    header_version: i16,
    version: i16,
    body: impl FnOnce(&mut BytesMut) -> anyhow::Result<()>,
) -> Result<(), String> {
    let start = out.len();
    out.put_i32(0);
    ResponseHeader::default()
        .with_correlation_id(correlation_id)
        .encode(out, header_version)
        .map_err(|e| format!("cannot encode response header: {e}"))?;
    body(out).map_err(|e| format!("cannot encode v{version} response: {e}"))?;
    let size = (out.len() - start - 4) as i32;
    out[start..start + 4].copy_from_slice(&size.to_be_bytes());
    Ok(())
}

/// Runs a closure when dropped (the connection gauge must fall however the task ends).
fn scopeguard<F: FnMut()>(on_drop: F) -> impl Drop {
    struct Guard<F: FnMut()>(F);
    impl<F: FnMut()> Drop for Guard<F> {
        fn drop(&mut self) {
            (self.0)()
        }
    }
    Guard(on_drop)
}

/// Resolves once the broker is shutting down, also when that was seen before.
async fn stopping(shutdown: &mut watch::Receiver<bool>) {
    let _ = shutdown.wait_for(|stop| *stop).await;
}
