//! Windows and windowed keys, with Kafka Streams' byte formats so that windowed output topics
//! are readable by Java applications and the other way round:
//!
//! ```text
//! time window (tumbling, hopping, sliding) key:  inner key bytes | window start: i64 (BE)
//! session window key:                            inner key bytes | window end: i64 | window start: i64
//! ```
//!
//! A time-windowed key does not carry its end: the deserializer is told the window size, as
//! Kafka's `TimeWindowedDeserializer` is (end = start + size, saturating).

use crate::serdes::{Serde, SerdeError};

/// A window: `[start_ms, end_ms)` for time windows, `[start_ms, end_ms]` for sessions (the
/// times of their first and last record).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Window {
    /// Start, in milliseconds since the epoch.
    pub start_ms: i64,
    /// End, in milliseconds since the epoch.
    pub end_ms: i64,
}

impl Window {
    /// The window from `start_ms` to `end_ms`.
    pub fn new(start_ms: i64, end_ms: i64) -> Self {
        Window { start_ms, end_ms }
    }
}

/// A key and the window it was aggregated in (Kafka Streams' `Windowed<K>`).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Windowed<K> {
    /// The record key.
    pub key: K,
    /// The window.
    pub window: Window,
}

const TIMESTAMP_SIZE: usize = 8;

fn long_at(bytes: &[u8], at: usize) -> i64 {
    let mut buf = [0u8; TIMESTAMP_SIZE];
    buf.copy_from_slice(&bytes[at..at + TIMESTAMP_SIZE]);
    i64::from_be_bytes(buf)
}

/// Keys of time windows (Kafka's `WindowedSerdes.timeWindowedSerdeFrom(type, size)`).
#[derive(Debug, Clone)]
pub struct TimeWindowedSerde<S> {
    inner: S,
    window_size_ms: i64,
}

impl<S> TimeWindowedSerde<S> {
    /// Keys serialized with `inner`, in windows of `window_size_ms`.
    pub fn new(inner: S, window_size_ms: i64) -> Self {
        TimeWindowedSerde {
            inner,
            window_size_ms,
        }
    }
}

impl<K, S: Serde<K>> Serde<Windowed<K>> for TimeWindowedSerde<S> {
    fn serialize(&self, topic: &str, value: &Windowed<K>) -> Result<Vec<u8>, SerdeError> {
        let mut bytes = self.inner.serialize(topic, &value.key)?;
        bytes.extend_from_slice(&value.window.start_ms.to_be_bytes());
        Ok(bytes)
    }

    fn deserialize(&self, topic: &str, bytes: &[u8]) -> Result<Windowed<K>, SerdeError> {
        let Some(key_len) = bytes.len().checked_sub(TIMESTAMP_SIZE) else {
            return Err(SerdeError::deserialize(
                topic,
                "TimeWindowedSerde",
                format!("{} bytes cannot hold a key and a window start", bytes.len()),
            ));
        };
        let start_ms = long_at(bytes, key_len);
        Ok(Windowed {
            key: self.inner.deserialize(topic, &bytes[..key_len])?,
            window: Window::new(start_ms, start_ms.saturating_add(self.window_size_ms)),
        })
    }
}

/// Keys of session windows (Kafka's `WindowedSerdes.sessionWindowedSerdeFrom(type)`).
#[derive(Debug, Clone)]
pub struct SessionWindowedSerde<S> {
    inner: S,
}

impl<S> SessionWindowedSerde<S> {
    /// Keys serialized with `inner`.
    pub fn new(inner: S) -> Self {
        SessionWindowedSerde { inner }
    }
}

impl<K, S: Serde<K>> Serde<Windowed<K>> for SessionWindowedSerde<S> {
    fn serialize(&self, topic: &str, value: &Windowed<K>) -> Result<Vec<u8>, SerdeError> {
        let mut bytes = self.inner.serialize(topic, &value.key)?;
        bytes.extend_from_slice(&value.window.end_ms.to_be_bytes());
        bytes.extend_from_slice(&value.window.start_ms.to_be_bytes());
        Ok(bytes)
    }

    fn deserialize(&self, topic: &str, bytes: &[u8]) -> Result<Windowed<K>, SerdeError> {
        let Some(key_len) = bytes.len().checked_sub(2 * TIMESTAMP_SIZE) else {
            return Err(SerdeError::deserialize(
                topic,
                "SessionWindowedSerde",
                format!("{} bytes cannot hold a key and a session", bytes.len()),
            ));
        };
        Ok(Windowed {
            key: self.inner.deserialize(topic, &bytes[..key_len])?,
            window: Window::new(
                long_at(bytes, key_len + TIMESTAMP_SIZE),
                long_at(bytes, key_len),
            ),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::serdes::Serdes;

    #[test]
    fn time_windowed_keys_have_kafkas_bytes() {
        let serde = TimeWindowedSerde::new(Serdes::string(), 3_600_000);
        let key = Windowed {
            key: "132".to_string(),
            window: Window::new(1_700_000_000_000, 1_700_003_600_000),
        };
        let bytes = serde.serialize("t", &key).unwrap();
        let mut expected = b"132".to_vec();
        expected.extend_from_slice(&[0x00, 0x00, 0x01, 0x8b, 0xcf, 0xe5, 0x68, 0x00]);
        assert_eq!(bytes, expected);
        assert_eq!(serde.deserialize("t", &bytes).unwrap(), key);
        // The end comes from the size, and saturates.
        let far = TimeWindowedSerde::new(Serdes::i32(), i64::MAX)
            .deserialize("t", &[0, 0, 0, 7, 0, 0, 0, 0, 0, 0, 0, 5])
            .unwrap();
        assert_eq!((far.key, far.window), (7, Window::new(5, i64::MAX)));
        assert!(serde.deserialize("t", &[1, 2, 3]).is_err());
    }

    #[test]
    fn session_windowed_keys_have_kafkas_bytes() {
        let serde = SessionWindowedSerde::new(Serdes::i32());
        let key = Windowed {
            key: 7,
            window: Window::new(10, 20),
        };
        let bytes = serde.serialize("t", &key).unwrap();
        assert_eq!(
            bytes,
            [
                0, 0, 0, 7, // key
                0, 0, 0, 0, 0, 0, 0, 20, // end
                0, 0, 0, 0, 0, 0, 0, 10, // start
            ]
        );
        assert_eq!(serde.deserialize("t", &bytes).unwrap(), key);
        assert!(serde.deserialize("t", &bytes[..15]).is_err());
    }
}
