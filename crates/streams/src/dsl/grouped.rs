//! Grouping and aggregation: `group_by_key` / `group_by` → [`KGroupedStream`] → count,
//! reduce, aggregate → a [`KTable`] materialized in a key-value store.
//!
//! Each aggregation keeps its results in a store (named by [`Materialized`], or generated as
//! Kafka Streams names it) and forwards updates as [`Change`]s (new and old value): with
//! caching on (the default), the latest per key when the task commits; with
//! [`Materialized::with_caching_disabled`], every update at once. A stream whose key changed
//! is regrouped through a `<application.id>-<name>-repartition` topic first.

use std::rc::Rc;
use std::sync::Arc;

use super::cache::emitter;
use super::{KStream, KTable, add_child};
use crate::serdes::Serde;
use crate::state::{StoreOptions, TypedStore};
use crate::topology::Record;

use super::ktable::{Change, StoreRef};

/// Serdes for a grouped stream's keys and values (Kafka Streams' `Grouped`).
pub struct Grouped<K, V> {
    pub(crate) key_serde: Arc<dyn Serde<K>>,
    pub(crate) value_serde: Arc<dyn Serde<V>>,
    pub(crate) name: Option<String>,
}

impl<K, V> Grouped<K, V> {
    /// Keys and values written (to repartition topics) with these serdes.
    pub fn with(key_serde: impl Serde<K> + 'static, value_serde: impl Serde<V> + 'static) -> Self {
        Grouped {
            key_serde: Arc::new(key_serde),
            value_serde: Arc::new(value_serde),
            name: None,
        }
    }

    /// Names the repartition topic: `<application.id>-<name>-repartition`.
    pub fn named(mut self, name: &str) -> Self {
        self.name = Some(name.to_string());
        self
    }
}

impl<K, V> Clone for Grouped<K, V> {
    fn clone(&self) -> Self {
        Grouped {
            key_serde: self.key_serde.clone(),
            value_serde: self.value_serde.clone(),
            name: self.name.clone(),
        }
    }
}

/// Where and how an aggregation's result is stored (Kafka Streams' `Materialized`): the store
/// name (queryable under it) and the serdes of its keys and values.
pub struct Materialized<K, V> {
    pub(crate) name: Option<String>,
    pub(crate) key_serde: Arc<dyn Serde<K>>,
    pub(crate) value_serde: Arc<dyn Serde<V>>,
    pub(crate) options: StoreOptions,
    pub(crate) retention_ms: Option<i64>,
}

impl<K, V> Materialized<K, V> {
    /// A store with a generated name and these serdes.
    pub fn with(key_serde: impl Serde<K> + 'static, value_serde: impl Serde<V> + 'static) -> Self {
        Materialized {
            name: None,
            key_serde: Arc::new(key_serde),
            value_serde: Arc::new(value_serde),
            options: StoreOptions::default(),
            retention_ms: None,
        }
    }

    /// How long a window store keeps a window after its start (Kafka's
    /// `Materialized#withRetention`; at least the window size plus its grace, which is the
    /// default). Older windows are deleted, from the store and its changelog.
    pub fn with_retention(mut self, retention: std::time::Duration) -> Self {
        self.retention_ms = Some(i64::try_from(retention.as_millis()).unwrap_or(i64::MAX));
        self
    }

    /// The store called `name` (Kafka's `Materialized.as(name)`).
    pub fn named(mut self, name: &str) -> Self {
        self.name = Some(name.to_string());
        self
    }

    /// The store's name: the one given, or Kafka Streams' generated
    /// `<prefix>-STATE-STORE-<next node number>`.
    pub(crate) fn store_name(&self, prefix: &str, topology: &super::Topology) -> String {
        self.name
            .clone()
            .unwrap_or_else(|| format!("{prefix}-STATE-STORE-{:010}", topology.nodes.len()))
    }

    /// Kept in memory only, rebuilt from its changelog on start (Kafka's
    /// `Materialized.as(Stores.inMemoryKeyValueStore(name))`); persistent by default.
    pub fn in_memory(mut self) -> Self {
        self.options.persistent = false;
        self
    }

    /// Without a changelog topic (`withLoggingDisabled`): the state is lost with the task.
    pub fn with_logging_disabled(mut self) -> Self {
        self.options.logging = false;
        self
    }

    /// Every update forwarded at once (`withCachingDisabled`), instead of the latest per key
    /// at each commit.
    pub fn with_caching_disabled(mut self) -> Self {
        self.options.caching = false;
        self
    }
}

/// A stream grouped by key, ready to aggregate (Kafka Streams' `KGroupedStream`).
pub struct KGroupedStream<K, V> {
    stream: KStream<K, V>,
    grouped: Grouped<K, V>,
}

impl<K, V> Clone for KGroupedStream<K, V> {
    fn clone(&self) -> Self {
        KGroupedStream {
            stream: self.stream.clone(),
            grouped: self.grouped.clone(),
        }
    }
}

impl<K, V> KGroupedStream<K, V> {
    /// `stream`, already partitioned by its key, grouped with these serdes.
    pub(crate) fn of(
        stream: KStream<K, V>,
        key_serde: Arc<dyn Serde<K>>,
        value_serde: Arc<dyn Serde<V>>,
    ) -> Self {
        KGroupedStream {
            stream,
            grouped: Grouped {
                key_serde,
                value_serde,
                name: None,
            },
        }
    }

    pub(crate) fn stream(&self) -> &KStream<K, V> {
        &self.stream
    }

    /// The serde of the grouped values (sliding windows buffer records with it).
    pub(crate) fn value_serde(&self) -> Arc<dyn Serde<V>> {
        self.grouped.value_serde.clone()
    }
}

impl<K: Clone + 'static, V: Clone + 'static> KStream<K, V> {
    /// Groups records by their key.
    pub fn group_by_key(&self, grouped: Grouped<K, V>) -> KGroupedStream<K, V> {
        // A changed key must be repartitioned first, so that each key has one task.
        let stream = if self.is_key_changed() {
            self.repartition_through(
                grouped.name.as_deref(),
                "KGROUPED",
                grouped.key_serde.clone(),
                grouped.value_serde.clone(),
            )
        } else {
            self.clone()
        };
        KGroupedStream { stream, grouped }
    }

    /// Groups records by a new key.
    pub fn group_by<K2: Clone + 'static>(
        &self,
        selector: impl Fn(&K, &V) -> K2 + Send + Sync + 'static,
        grouped: Grouped<K2, V>,
    ) -> KGroupedStream<K2, V> {
        self.select_key(selector).group_by_key(grouped)
    }
}

impl<K: Clone + 'static, V: Clone + 'static> KGroupedStream<K, V> {
    /// The number of records per key.
    pub fn count(&self, materialized: Materialized<K, i64>) -> KTable<K, i64> {
        self.aggregate(|| 0, |_, _, count| count + 1, materialized)
    }

    /// Values combined per key with `reducer` (the first value as is).
    pub fn reduce(
        &self,
        reducer: impl Fn(&V, &V) -> V + Send + Sync + 'static,
        materialized: Materialized<K, V>,
    ) -> KTable<K, V> {
        self.aggregate_with("KSTREAM-REDUCE", materialized, reducing(reducer))
    }

    /// An aggregate per key: `initializer` for a key's first record, then `aggregator`.
    pub fn aggregate<VA: Clone + 'static>(
        &self,
        initializer: impl Fn() -> VA + Send + Sync + 'static,
        aggregator: impl Fn(&K, &V, VA) -> VA + Send + Sync + 'static,
        materialized: Materialized<K, VA>,
    ) -> KTable<K, VA> {
        self.aggregate_with(
            "KSTREAM-AGGREGATE",
            materialized,
            aggregating(initializer, aggregator),
        )
    }

    pub(crate) fn aggregate_with<VA: Clone + 'static>(
        &self,
        kind: &str,
        materialized: Materialized<K, VA>,
        update: impl Fn(&K, &V, Option<&VA>) -> VA + Send + Sync + 'static,
    ) -> KTable<K, VA> {
        let topology = self.stream.node().topology.clone();
        let parent = self.stream.node().node;
        let store_name = materialized.store_name(kind, &topology.borrow());
        let (key_serde, value_serde) = (materialized.key_serde, materialized.value_serde);
        let options = materialized.options;
        let store_ref = StoreRef {
            name: store_name.clone(),
            key_serde: key_serde.clone(),
            value_serde: value_serde.clone(),
        };
        let name = store_name.clone();
        let update = Arc::new(update);
        let node =
            add_child::<K, V, K, Change<VA>>(&topology, parent, kind, move |children, wiring| {
                let store =
                    TypedStore::new(wiring.store(&name), key_serde.clone(), value_serde.clone());
                let emit = emitter(wiring, options.caching, children);
                let update = update.clone();
                Rc::new(move |ctx, record: Record<K, V>| {
                    let updated = store
                        .update_keyed(&record.key, |old| update(&record.key, &record.value, old));
                    let (key_bytes, old, new) = match updated {
                        Ok(updated) => updated,
                        Err(e) => return ctx.fail(e),
                    };
                    let change = Change {
                        new: Some(new),
                        old,
                    };
                    let out = Record {
                        key: record.key,
                        value: change,
                        timestamp: record.timestamp,
                        headers: record.headers,
                    };
                    emit(ctx, key_bytes, out);
                })
            });
        topology.borrow_mut().add_store(&store_name, options);
        KTable::at(topology, node, Some(store_ref))
    }
}

/// A reducer as an update of a stored value: the first value as is, then `reducer`.
pub(crate) fn reducing<K, V: Clone>(
    reducer: impl Fn(&V, &V) -> V,
) -> impl Fn(&K, &V, Option<&V>) -> V {
    move |_, value, old| match old {
        Some(acc) => reducer(acc, value),
        None => value.clone(),
    }
}

/// An initializer and an aggregator as an update of a stored aggregate.
pub(crate) fn aggregating<K, V, VA: Clone>(
    initializer: impl Fn() -> VA,
    aggregator: impl Fn(&K, &V, VA) -> VA,
) -> impl Fn(&K, &V, Option<&VA>) -> VA {
    move |key, value, old| aggregator(key, value, old.cloned().unwrap_or_else(&initializer))
}
