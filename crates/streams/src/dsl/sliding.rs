//! Sliding windows (KIP-450): `windowed_by_sliding(SlidingWindows)` on a grouped stream →
//! count, reduce, aggregate over every distinct set of records of a key that lie within the
//! time difference of each other.
//!
//! As in Kafka Streams, each record `r` defines a left window `[r - d, r]` (ending at it) and,
//! once another record falls in it, a right window `[r + 1, r + 1 + d]` (starting just after
//! it); both ends are inclusive. Records earlier than `d` share the left window `[0, d]`, as
//! Kafka's early-record handling gives them. A record updates every window that contains it
//! and creates its own left window and, when a later record is already within `d`, its right
//! window; each changed window is forwarded with the largest timestamp in it. A record whose
//! left window has closed (its timestamp plus the grace is before the stream time) is
//! dropped and counted in `dropped_records`.
//!
//! Kafka computes a new window's aggregate from neighbouring windows; here each task keeps
//! the records themselves for `d + grace` in a second store (`<store>-records`, changelogged
//! like any store) and folds a changed window from them. The results are the same; the cost
//! is the records kept and one fold per changed window.

use std::cell::Cell;
use std::collections::BTreeSet;
use std::rc::Rc;
use std::sync::Arc;

use super::grouped::{KGroupedStream, aggregating, reducing};
use super::ktable::{Change, StoreRef};
use super::retention::{expiry, retention, window_start};
use super::{KTable, Materialized, add_child};
use crate::serdes::SharedSerde;
use crate::serdes::{Serde, SerdeError};
use crate::state::{KeyValueStore, TypedStore};
use crate::topology::{Record, forward};
use crate::windowed::{TimeWindowedSerde, Window, Windowed};

/// Windows over records at most a time difference apart (Kafka Streams' `SlidingWindows`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SlidingWindows {
    /// The largest time difference between two records of one window, in milliseconds.
    pub time_difference_ms: i64,
    /// How long after a window ends records may still update it.
    pub grace_ms: i64,
}

impl SlidingWindows {
    /// Windows of records at most `time_difference_ms` apart, closed as soon as they end.
    pub fn of_time_difference_with_no_grace(time_difference_ms: i64) -> Self {
        Self::of_time_difference_and_grace(time_difference_ms, 0)
    }

    /// Windows of records at most `time_difference_ms` apart, open `grace_ms` after they end.
    pub fn of_time_difference_and_grace(time_difference_ms: i64, grace_ms: i64) -> Self {
        assert!(
            time_difference_ms > 0,
            "the time difference must be positive"
        );
        assert!(grace_ms >= 0, "grace must not be negative");
        SlidingWindows {
            time_difference_ms,
            grace_ms,
        }
    }

    /// The window ending at a record at `ts` (`[0, d]` for records earlier than `d`).
    fn left(&self, ts: i64) -> Window {
        let start = (ts - self.time_difference_ms).max(0);
        Window::new(start, start + self.time_difference_ms)
    }

    /// The window starting just after a record at `ts`.
    fn right(&self, ts: i64) -> Window {
        Window::new(ts + 1, ts + 1 + self.time_difference_ms)
    }
}

/// A grouped stream cut into sliding windows (Kafka Streams' `SlidingWindowedKStream`, which
/// Java reaches through `windowedBy(SlidingWindows)`).
pub struct SlidingWindowedKStream<K, V> {
    grouped: KGroupedStream<K, V>,
    windows: SlidingWindows,
}

impl<K: Clone + 'static, V: Clone + 'static> KGroupedStream<K, V> {
    /// Aggregations per key and sliding window.
    pub fn windowed_by_sliding(&self, windows: SlidingWindows) -> SlidingWindowedKStream<K, V> {
        SlidingWindowedKStream {
            grouped: self.clone(),
            windows,
        }
    }
}

impl<K: Clone + 'static, V: Clone + 'static> SlidingWindowedKStream<K, V> {
    /// Records per key and window.
    pub fn count(&self, materialized: Materialized<K, i64>) -> KTable<Windowed<K>, i64> {
        self.aggregate(|| 0, |_, _, n| n + 1, materialized)
    }

    /// Values combined per key and window with `reducer`.
    pub fn reduce(
        &self,
        reducer: impl Fn(&V, &V) -> V + Send + Sync + 'static,
        materialized: Materialized<K, V>,
    ) -> KTable<Windowed<K>, V> {
        self.aggregate_with("KSTREAM-REDUCE", materialized, reducing(reducer))
    }

    /// An aggregate per key and window.
    pub fn aggregate<VA: Clone + 'static>(
        &self,
        initializer: impl Fn() -> VA + Send + Sync + 'static,
        aggregator: impl Fn(&K, &V, VA) -> VA + Send + Sync + 'static,
        materialized: Materialized<K, VA>,
    ) -> KTable<Windowed<K>, VA> {
        self.aggregate_with(
            "KSTREAM-AGGREGATE",
            materialized,
            aggregating(initializer, aggregator),
        )
    }

    fn aggregate_with<VA: Clone + 'static>(
        &self,
        kind: &str,
        materialized: Materialized<K, VA>,
        fold: impl Fn(&K, &V, Option<&VA>) -> VA + Send + Sync + 'static,
    ) -> KTable<Windowed<K>, VA> {
        let stream = self.grouped.stream();
        let topology = stream.node().topology.clone();
        let parent = stream.node().node;
        let store_name = materialized.store_name(kind, &topology.borrow());
        let retention = retention(
            materialized.retention_ms,
            self.windows
                .time_difference_ms
                .saturating_add(self.windows.grace_ms),
        );
        let records_name = format!("{store_name}-records");
        let windows = self.windows;
        let options = materialized.options;
        let key_serde = materialized.key_serde;
        let windowed_serde: Arc<dyn Serde<Windowed<K>>> = Arc::new(TimeWindowedSerde::new(
            SharedSerde(key_serde.clone()),
            windows.time_difference_ms,
        ));
        let value_serde = materialized.value_serde;
        let store_ref = StoreRef {
            name: store_name.clone(),
            key_serde: windowed_serde.clone(),
            value_serde: value_serde.clone(),
        };
        let sliding = Arc::new(Sliding {
            windows,
            records_name: records_name.clone(),
            key_serde,
            record_serde: self.grouped.value_serde(),
            fold: Box::new(fold),
        });
        let name = store_name.clone();
        let node = add_child::<K, V, Windowed<K>, Change<VA>>(
            &topology,
            parent,
            &format!("{kind}-SLIDING"),
            move |children, wiring| {
                let results = TypedStore::new(
                    wiring.store(&name),
                    windowed_serde.clone(),
                    value_serde.clone(),
                );
                let records = wiring.ordered_store(&sliding.records_name);
                let sliding = sliding.clone();
                let stream_time = Rc::new(Cell::new(i64::MIN));
                let expire = expiry(
                    wiring.store(&name),
                    stream_time.clone(),
                    retention,
                    window_start,
                );
                wiring.on_flush(expire);
                Rc::new(move |ctx, record: Record<K, V>| {
                    stream_time.set(stream_time.get().max(record.timestamp));
                    let now = stream_time.get();
                    if record.timestamp.saturating_add(windows.grace_ms) < now {
                        ctx.dropped_records += 1;
                        return;
                    }
                    let changed =
                        sliding.add(&mut crate::state::lock(&records), &results, now, &record);
                    let changed = match changed {
                        Ok(changed) => changed,
                        Err(e) => return ctx.fail(e),
                    };
                    for (window, change, timestamp) in changed {
                        let out = Record {
                            key: Windowed {
                                key: record.key.clone(),
                                window,
                            },
                            value: change,
                            timestamp,
                            headers: record.headers.clone(),
                        };
                        forward(&children, ctx, out);
                    }
                })
            },
        );
        {
            let mut topology = topology.borrow_mut();
            topology.add_store(&store_name, options);
            topology.add_store(&records_name, options);
        }
        let close_after = windows.time_difference_ms.saturating_add(windows.grace_ms);
        KTable::at(topology, node, Some(store_ref)).closing_after(close_after)
    }
}

/// Folds one record into a window's aggregate (`None` before the first).
type Fold<K, V, VA> = Box<dyn Fn(&K, &V, Option<&VA>) -> VA + Send + Sync>;

/// What a sliding-window aggregation needs per task.
struct Sliding<K, V, VA> {
    windows: SlidingWindows,
    records_name: String,
    key_serde: Arc<dyn Serde<K>>,
    record_serde: Arc<dyn Serde<V>>,
    fold: Fold<K, V, VA>,
}

/// A changed window: the window, its new and old aggregate, its largest record timestamp.
type Changed<VA> = (Window, Change<VA>, i64);

impl<K: Clone, V, VA: Clone> Sliding<K, V, VA> {
    /// Keeps `record` and recomputes the windows it changes; returns them in window order.
    fn add(
        &self,
        records: &mut KeyValueStore,
        results: &TypedStore<Windowed<K>, VA>,
        stream_time: i64,
        record: &Record<K, V>,
    ) -> Result<Vec<Changed<VA>>, SerdeError> {
        let topic = &self.records_name;
        let d = self.windows.time_difference_ms;
        let ts = record.timestamp;
        let key = self.key_serde.serialize(topic, &record.key)?;
        // Records no window can take any more go: a record is in windows ending by ts + d.
        let expired = stream_time
            .saturating_sub(self.windows.grace_ms)
            .saturating_sub(d)
            .saturating_sub(1);
        let stale: Vec<Vec<u8>> = records
            .range(
                &record_key(&key, i64::MIN, 0),
                &record_key(&key, expired, u32::MAX),
            )
            .filter(|(k, _)| k.len() == key.len() + 12)
            .map(|(k, _)| k.to_vec())
            .collect();
        for k in stale {
            records.delete(&k);
        }
        let seq = records
            .range(&record_key(&key, ts, 0), &record_key(&key, ts, u32::MAX))
            .filter(|(k, _)| k.len() == key.len() + 12)
            .count() as u32;
        records.put(
            record_key(&key, ts, seq),
            self.record_serde.serialize(topic, &record.value)?,
        );
        // Every window that can contain `ts` is the left or right window of a record within
        // 2d + 1 of it.
        let near: Vec<i64> = self
            .scan(records, &key, ts - 2 * d - 2, ts + 2 * d + 2)
            .map(|(t, _)| t)
            .collect();
        let mut affected = BTreeSet::new();
        for &r in &near {
            for window in [self.windows.left(r), self.windows.right(r)] {
                if window.start_ms <= ts && ts <= window.end_ms {
                    affected.insert(window);
                }
            }
        }
        // The new record's right window, when a later record already falls in it.
        let right = self.windows.right(ts);
        if near
            .iter()
            .any(|&r| r >= right.start_ms && r <= right.end_ms)
        {
            affected.insert(right);
        }
        let mut changed = Vec::new();
        for window in affected {
            if window.end_ms.saturating_add(self.windows.grace_ms) < stream_time {
                continue; // closed: Kafka leaves it as it was
            }
            let mut agg: Option<VA> = None;
            let mut latest = i64::MIN;
            for (t, bytes) in self.scan(records, &key, window.start_ms, window.end_ms) {
                let value = self.record_serde.deserialize(topic, bytes)?;
                agg = Some((self.fold)(&record.key, &value, agg.as_ref()));
                latest = latest.max(t);
            }
            let Some(new) = agg else { continue };
            let windowed = Windowed {
                key: record.key.clone(),
                window,
            };
            let old = results.get(&windowed)?;
            results.put(&windowed, &new)?;
            changed.push((
                window,
                Change {
                    new: Some(new),
                    old,
                },
                latest,
            ));
        }
        Ok(changed)
    }

    /// The kept records of `key` with timestamps in `[from, to]`, oldest first.
    fn scan<'s>(
        &self,
        records: &'s KeyValueStore,
        key: &'s [u8],
        from: i64,
        to: i64,
    ) -> impl Iterator<Item = (i64, &'s [u8])> + 's {
        let len = key.len();
        records
            .range(&record_key(key, from, 0), &record_key(key, to, u32::MAX))
            .filter(move |(k, _)| k.len() == len + 12)
            .map(move |(k, v)| (timestamp_at(&k[len..len + 8]), v))
    }
}

/// A kept record's key: key bytes | timestamp (sign-flipped, so bytes sort as numbers) | seq.
fn record_key(key: &[u8], ts: i64, seq: u32) -> Vec<u8> {
    let mut out = Vec::with_capacity(key.len() + 12);
    out.extend_from_slice(key);
    out.extend_from_slice(&((ts as u64) ^ (1 << 63)).to_be_bytes());
    out.extend_from_slice(&seq.to_be_bytes());
    out
}

fn timestamp_at(bytes: &[u8]) -> i64 {
    let mut b = [0u8; 8];
    b.copy_from_slice(bytes);
    (u64::from_be_bytes(b) ^ (1 << 63)) as i64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kept_record_keys_sort_by_timestamp_including_negative_ones() {
        let keys: Vec<Vec<u8>> = [-5_i64, 0, 3, 1_000]
            .iter()
            .map(|t| record_key(b"k", *t, 0))
            .collect();
        let mut sorted = keys.clone();
        sorted.sort();
        assert_eq!(keys, sorted);
        assert_eq!(timestamp_at(&record_key(b"k", -5, 7)[1..9]), -5);
    }

    #[test]
    fn left_and_right_windows_are_kafkas() {
        let w = SlidingWindows::of_time_difference_with_no_grace(10);
        assert_eq!(w.left(25), Window::new(15, 25));
        assert_eq!(w.left(4), Window::new(0, 10));
        assert_eq!(w.right(25), Window::new(26, 36));
    }
}
