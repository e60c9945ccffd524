//! `suppress`: holding a table's updates back and emitting only the latest per key once a
//! condition holds (Kafka Streams' `KTable#suppress`):
//! - until the window closes: one final result per window, once the stream time passes the
//!   window's end plus its grace (plus the gap, for sessions);
//! - until a time limit: a key's latest update once the stream time is `limit` past its first
//!   buffered update.
//!
//! Stream time is the largest timestamp the suppression has seen; nothing is emitted without
//! new records (as in Kafka Streams). The buffer is unbounded and in memory.

use std::cell::{Cell, RefCell};
use std::collections::BTreeMap;
use std::rc::Rc;
use std::sync::Arc;

use super::ktable::Change;
use super::{KTable, add_child};
use crate::topology::{Record, forward};
use crate::windowed::Windowed;

/// Key → (deadline, the buffered update).
type Buffer<K, V> = BTreeMap<K, (i64, Record<K, Change<V>>)>;

impl<K: Ord + Clone + 'static, V: Clone + 'static> KTable<Windowed<K>, V> {
    /// Only each window's final result, once the window has closed
    /// (`Suppressed.untilWindowCloses`).
    ///
    /// # Panics
    /// When the table is not the result of a windowed aggregation.
    pub fn suppress_until_window_closes(&self) -> KTable<Windowed<K>, V> {
        let close_after = self
            .close_after_ms()
            .expect("suppress_until_window_closes needs a windowed aggregation's table");
        self.suppress_with("KTABLE-SUPPRESS", move |key: &Windowed<K>, _| {
            key.window.end_ms.saturating_add(close_after)
        })
    }
}

impl<K: Ord + Clone + 'static, V: Clone + 'static> KTable<K, V> {
    /// Each key's latest update, `limit_ms` of stream time after its first buffered one
    /// (`Suppressed.untilTimeLimit`).
    pub fn suppress_until_time_limit(&self, limit_ms: i64) -> KTable<K, V> {
        self.suppress_with("KTABLE-SUPPRESS", move |_, first_ts| {
            first_ts.saturating_add(limit_ms)
        })
    }

    /// Buffers updates per key until `deadline(key, first update's timestamp)` is reached by
    /// the stream time.
    fn suppress_with(
        &self,
        kind: &str,
        deadline: impl Fn(&K, i64) -> i64 + Send + Sync + 'static,
    ) -> KTable<K, V> {
        let deadline = Arc::new(deadline);
        let node = add_child::<K, Change<V>, K, Change<V>>(
            &self.node().topology,
            self.node().node,
            kind,
            move |children, _| {
                let deadline = deadline.clone();
                let stream_time = Cell::new(i64::MIN);
                let buffer: RefCell<Buffer<K, V>> = RefCell::new(BTreeMap::new());
                Rc::new(move |ctx, record: Record<K, Change<V>>| {
                    stream_time.set(stream_time.get().max(record.timestamp));
                    {
                        let mut buffer = buffer.borrow_mut();
                        match buffer.get_mut(&record.key) {
                            Some((_, buffered)) => {
                                // Keep the oldest old value, take the newest new one.
                                buffered.value.new = record.value.new;
                                buffered.timestamp = record.timestamp;
                            }
                            None => {
                                let due = deadline(&record.key, record.timestamp);
                                buffer.insert(record.key.clone(), (due, record));
                            }
                        }
                    }
                    let now = stream_time.get();
                    let mut due: Vec<(i64, Record<K, Change<V>>)> = Vec::new();
                    buffer.borrow_mut().retain(|_, (at, record)| {
                        if *at <= now {
                            due.push((*at, record.clone()));
                            false
                        } else {
                            true
                        }
                    });
                    due.sort_by_key(|(at, _)| *at);
                    for (_, record) in due {
                        forward(&children, ctx, record);
                    }
                })
            },
        );
        KTable::at(self.node().topology.clone(), node, None)
    }
}
