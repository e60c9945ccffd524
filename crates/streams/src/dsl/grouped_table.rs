//! Regrouping a table: `KTable::group_by` → [`KGroupedTable`] → count, reduce, aggregate with
//! an adder and a subtractor (Kafka Streams' `KGroupedTable`).
//!
//! Each update of the table sends its old row, to be subtracted from its old group, and then
//! its new row, to be added to its new group, through a `<name>-repartition` topic: each group
//! lives in one task even when a row moves between groups on different partitions. On the
//! topic a value carries one leading byte: 0 for a subtraction, 1 for an addition.

use std::sync::Arc;

use super::{Grouped, KGroupedStream, KTable, Materialized};
use crate::serdes::{Serde, SerdeError};

/// A row regrouped from a table: added to its group, or taken out of it.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Regrouped<V> {
    add: bool,
    value: V,
}

/// [`Regrouped`] values: a flag byte, then the value's bytes.
struct RegroupedSerde<V>(Arc<dyn Serde<V>>);

impl<V> Serde<Regrouped<V>> for RegroupedSerde<V> {
    fn serialize(&self, topic: &str, value: &Regrouped<V>) -> Result<Vec<u8>, SerdeError> {
        let inner = self.0.serialize(topic, &value.value)?;
        let mut bytes = Vec::with_capacity(inner.len() + 1);
        bytes.push(u8::from(value.add));
        bytes.extend_from_slice(&inner);
        Ok(bytes)
    }

    fn deserialize(&self, topic: &str, bytes: &[u8]) -> Result<Regrouped<V>, SerdeError> {
        let (flag, rest) = bytes.split_first().ok_or_else(|| {
            SerdeError::deserialize(topic, "regrouped table row", "an empty value")
        })?;
        Ok(Regrouped {
            add: *flag != 0,
            value: self.0.deserialize(topic, rest)?,
        })
    }
}

/// A table regrouped by a new key, ready to aggregate (Kafka Streams' `KGroupedTable`).
pub struct KGroupedTable<K, V> {
    grouped: KGroupedStream<K, Regrouped<V>>,
}

impl<K: Clone + 'static, V: Clone + 'static> KTable<K, V> {
    /// Regroups the table's rows: `selector` gives each row its group and the value to
    /// aggregate. A row that changes or is deleted is taken out of its old group first.
    pub fn group_by<K2: Clone + 'static, V2: Clone + 'static>(
        &self,
        selector: impl Fn(&K, &V) -> (K2, V2) + Send + Sync + 'static,
        grouped: Grouped<K2, V2>,
    ) -> KGroupedTable<K2, V2> {
        let changes = self.to_changes();
        let regrouped = changes.flat_map(move |key, change| {
            let mut out = Vec::with_capacity(2);
            if let Some(old) = &change.old {
                let (k, value) = selector(key, old);
                out.push((k, Regrouped { add: false, value }));
            }
            if let Some(new) = &change.new {
                let (k, value) = selector(key, new);
                out.push((k, Regrouped { add: true, value }));
            }
            out
        });
        let value_serde: Arc<dyn Serde<Regrouped<V2>>> =
            Arc::new(RegroupedSerde(grouped.value_serde.clone()));
        let stream = regrouped.repartition_through(
            grouped.name.as_deref(),
            "KTABLE-REPARTITION",
            grouped.key_serde.clone(),
            value_serde.clone(),
        );
        KGroupedTable {
            grouped: KGroupedStream::of(stream, grouped.key_serde.clone(), value_serde),
        }
    }
}

impl<K: Clone + 'static, V: Clone + 'static> KGroupedTable<K, V> {
    /// The number of rows per group.
    pub fn count(&self, materialized: Materialized<K, i64>) -> KTable<K, i64> {
        self.aggregate(|| 0, |_, _, n| n + 1, |_, _, n| n - 1, materialized)
    }

    /// Rows combined per group: `adder` takes a row in, `subtractor` takes one out.
    pub fn reduce(
        &self,
        adder: impl Fn(&V, &V) -> V + Send + Sync + 'static,
        subtractor: impl Fn(&V, &V) -> V + Send + Sync + 'static,
        materialized: Materialized<K, V>,
    ) -> KTable<K, V> {
        self.grouped.aggregate_with(
            "KTABLE-REDUCE",
            materialized,
            move |_, row: &Regrouped<V>, old: Option<&V>| match (old, row.add) {
                (None, _) => row.value.clone(),
                (Some(acc), true) => adder(acc, &row.value),
                (Some(acc), false) => subtractor(acc, &row.value),
            },
        )
    }

    /// An aggregate per group: `initializer` for a new group, `adder` for a row that joins
    /// it, `subtractor` for a row that leaves it.
    pub fn aggregate<VA: Clone + 'static>(
        &self,
        initializer: impl Fn() -> VA + Send + Sync + 'static,
        adder: impl Fn(&K, &V, VA) -> VA + Send + Sync + 'static,
        subtractor: impl Fn(&K, &V, VA) -> VA + Send + Sync + 'static,
        materialized: Materialized<K, VA>,
    ) -> KTable<K, VA> {
        self.grouped.aggregate_with(
            "KTABLE-AGGREGATE",
            materialized,
            move |key, row: &Regrouped<V>, old: Option<&VA>| {
                let acc = old.cloned().unwrap_or_else(&initializer);
                if row.add {
                    adder(key, &row.value, acc)
                } else {
                    subtractor(key, &row.value, acc)
                }
            },
        )
    }
}
