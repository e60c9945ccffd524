//! Time windows: `windowed_by(TimeWindows)` on a grouped stream → count, reduce, aggregate per
//! key and window, with Kafka Streams' rules for event time: a record updates every window it
//! falls in (one for tumbling windows, `size / advance` for hopping ones) unless the window
//! has closed — its end plus the grace period is at or before the stream time (the largest
//! timestamp the processor has seen) — in which case it is dropped and counted in
//! `dropped_records`.

use std::cell::Cell;
use std::rc::Rc;
use std::sync::Arc;

use super::cache::emitter;
use super::grouped::{KGroupedStream, aggregating, reducing};
use super::ktable::{Change, StoreRef};
use super::retention::{expiry, retention, window_start};
use super::{KTable, Materialized, add_child};
use crate::serdes::{Serde, SharedSerde};
use crate::state::TypedStore;
use crate::topology::Record;
use crate::windowed::{TimeWindowedSerde, Window, Windowed};

/// Tumbling or hopping windows of a fixed size (Kafka Streams' `TimeWindows`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TimeWindows {
    /// Window size in milliseconds.
    pub size_ms: i64,
    /// How far each window starts after the previous one (the size, for tumbling windows).
    pub advance_ms: i64,
    /// How long after a window ends records may still update it.
    pub grace_ms: i64,
}

impl TimeWindows {
    /// Tumbling windows of `size_ms` that close as soon as they end.
    pub fn of_size_with_no_grace(size_ms: i64) -> Self {
        Self::of_size_and_grace(size_ms, 0)
    }

    /// Tumbling windows of `size_ms` that accept records `grace_ms` after they end.
    pub fn of_size_and_grace(size_ms: i64, grace_ms: i64) -> Self {
        assert!(size_ms > 0, "window size must be positive");
        assert!(grace_ms >= 0, "grace must not be negative");
        TimeWindows {
            size_ms,
            advance_ms: size_ms,
            grace_ms,
        }
    }

    /// Hopping windows: each starts `advance_ms` after the previous (0 < advance ≤ size).
    pub fn advance_by(mut self, advance_ms: i64) -> Self {
        assert!(
            advance_ms > 0 && advance_ms <= self.size_ms,
            "advance must be in (0, size]"
        );
        self.advance_ms = advance_ms;
        self
    }

    /// The windows a record at `timestamp` falls in, oldest first.
    pub fn windows_for(&self, timestamp: i64) -> impl Iterator<Item = Window> + use<> {
        let (size, advance) = (self.size_ms, self.advance_ms);
        let first = (timestamp - size + advance).max(0) / advance * advance;
        (0..)
            .map(move |i| first + i * advance)
            .take_while(move |start| *start <= timestamp)
            .map(move |start| Window::new(start, start.saturating_add(size)))
    }
}

/// A grouped stream cut into time windows (Kafka Streams' `TimeWindowedKStream`).
pub struct TimeWindowedKStream<K, V> {
    grouped: KGroupedStream<K, V>,
    windows: TimeWindows,
}

impl<K: Clone + 'static, V: Clone + 'static> KGroupedStream<K, V> {
    /// Aggregations per key and time window.
    pub fn windowed_by(&self, windows: TimeWindows) -> TimeWindowedKStream<K, V> {
        TimeWindowedKStream {
            grouped: self.clone(),
            windows,
        }
    }
}

impl<K: Clone + 'static, V: Clone + 'static> TimeWindowedKStream<K, V> {
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
        update: impl Fn(&K, &V, Option<&VA>) -> VA + Send + Sync + 'static,
    ) -> KTable<Windowed<K>, VA> {
        let stream = self.grouped.stream();
        let topology = stream.node().topology.clone();
        let parent = stream.node().node;
        let store_name = materialized.store_name(kind, &topology.borrow());
        let windows = self.windows;
        let key_serde: Arc<dyn Serde<Windowed<K>>> = Arc::new(TimeWindowedSerde::new(
            SharedSerde(materialized.key_serde),
            windows.size_ms,
        ));
        let value_serde = materialized.value_serde;
        let options = materialized.options;
        let retention = retention(
            materialized.retention_ms,
            windows.size_ms.saturating_add(windows.grace_ms),
        );
        let store_ref = StoreRef {
            name: store_name.clone(),
            key_serde: key_serde.clone(),
            value_serde: value_serde.clone(),
        };
        let update = Arc::new(update);
        let name = store_name.clone();
        let node = add_child::<K, V, Windowed<K>, Change<VA>>(
            &topology,
            parent,
            kind,
            move |children, wiring| {
                let store =
                    TypedStore::new(wiring.store(&name), key_serde.clone(), value_serde.clone());
                let emit = emitter(wiring, options.caching, children);
                let update = update.clone();
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
                    let closes_before = stream_time.get();
                    for window in windows.windows_for(record.timestamp) {
                        if window.end_ms.saturating_add(windows.grace_ms) <= closes_before {
                            // Kafka: "Skipping record for expired window".
                            ctx.dropped_records += 1;
                            continue;
                        }
                        let key = Windowed {
                            key: record.key.clone(),
                            window,
                        };
                        let updated =
                            store.update_keyed(&key, |old| update(&record.key, &record.value, old));
                        let (key_bytes, old, new) = match updated {
                            Ok(pair) => pair,
                            Err(e) => return ctx.fail(e),
                        };
                        let out = Record {
                            key,
                            value: Change {
                                new: Some(new),
                                old,
                            },
                            timestamp: record.timestamp,
                            headers: record.headers.clone(),
                        };
                        emit(ctx, key_bytes, out);
                    }
                })
            },
        );
        topology.borrow_mut().add_store(&store_name, options);
        KTable::at(topology, node, Some(store_ref)).closing_after(windows.grace_ms)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tumbling_and_hopping_windows_cover_a_timestamp_as_kafka_does() {
        let hour = 3_600_000;
        let tumbling = TimeWindows::of_size_with_no_grace(hour);
        assert_eq!(
            tumbling.windows_for(hour + 5).collect::<Vec<_>>(),
            vec![Window::new(hour, 2 * hour)]
        );
        assert_eq!(
            tumbling.windows_for(0).collect::<Vec<_>>(),
            vec![Window::new(0, hour)]
        );
        let hopping = TimeWindows::of_size_with_no_grace(10).advance_by(5);
        assert_eq!(
            hopping.windows_for(12).collect::<Vec<_>>(),
            vec![Window::new(5, 15), Window::new(10, 20)]
        );
        assert_eq!(
            hopping.windows_for(3).collect::<Vec<_>>(),
            vec![Window::new(0, 10)]
        );
    }
}
