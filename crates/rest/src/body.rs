//! Request bodies read whole under a size limit.
//!
//! A body over the limit is answered 413 only after the rest of it has been read and
//! dropped: most HTTP clients (ureq, Python's requests, curl without `Expect`) write the
//! whole body before they read the answer, and a server that answers early and closes a
//! socket with unread bytes makes the kernel reset the connection, so the client sees a
//! broken pipe instead of the 413. The drain is bounded in bytes and time; past either the
//! connection is closed anyway.

use std::time::Duration;

use axum::body::{Body, Bytes};
use futures_util::StreamExt as _;

use crate::error::RestError;

/// Most bytes read and dropped after the limit before the connection is given up.
const DRAIN_BYTES: usize = 256 << 20;
/// Longest time spent reading and dropping them.
const DRAIN_TIME: Duration = Duration::from_secs(10);

/// The whole body, or 413 when it is over `limit` bytes (400 when it cannot be read).
pub async fn read_limited(body: Body, limit: usize) -> Result<Bytes, RestError> {
    let mut stream = body.into_data_stream();
    let mut kept: Vec<u8> = Vec::new();
    while let Some(chunk) = stream.next().await {
        let chunk = chunk.map_err(unreadable)?;
        if kept.len() + chunk.len() > limit {
            drain(stream, kept.len() + chunk.len()).await;
            return Err(RestError::too_large(limit));
        }
        kept.extend_from_slice(&chunk);
    }
    Ok(Bytes::from(kept))
}

/// Reads and drops what is left of a body, within [`DRAIN_BYTES`] and [`DRAIN_TIME`].
async fn drain(mut stream: axum::body::BodyDataStream, mut read: usize) {
    let _ = tokio::time::timeout(DRAIN_TIME, async {
        while read < DRAIN_BYTES {
            match stream.next().await {
                Some(Ok(chunk)) => read += chunk.len(),
                _ => return,
            }
        }
    })
    .await;
}

fn unreadable(e: axum::Error) -> RestError {
    RestError::bad_request(format!("the request body could not be read: {e}"))
}
