//! [`KStream`]: a record stream and its stateless operations, with Kafka Streams' names and
//! semantics (filter, filterNot, map, mapValues, flatMap, flatMapValues, selectKey, peek,
//! foreach, split/branch, merge, to).

use std::cell::RefCell;
use std::collections::BTreeMap;
use std::marker::PhantomData;
use std::rc::Rc;
use std::sync::Arc;

use super::{NodeRef, Produced, add_child, merge_nodes, node_name};
use crate::topology::{ProcessorContext, RawRecord, Record, Topology, Wire, forward};

/// A stream of records with keys `K` and values `V` (Kafka Streams' `KStream<K, V>`).
pub struct KStream<K, V> {
    at: NodeRef<K, V>,
}

impl<K, V> Clone for KStream<K, V> {
    fn clone(&self) -> Self {
        KStream {
            at: self.at.clone(),
        }
    }
}

impl<K: Clone + 'static, V: Clone + 'static> KStream<K, V> {
    pub(crate) fn at(topology: Rc<RefCell<Topology>>, node: usize) -> Self {
        KStream {
            at: NodeRef {
                topology,
                node,
                types: PhantomData,
                key_changed: false,
            },
        }
    }

    /// Adds a child node of kind `kind` whose wire `make` builds from its own children's.
    fn child<K2: Clone + 'static, V2: Clone + 'static>(
        &self,
        kind: &str,
        make: impl Fn(Vec<Wire<K2, V2>>) -> Wire<K, V> + Send + Sync + 'static,
    ) -> KStream<K2, V2> {
        let node = add_child(&self.at.topology, self.at.node, kind, move |children, _| {
            make(children)
        });
        KStream::at(self.at.topology.clone(), node).key_changed(self.at.key_changed)
    }

    /// Marks (or not) the stream's key as changed since it was partitioned.
    pub(crate) fn key_changed(mut self, changed: bool) -> Self {
        self.at.key_changed = changed;
        self
    }

    /// Whether the key may have changed since the records were partitioned.
    pub fn is_key_changed(&self) -> bool {
        self.at.key_changed
    }

    pub(crate) fn node(&self) -> &NodeRef<K, V> {
        &self.at
    }

    /// Records for which `predicate` holds.
    pub fn filter(
        &self,
        predicate: impl Fn(&K, &V) -> bool + Send + Sync + 'static,
    ) -> KStream<K, V> {
        let predicate = Arc::new(predicate);
        self.child("KSTREAM-FILTER", move |children| {
            let predicate = predicate.clone();
            Rc::new(move |ctx, record: Record<K, V>| {
                if predicate(&record.key, &record.value) {
                    forward(&children, ctx, record);
                }
            })
        })
    }

    /// Records for which `predicate` does not hold.
    pub fn filter_not(
        &self,
        predicate: impl Fn(&K, &V) -> bool + Send + Sync + 'static,
    ) -> KStream<K, V> {
        self.filter(move |k, v| !predicate(k, v))
    }

    /// Each record with a new key and value.
    pub fn map<K2: Clone + 'static, V2: Clone + 'static>(
        &self,
        mapper: impl Fn(&K, &V) -> (K2, V2) + Send + Sync + 'static,
    ) -> KStream<K2, V2> {
        let mapper = Arc::new(mapper);
        self.child("KSTREAM-MAP", move |children| {
            let mapper = mapper.clone();
            Rc::new(move |ctx, record: Record<K, V>| {
                let (key, value) = mapper(&record.key, &record.value);
                forward(&children, ctx, with(record, key, value));
            })
        })
        .key_changed(true)
    }

    /// Each record with a new value; the key stays.
    pub fn map_values<V2: Clone + 'static>(
        &self,
        mapper: impl Fn(&V) -> V2 + Send + Sync + 'static,
    ) -> KStream<K, V2> {
        self.map_values_with_key(move |_, v| mapper(v))
    }

    /// Each record with a new value computed from key and value (`ValueMapperWithKey`).
    pub fn map_values_with_key<V2: Clone + 'static>(
        &self,
        mapper: impl Fn(&K, &V) -> V2 + Send + Sync + 'static,
    ) -> KStream<K, V2> {
        let mapper = Arc::new(mapper);
        self.child("KSTREAM-MAPVALUES", move |children| {
            let mapper = mapper.clone();
            Rc::new(move |ctx, record: Record<K, V>| {
                let value = mapper(&record.key, &record.value);
                let key = record.key.clone();
                forward(&children, ctx, with(record, key, value));
            })
        })
    }

    /// Zero or more records for each record.
    pub fn flat_map<K2: Clone + 'static, V2: Clone + 'static>(
        &self,
        mapper: impl Fn(&K, &V) -> Vec<(K2, V2)> + Send + Sync + 'static,
    ) -> KStream<K2, V2> {
        let mapper = Arc::new(mapper);
        self.child("KSTREAM-FLATMAP", move |children| {
            let mapper = mapper.clone();
            Rc::new(move |ctx, record: Record<K, V>| {
                for (key, value) in mapper(&record.key, &record.value) {
                    let out = Record {
                        key,
                        value,
                        timestamp: record.timestamp,
                        headers: record.headers.clone(),
                    };
                    forward(&children, ctx, out);
                }
            })
        })
        .key_changed(true)
    }

    /// Zero or more values for each record, each with the record's key.
    pub fn flat_map_values<V2: Clone + 'static>(
        &self,
        mapper: impl Fn(&V) -> Vec<V2> + Send + Sync + 'static,
    ) -> KStream<K, V2> {
        self.flat_map(move |k, v| mapper(v).into_iter().map(|v2| (k.clone(), v2)).collect())
            .key_changed(self.at.key_changed)
    }

    /// Each record with a new key; the value stays (marks the stream for repartitioning
    /// before grouping, as in Kafka Streams).
    pub fn select_key<K2: Clone + 'static>(
        &self,
        selector: impl Fn(&K, &V) -> K2 + Send + Sync + 'static,
    ) -> KStream<K2, V> {
        let selector = Arc::new(selector);
        self.child("KSTREAM-KEY-SELECT", move |children| {
            let selector = selector.clone();
            Rc::new(move |ctx, record: Record<K, V>| {
                let key = selector(&record.key, &record.value);
                let value = record.value.clone();
                forward(&children, ctx, with(record, key, value));
            })
        })
        .key_changed(true)
    }

    /// Calls `action` for each record and passes the record on unchanged.
    pub fn peek(&self, action: impl Fn(&K, &V) + Send + Sync + 'static) -> KStream<K, V> {
        let action = Arc::new(action);
        self.child("KSTREAM-PEEK", move |children| {
            let action = action.clone();
            Rc::new(move |ctx, record: Record<K, V>| {
                action(&record.key, &record.value);
                forward(&children, ctx, record);
            })
        })
    }

    /// Calls `action` for each record (a terminal operation).
    pub fn foreach(&self, action: impl Fn(&K, &V) + Send + Sync + 'static) {
        self.peek(action);
    }

    /// This stream's and `other`'s records, in the order they are processed.
    pub fn merge(&self, other: &KStream<K, V>) -> KStream<K, V> {
        let merged = merge_nodes::<K, V>(
            &self.at.topology,
            self.at.node,
            other.at.node,
            "KSTREAM-MERGE",
        );
        let changed = self.at.key_changed || other.at.key_changed;
        KStream::at(self.at.topology.clone(), merged).key_changed(changed)
    }

    /// Writes the stream to an internal repartition topic (`<application.id>-<name>-repartition`)
    /// and reads it back, so that records are partitioned by their current key
    /// (Kafka Streams' `repartition(Repartitioned.as(name).with…Serde)`).
    pub fn repartition(&self, repartitioned: Repartitioned<K, V>) -> KStream<K, V> {
        self.repartition_through(
            repartitioned.name.as_deref(),
            "KSTREAM-REPARTITION",
            repartitioned.key_serde,
            repartitioned.value_serde,
        )
    }

    /// Writes to the internal topic `<name>-repartition` (named after a generated node name
    /// of kind `kind` without `name`) with these serdes and reads it back.
    pub(crate) fn repartition_through(
        &self,
        name: Option<&str>,
        kind: &str,
        key_serde: Arc<dyn crate::serdes::Serde<K>>,
        value_serde: Arc<dyn crate::serdes::Serde<V>>,
    ) -> KStream<K, V> {
        let topic = match name {
            Some(name) => format!("{name}-repartition"),
            None => format!(
                "{}-repartition",
                node_name(&self.at.topology.borrow(), kind)
            ),
        };
        let topic = topic.as_str();
        let produced = Produced {
            key_serde: key_serde.clone(),
            value_serde: value_serde.clone(),
        };
        let topic_name = topic.to_string();
        self.to_extracted(move |_, _| topic_name.clone(), produced);
        self.at
            .topology
            .borrow_mut()
            .internal_topics
            .push(topic.to_string());
        super::add_source(
            &self.at.topology,
            topic,
            super::Consumed::from_shared(key_serde, value_serde),
        )
    }

    /// Splits the stream by predicates (`split()`): each record goes to the first branch
    /// whose predicate holds. Branch names are `prefix` + the branch's name.
    pub fn split(&self, prefix: &str) -> BranchedKStream<K, V> {
        BranchedKStream {
            source: self.clone(),
            prefix: prefix.to_string(),
            branches: Vec::new(),
        }
    }

    /// Writes the stream to `topic`.
    pub fn to(&self, topic: &str, produced: Produced<K, V>) {
        let topic_name = topic.to_string();
        self.to_extracted(move |_, _| topic_name.clone(), produced);
        self.at
            .topology
            .borrow_mut()
            .sink_topics
            .push(topic.to_string());
    }

    /// Writes each record to the topic `extractor` names (a `TopicNameExtractor`).
    pub fn to_extracted(
        &self,
        extractor: impl Fn(&K, &V) -> String + Send + Sync + 'static,
        produced: Produced<K, V>,
    ) {
        let extractor = Arc::new(extractor);
        self.child::<K, V>("KSTREAM-SINK", move |_| {
            let extractor = extractor.clone();
            let produced = produced.clone();
            Rc::new(move |ctx: &mut ProcessorContext, record: Record<K, V>| {
                let topic = extractor(&record.key, &record.value);
                let key = produced.key_serde.serialize_nullable(&topic, &record.key);
                let value = produced
                    .value_serde
                    .serialize_nullable(&topic, &record.value);
                match key.and_then(|k| value.map(|v| (k, v))) {
                    Ok((key, value)) => ctx.output.push(RawRecord {
                        topic,
                        partition: -1,
                        offset: -1,
                        key,
                        value,
                        timestamp: record.timestamp,
                        headers: record.headers,
                    }),
                    Err(e) => {
                        ctx.fail(e);
                    }
                }
            })
        });
    }
}

/// Serdes and a name for [`KStream::repartition`] (Kafka Streams' `Repartitioned`).
pub struct Repartitioned<K, V> {
    name: Option<String>,
    key_serde: Arc<dyn crate::serdes::Serde<K>>,
    value_serde: Arc<dyn crate::serdes::Serde<V>>,
}

impl<K, V> Repartitioned<K, V> {
    /// Records written with these serdes.
    pub fn with(
        key_serde: impl crate::serdes::Serde<K> + 'static,
        value_serde: impl crate::serdes::Serde<V> + 'static,
    ) -> Self {
        Repartitioned {
            name: None,
            key_serde: Arc::new(key_serde),
            value_serde: Arc::new(value_serde),
        }
    }

    /// The topic's name: `<application.id>-<name>-repartition`.
    pub fn named(mut self, name: &str) -> Self {
        self.name = Some(name.to_string());
        self
    }
}

/// `record`'s timestamp and headers with a new key and value.
fn with<K, V, K2, V2>(record: Record<K, V>, key: K2, value: V2) -> Record<K2, V2> {
    Record {
        key,
        value,
        timestamp: record.timestamp,
        headers: record.headers,
    }
}

/// Predicate for a branch.
type Predicate<K, V> = Arc<dyn Fn(&K, &V) -> bool + Send + Sync>;

/// A stream being split into named branches (Kafka Streams' `BranchedKStream`).
pub struct BranchedKStream<K, V> {
    source: KStream<K, V>,
    prefix: String,
    branches: Vec<(String, Predicate<K, V>)>,
}

impl<K: Clone + 'static, V: Clone + 'static> BranchedKStream<K, V> {
    /// A branch named `name` for the records `predicate` accepts (and no earlier branch did).
    pub fn branch(
        mut self,
        name: &str,
        predicate: impl Fn(&K, &V) -> bool + Send + Sync + 'static,
    ) -> Self {
        self.branches.push((name.to_string(), Arc::new(predicate)));
        self
    }

    /// The branches, and `name` for the records no branch accepted.
    pub fn default_branch(self, name: &str) -> BTreeMap<String, KStream<K, V>> {
        self.finish(Some(name))
    }

    /// The branches; records no branch accepts are dropped.
    pub fn no_default_branch(self) -> BTreeMap<String, KStream<K, V>> {
        self.finish(None)
    }

    fn finish(self, default: Option<&str>) -> BTreeMap<String, KStream<K, V>> {
        let predicates: Vec<Predicate<K, V>> =
            self.branches.iter().map(|(_, p)| p.clone()).collect();
        let count = predicates.len();
        let has_default = default.is_some();
        // One routing node; its children are the branch nodes, in order (default last).
        let router = self
            .source
            .child::<K, V>("KSTREAM-BRANCH", move |children| {
                let predicates = predicates.clone();
                Rc::new(move |ctx, record: Record<K, V>| {
                    let chosen = predicates
                        .iter()
                        .position(|p| p(&record.key, &record.value))
                        .or(has_default.then_some(count));
                    if let Some(i) = chosen {
                        children[i](ctx, record);
                    }
                })
            });
        let mut out = BTreeMap::new();
        let names = self
            .branches
            .iter()
            .map(|(n, _)| n.clone())
            .chain(default.map(str::to_string));
        for name in names {
            let branch = router.child::<K, V>("KSTREAM-BRANCHCHILD", |children| {
                Rc::new(move |ctx, record: Record<K, V>| forward(&children, ctx, record))
            });
            out.insert(format!("{}{name}", self.prefix), branch);
        }
        out
    }
}
