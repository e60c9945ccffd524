//! Session windows: `windowed_by_sessions(SessionWindows)` on a grouped stream → count or
//! aggregate per key and session, with Kafka Streams' rules. A record joins every session of
//! its key that ends within the inactivity gap before it or starts within the gap after it;
//! those sessions merge into one (their aggregates combined with the merger), the merged
//! ones are deleted (forwarded as deletions) and the new session is stored and forwarded. A
//! record whose merged session ends before the stream time minus the grace period is dropped
//! and counted in `dropped_records`.
//!
//! Sessions are stored under Kafka's session-windowed key bytes (key | end | start).

use std::cell::Cell;
use std::rc::Rc;
use std::sync::Arc;

use super::grouped::KGroupedStream;
use super::ktable::{Change, StoreRef};
use super::retention::{expiry, retention, session_end};
use super::{KTable, Materialized, add_child};
use crate::serdes::{Serde, SerdeError};
use crate::state::KeyValueStore;
use crate::topology::{ProcessorContext, Record, StreamsError, Wire, forward};
use crate::windowed::{SessionWindowedSerde, Window, Windowed};

/// Session windows: activity separated by more than an inactivity gap starts a new session
/// (Kafka Streams' `SessionWindows`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SessionWindows {
    /// The inactivity gap in milliseconds.
    pub gap_ms: i64,
    /// How long after a session ends records may still extend it.
    pub grace_ms: i64,
}

impl SessionWindows {
    /// Sessions split by `gap_ms` of inactivity, closed as soon as they end.
    pub fn with_inactivity_gap_and_no_grace(gap_ms: i64) -> Self {
        Self::with_inactivity_gap_and_grace(gap_ms, 0)
    }

    /// Sessions split by `gap_ms` of inactivity, open `grace_ms` after they end.
    pub fn with_inactivity_gap_and_grace(gap_ms: i64, grace_ms: i64) -> Self {
        assert!(gap_ms > 0, "the inactivity gap must be positive");
        assert!(grace_ms >= 0, "grace must not be negative");
        SessionWindows { gap_ms, grace_ms }
    }
}

/// A grouped stream cut into sessions (Kafka Streams' `SessionWindowedKStream`).
pub struct SessionWindowedKStream<K, V> {
    grouped: KGroupedStream<K, V>,
    windows: SessionWindows,
}

impl<K: Clone + 'static, V: Clone + 'static> KGroupedStream<K, V> {
    /// Aggregations per key and session (Kafka's `windowedBy(SessionWindows)`).
    pub fn windowed_by_sessions(&self, windows: SessionWindows) -> SessionWindowedKStream<K, V> {
        SessionWindowedKStream {
            grouped: self.clone(),
            windows,
        }
    }
}

impl<K: Clone + 'static, V: Clone + 'static> SessionWindowedKStream<K, V> {
    /// Records per key and session.
    pub fn count(&self, materialized: Materialized<K, i64>) -> KTable<Windowed<K>, i64> {
        self.aggregate(|| 0, |_, _, n| n + 1, |_, a, b| a + b, materialized)
    }

    /// Values combined per key and session with `reducer`, which also combines the sessions
    /// a record joins together (Kafka's `SessionWindowedKStream#reduce`).
    pub fn reduce(
        &self,
        reducer: impl Fn(&V, &V) -> V + Send + Sync + 'static,
        materialized: Materialized<K, V>,
    ) -> KTable<Windowed<K>, V> {
        let reducer = Arc::new(reducer);
        let merge = reducer.clone();
        self.aggregate_with(
            "KSTREAM-SESSION-REDUCE",
            materialized,
            Box::new(move |_, value, acc| match acc {
                Some(acc) => reducer(&acc, value),
                None => value.clone(),
            }),
            Box::new(move |_, acc, other| match acc {
                Some(acc) => merge(&acc, other),
                None => other.clone(),
            }),
        )
    }

    /// An aggregate per key and session: `initializer` for a new session, `aggregator` per
    /// record, `merger` to combine sessions a record joins together.
    pub fn aggregate<VA: Clone + 'static>(
        &self,
        initializer: impl Fn() -> VA + Send + Sync + 'static,
        aggregator: impl Fn(&K, &V, VA) -> VA + Send + Sync + 'static,
        merger: impl Fn(&K, VA, &VA) -> VA + Send + Sync + 'static,
        materialized: Materialized<K, VA>,
    ) -> KTable<Windowed<K>, VA> {
        let initializer = Arc::new(initializer);
        let init = initializer.clone();
        self.aggregate_with(
            "KSTREAM-SESSION-AGGREGATE",
            materialized,
            Box::new(move |key, value, acc| {
                aggregator(key, value, acc.unwrap_or_else(|| initializer()))
            }),
            Box::new(move |key, acc, other| merger(key, acc.unwrap_or_else(|| init()), other)),
        )
    }

    fn aggregate_with<VA: Clone + 'static>(
        &self,
        kind: &str,
        materialized: Materialized<K, VA>,
        aggregator: Aggregator<K, V, VA>,
        merger: Merger<K, VA>,
    ) -> KTable<Windowed<K>, VA> {
        let stream = self.grouped.stream();
        let topology = stream.node().topology.clone();
        let parent = stream.node().node;
        let prefix = format!("KSTREAM-{}", kind.trim_start_matches("KSTREAM-SESSION-"));
        let store_name = materialized.store_name(&prefix, &topology.borrow());
        let options = materialized.options;
        let retention = retention(
            materialized.retention_ms,
            self.windows.gap_ms.saturating_add(self.windows.grace_ms),
        );
        let key_serde = materialized.key_serde;
        let windowed_serde: Arc<dyn Serde<Windowed<K>>> = Arc::new(SessionWindowedSerde::new(
            crate::serdes::SharedSerde(key_serde.clone()),
        ));
        let store_ref = StoreRef {
            name: store_name.clone(),
            key_serde: windowed_serde,
            value_serde: materialized.value_serde.clone(),
        };
        let session = Arc::new(Sessions {
            windows: self.windows,
            store_name: store_name.clone(),
            key_serde,
            value_serde: materialized.value_serde,
            aggregator,
            merger,
        });
        let node = add_child::<K, V, Windowed<K>, Change<VA>>(
            &topology,
            parent,
            kind,
            move |children, wiring| {
                let store = wiring.ordered_store(&session.store_name);
                let session = session.clone();
                let stream_time = Rc::new(Cell::new(i64::MIN));
                // A session can change until its end plus the gap and grace.
                let expire = expiry(store.clone(), stream_time.clone(), retention, session_end);
                wiring.on_flush(expire);
                Rc::new(move |ctx, record: Record<K, V>| {
                    stream_time.set(stream_time.get().max(record.timestamp));
                    let result = session.process(
                        &mut crate::state::lock(&store),
                        stream_time.get(),
                        &record,
                    );
                    match result {
                        Ok(updates) => emit(&children, ctx, &record, updates),
                        Err(Late) => ctx.dropped_records += 1,
                    }
                })
            },
        );
        topology.borrow_mut().add_store(&store_name, options);
        let close_after = self.windows.gap_ms.saturating_add(self.windows.grace_ms);
        KTable::at(topology, node, Some(store_ref)).closing_after(close_after)
    }
}

/// Folds one record into a session's aggregate (`None` for a new session).
type Aggregator<K, V, VA> = Box<dyn Fn(&K, &V, Option<VA>) -> VA + Send + Sync>;
/// Combines an aggregate (`None` for a new session) with another session's.
type Merger<K, VA> = Box<dyn Fn(&K, Option<VA>, &VA) -> VA + Send + Sync>;

/// What a session aggregation needs per task.
struct Sessions<K, V, VA> {
    windows: SessionWindows,
    store_name: String,
    key_serde: Arc<dyn Serde<K>>,
    value_serde: Arc<dyn Serde<VA>>,
    aggregator: Aggregator<K, V, VA>,
    merger: Merger<K, VA>,
}

/// The record arrived after its session closed.
struct Late;

/// Session changes: `(window, change)` to forward, or the error that stops the task.
type Updates<VA> = Result<Vec<(Window, Change<VA>)>, StreamsError>;

impl<K, V, VA: Clone> Sessions<K, V, VA> {
    /// Merges `record` into its key's sessions in `store`; the changes to forward.
    fn process(
        &self,
        store: &mut KeyValueStore,
        stream_time: i64,
        record: &Record<K, V>,
    ) -> Result<Updates<VA>, Late> {
        let topic = &self.store_name;
        let ts = record.timestamp;
        let key_bytes = match self.key_serde.serialize(topic, &record.key) {
            Ok(bytes) => bytes,
            Err(e) => return Ok(Err(e.into())),
        };
        let overlapping = match self.overlapping(store, &key_bytes, ts) {
            Ok(found) => found,
            Err(e) => return Ok(Err(e.into())),
        };
        let mut merged = Window::new(ts, ts);
        let mut agg = None;
        for (window, value) in &overlapping {
            merged = Window::new(
                merged.start_ms.min(window.start_ms),
                merged.end_ms.max(window.end_ms),
            );
            agg = Some((self.merger)(&record.key, agg, value));
        }
        if merged.end_ms < stream_time - self.windows.grace_ms {
            return Err(Late);
        }
        let agg = (self.aggregator)(&record.key, &record.value, agg);
        let mut updates = Vec::new();
        let mut previous = None;
        for (window, value) in overlapping {
            store.delete(&session_key(&key_bytes, window));
            if window == merged {
                previous = Some(value);
            } else {
                updates.push((
                    window,
                    Change {
                        new: None,
                        old: Some(value),
                    },
                ));
            }
        }
        match self.value_serde.serialize(topic, &agg) {
            Ok(bytes) => {
                store.put(session_key(&key_bytes, merged), bytes);
            }
            Err(e) => return Ok(Err(e.into())),
        }
        updates.push((
            merged,
            Change {
                new: Some(agg),
                old: previous,
            },
        ));
        Ok(Ok(updates))
    }

    /// The key's sessions that `ts` joins: ending at most a gap before it, starting at most a
    /// gap after it.
    fn overlapping(
        &self,
        store: &KeyValueStore,
        key_bytes: &[u8],
        ts: i64,
    ) -> Result<Vec<(Window, VA)>, SerdeError> {
        let gap = self.windows.gap_ms;
        let mut found = Vec::new();
        for (stored, value) in store.prefix_scan(key_bytes) {
            if stored.len() != key_bytes.len() + 16 {
                continue; // another key that starts with these bytes
            }
            let at = |i: usize| {
                let mut b = [0u8; 8];
                b.copy_from_slice(&stored[i..i + 8]);
                i64::from_be_bytes(b)
            };
            let window = Window::new(at(key_bytes.len() + 8), at(key_bytes.len()));
            if window.end_ms >= ts.saturating_sub(gap) && window.start_ms <= ts.saturating_add(gap)
            {
                found.push((
                    window,
                    self.value_serde.deserialize(&self.store_name, value)?,
                ));
            }
        }
        Ok(found)
    }
}

/// Kafka's session key bytes: key | end | start.
fn session_key(key_bytes: &[u8], window: Window) -> Vec<u8> {
    let mut out = Vec::with_capacity(key_bytes.len() + 16);
    out.extend_from_slice(key_bytes);
    out.extend_from_slice(&window.end_ms.to_be_bytes());
    out.extend_from_slice(&window.start_ms.to_be_bytes());
    out
}

fn emit<K: Clone, V, VA: Clone>(
    children: &[Wire<Windowed<K>, Change<VA>>],
    ctx: &mut ProcessorContext,
    record: &Record<K, V>,
    updates: Updates<VA>,
) {
    match updates {
        Err(e) => {
            ctx.error.get_or_insert(e);
        }
        Ok(updates) => {
            for (window, change) in updates {
                let out = Record {
                    key: Windowed {
                        key: record.key.clone(),
                        window,
                    },
                    value: change,
                    timestamp: record.timestamp,
                    headers: record.headers.clone(),
                };
                forward(children, ctx, out);
            }
        }
    }
}
