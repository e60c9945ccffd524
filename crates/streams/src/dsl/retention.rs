//! Window-store retention (Kafka's `Materialized#withRetention`): windows and sessions that can
//! no longer change are deleted from their store — and, through it, from its changelog — once
//! they are older than the retention, which is at least the window size (or inactivity gap)
//! plus the grace, and that by default.

use std::cell::Cell;
use std::rc::Rc;

use crate::state::{StoreHandle, lock};
use crate::topology::Flush;

/// The retention to use: `requested`, or `minimum` when none was.
///
/// # Panics
/// When `requested` is shorter than `minimum` (Kafka refuses such a store too).
pub(crate) fn retention(requested: Option<i64>, minimum: i64) -> i64 {
    let retention = requested.unwrap_or(minimum);
    assert!(
        retention >= minimum,
        "a window store's retention must cover the window size plus its grace ({minimum} ms)"
    );
    retention
}

/// A time window's start in its key bytes (key | start).
pub(crate) fn window_start(key: &[u8]) -> Option<i64> {
    let at = key.len().checked_sub(8)?;
    Some(i64::from_be_bytes(key[at..].try_into().ok()?))
}

/// A session's end in its key bytes (key | end | start).
pub(crate) fn session_end(key: &[u8]) -> Option<i64> {
    let at = key.len().checked_sub(16)?;
    Some(i64::from_be_bytes(key[at..at + 8].try_into().ok()?))
}

/// A flush that, once the stream time has moved on by a quarter of the retention since the
/// last time, deletes the entries whose time (`time_of` their key) is more than `retention`
/// before the stream time.
pub(crate) fn expiry(
    store: StoreHandle,
    stream_time: Rc<Cell<i64>>,
    retention: i64,
    time_of: fn(&[u8]) -> Option<i64>,
) -> Flush {
    let next = Cell::new(i64::MIN);
    Rc::new(move |_| {
        let now = stream_time.get();
        if now == i64::MIN || now < next.get() {
            return;
        }
        next.set(now.saturating_add((retention / 4).max(1)));
        let oldest = now.saturating_sub(retention);
        lock(&store).delete_where(|key| time_of(key).is_some_and(|t| t < oldest));
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn window_and_session_times_are_read_from_kafkas_key_layouts() {
        let mut window = b"k".to_vec();
        window.extend_from_slice(&42_i64.to_be_bytes());
        assert_eq!(window_start(&window), Some(42));
        let mut session = b"k".to_vec();
        session.extend_from_slice(&50_i64.to_be_bytes());
        session.extend_from_slice(&40_i64.to_be_bytes());
        assert_eq!(session_end(&session), Some(50));
        assert_eq!(session_end(b"short"), None);
    }
}
