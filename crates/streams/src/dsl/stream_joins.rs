//! Stream–stream joins within a time window (`KStream#join(KStream, ValueJoiner, JoinWindows)`
//! and its left and outer forms), with Kafka Streams' semantics:
//! - a record joins every record of the other side with the same key whose timestamp is
//!   within the window's time difference of its own; the result has the later timestamp;
//! - left and outer joins emit a record that found no partner only once its window has closed
//!   (its timestamp plus the difference plus the grace is behind the stream time), never
//!   early and then again joined (KIP-633);
//! - records arriving after their window closed are dropped and counted.
//!
//! Both sides' records are buffered for the window's length plus the grace. Given serdes
//! (`StreamJoined`, the `*_with` forms), each side's buffer is also kept in a state store —
//! `<name>-this-join-store` and `<name>-other-join-store`, changelogged like any store — and
//! reloaded from it after the task moves or restarts, as Kafka Streams' join window stores
//! are; without serdes the buffers are in memory only and start empty after a move.

use std::cell::RefCell;
use std::collections::VecDeque;
use std::rc::Rc;
use std::sync::Arc;

use super::{KStream, add_child, merge_nodes};
use crate::serdes::{Serde, SerdeError};
use crate::state::{StoreHandle, StoreOptions, lock};
use crate::topology::{ProcessorContext, Record, Wire, forward};

/// Serdes for a stream–stream join's buffers, and their stores' name (Kafka Streams'
/// `StreamJoined`): with them the buffers survive a task's move.
pub struct StreamJoined<K, V1, V2> {
    key_serde: Arc<dyn Serde<K>>,
    this_serde: Arc<dyn Serde<V1>>,
    other_serde: Arc<dyn Serde<V2>>,
    name: Option<String>,
}

impl<K, V1, V2> StreamJoined<K, V1, V2> {
    /// The join's key, this side's and the other side's value serdes.
    pub fn with(
        key_serde: impl Serde<K> + 'static,
        this_serde: impl Serde<V1> + 'static,
        other_serde: impl Serde<V2> + 'static,
    ) -> Self {
        StreamJoined {
            key_serde: Arc::new(key_serde),
            this_serde: Arc::new(this_serde),
            other_serde: Arc::new(other_serde),
            name: None,
        }
    }

    /// Names the stores `<name>-this-join-store` and `<name>-other-join-store`.
    pub fn with_store_name(mut self, name: &str) -> Self {
        self.name = Some(name.to_string());
        self
    }
}

/// One side's buffer as kept in its store: key bytes | timestamp (sign-flipped) | sequence →
/// joined flag | value bytes.
struct SideStore<K, V> {
    /// The store's name: the "topic" its serdes are called with.
    name: String,
    store: StoreHandle,
    key_serde: Arc<dyn Serde<K>>,
    value_serde: Arc<dyn Serde<V>>,
}

impl<K, V> SideStore<K, V> {
    fn store_key(&self, record: &Record<K, V>, seq: u64) -> Result<Vec<u8>, SerdeError> {
        let mut key = self.key_serde.serialize(&self.name, &record.key)?;
        key.extend_from_slice(&((record.timestamp as u64) ^ (1 << 63)).to_be_bytes());
        key.extend_from_slice(&seq.to_be_bytes());
        Ok(key)
    }

    fn write(&self, store_key: &[u8], joined: bool, value: &V) -> Result<(), SerdeError> {
        let mut bytes = vec![u8::from(joined)];
        bytes.extend_from_slice(&self.value_serde.serialize(&self.name, value)?);
        lock(&self.store).put(store_key.to_vec(), bytes);
        Ok(())
    }

    fn remove(&self, store_key: &[u8]) {
        lock(&self.store).delete(store_key);
    }

    /// The buffered records (restored from the changelog), oldest first, and the next
    /// sequence number.
    fn load(&self) -> Result<(Vec<Buffered<K, V>>, u64), SerdeError> {
        let name = &self.name;
        let store = lock(&self.store);
        let mut found = Vec::new();
        let mut next = 0;
        for (store_key, bytes) in store.all() {
            let Some(key_len) = store_key.len().checked_sub(16) else {
                continue;
            };
            let at = |i: usize| u64::from_be_bytes(store_key[i..i + 8].try_into().expect("8"));
            let timestamp = (at(key_len) ^ (1 << 63)) as i64;
            let seq = at(key_len + 8);
            next = next.max(seq + 1);
            let (joined, value) = bytes.split_first().unwrap_or((&0, &[]));
            found.push((
                timestamp,
                seq,
                Buffered {
                    record: Record {
                        key: self.key_serde.deserialize(name, &store_key[..key_len])?,
                        value: self.value_serde.deserialize(name, value)?,
                        timestamp,
                        headers: Vec::new(),
                    },
                    joined: *joined != 0,
                    store_key: Some(store_key.to_vec()),
                },
            ));
        }
        found.sort_by_key(|(ts, seq, _)| (*ts, *seq));
        Ok((found.into_iter().map(|(_, _, b)| b).collect(), next))
    }
}

/// The window of a stream–stream join (Kafka Streams' `JoinWindows`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct JoinWindows {
    /// How far apart two records' timestamps may be.
    pub difference_ms: i64,
    /// How long after its window a record may still arrive.
    pub grace_ms: i64,
}

impl JoinWindows {
    /// Records at most `difference_ms` apart join; late records are dropped at once.
    pub fn of_time_difference_with_no_grace(difference_ms: i64) -> Self {
        Self::of_time_difference_and_grace(difference_ms, 0)
    }

    /// Records at most `difference_ms` apart join; records may be `grace_ms` late.
    pub fn of_time_difference_and_grace(difference_ms: i64, grace_ms: i64) -> Self {
        assert!(
            difference_ms >= 0,
            "the time difference must not be negative"
        );
        assert!(grace_ms >= 0, "grace must not be negative");
        JoinWindows {
            difference_ms,
            grace_ms,
        }
    }
}

/// A buffered record of one side: whether it has found a partner yet, and its key in the
/// side's store (when the buffers are kept in stores).
struct Buffered<K, V> {
    record: Record<K, V>,
    joined: bool,
    store_key: Option<Vec<u8>>,
}

/// A record arriving on one side of the join.
enum Arrival<K, V1, V2> {
    This(Record<K, V1>),
    Other(Record<K, V2>),
}

/// Both sides' buffers and the stream time, shared by the task's two join processors.
struct JoinState<K, V1, V2> {
    this: VecDeque<Buffered<K, V1>>,
    other: VecDeque<Buffered<K, V2>>,
    stream_time: i64,
    /// The sides' stores, when the join has serdes; loaded into the buffers at the first
    /// record (after the runtime restored them).
    stores: Option<(SideStore<K, V1>, SideStore<K, V2>)>,
    loaded: bool,
    next_seq: u64,
}

/// The joiner of a left or outer join: one side may be missing.
type OuterJoiner<V1, V2, VR> = Arc<dyn Fn(Option<&V1>, Option<&V2>) -> VR + Send + Sync>;

impl<K: Clone + PartialEq + 'static, V: Clone + 'static> KStream<K, V> {
    /// Records of both streams with the same key within `windows` of each other, joined.
    pub fn join_stream<V2: Clone + 'static, VR: Clone + 'static>(
        &self,
        other: &KStream<K, V2>,
        joiner: impl Fn(&V, &V2) -> VR + Send + Sync + 'static,
        windows: JoinWindows,
    ) -> KStream<K, VR> {
        let joiner: OuterJoiner<V, V2, VR> = Arc::new(move |a, b| match (a, b) {
            (Some(a), Some(b)) => joiner(a, b),
            _ => unreachable!("an inner join only joins pairs"),
        });
        self.windowed_join(other, joiner, windows, false, false, None)
    }

    /// [`KStream::join_stream`] with its buffers kept in changelogged stores.
    pub fn join_stream_with<V2: Clone + 'static, VR: Clone + 'static>(
        &self,
        other: &KStream<K, V2>,
        joiner: impl Fn(&V, &V2) -> VR + Send + Sync + 'static,
        windows: JoinWindows,
        joined: StreamJoined<K, V, V2>,
    ) -> KStream<K, VR> {
        let joiner: OuterJoiner<V, V2, VR> = Arc::new(move |a, b| match (a, b) {
            (Some(a), Some(b)) => joiner(a, b),
            _ => unreachable!("an inner join only joins pairs"),
        });
        self.windowed_join(other, joiner, windows, false, false, Some(joined))
    }

    /// As [`KStream::join_stream`], and each record of this stream that found no partner once
    /// its window closed, joined with `None`.
    pub fn left_join_stream<V2: Clone + 'static, VR: Clone + 'static>(
        &self,
        other: &KStream<K, V2>,
        joiner: impl Fn(&V, Option<&V2>) -> VR + Send + Sync + 'static,
        windows: JoinWindows,
    ) -> KStream<K, VR> {
        let joiner: OuterJoiner<V, V2, VR> =
            Arc::new(move |a, b| joiner(a.expect("a left join always has the left value"), b));
        self.windowed_join(other, joiner, windows, true, false, None)
    }

    /// [`KStream::left_join_stream`] with its buffers kept in changelogged stores.
    pub fn left_join_stream_with<V2: Clone + 'static, VR: Clone + 'static>(
        &self,
        other: &KStream<K, V2>,
        joiner: impl Fn(&V, Option<&V2>) -> VR + Send + Sync + 'static,
        windows: JoinWindows,
        joined: StreamJoined<K, V, V2>,
    ) -> KStream<K, VR> {
        let joiner: OuterJoiner<V, V2, VR> =
            Arc::new(move |a, b| joiner(a.expect("a left join always has the left value"), b));
        self.windowed_join(other, joiner, windows, true, false, Some(joined))
    }

    /// As [`KStream::left_join_stream`], and the other stream's unpartnered records too.
    pub fn outer_join_stream<V2: Clone + 'static, VR: Clone + 'static>(
        &self,
        other: &KStream<K, V2>,
        joiner: impl Fn(Option<&V>, Option<&V2>) -> VR + Send + Sync + 'static,
        windows: JoinWindows,
    ) -> KStream<K, VR> {
        self.windowed_join(other, Arc::new(joiner), windows, true, true, None)
    }

    /// [`KStream::outer_join_stream`] with its buffers kept in changelogged stores.
    pub fn outer_join_stream_with<V2: Clone + 'static, VR: Clone + 'static>(
        &self,
        other: &KStream<K, V2>,
        joiner: impl Fn(Option<&V>, Option<&V2>) -> VR + Send + Sync + 'static,
        windows: JoinWindows,
        joined: StreamJoined<K, V, V2>,
    ) -> KStream<K, VR> {
        self.windowed_join(other, Arc::new(joiner), windows, true, true, Some(joined))
    }

    fn windowed_join<V2: Clone + 'static, VR: Clone + 'static>(
        &self,
        other: &KStream<K, V2>,
        joiner: OuterJoiner<V, V2, VR>,
        windows: JoinWindows,
        emit_this_alone: bool,
        emit_other_alone: bool,
        joined: Option<StreamJoined<K, V, V2>>,
    ) -> KStream<K, VR> {
        let topology = self.node().topology.clone();
        let state_name = format!("KSTREAM-JOIN-STATE-{:010}", topology.borrow().nodes.len());
        if self.is_key_changed() || other.is_key_changed() {
            topology
                .borrow_mut()
                .unpartitioned_joins
                .push(format!("the stream–stream join {state_name}"));
        }
        // With serdes, each side's buffer is a store too: (this store, other store, serdes).
        let stores = joined.map(|joined| {
            let base = joined.name.clone().unwrap_or_else(|| state_name.clone());
            let names = (
                format!("{base}-this-join-store"),
                format!("{base}-other-join-store"),
            );
            let options = StoreOptions {
                caching: false,
                ..StoreOptions::default()
            };
            let mut t = topology.borrow_mut();
            t.add_store(&names.0, options);
            t.add_store(&names.1, options);
            Arc::new((names, joined))
        });
        let make_state = {
            let stores = stores.clone();
            move |wiring: &mut crate::topology::Wiring<'_>| {
                let sides = stores.as_ref().map(|named| {
                    let ((this, other), joined) = (&named.0, &named.1);
                    (
                        SideStore {
                            name: this.clone(),
                            store: wiring.store(this),
                            key_serde: joined.key_serde.clone(),
                            value_serde: joined.this_serde.clone(),
                        },
                        SideStore {
                            name: other.clone(),
                            store: wiring.store(other),
                            key_serde: joined.key_serde.clone(),
                            value_serde: joined.other_serde.clone(),
                        },
                    )
                });
                move || new_state::<K, V, V2>(sides)
            }
        };
        let make_state = Arc::new(make_state);
        let this_side = {
            let (name, joiner, make_state) =
                (state_name.clone(), joiner.clone(), make_state.clone());
            add_child::<K, V, K, VR>(
                &topology,
                self.node().node,
                "KSTREAM-JOINTHIS",
                move |children, wiring| {
                    let make = make_state(wiring);
                    let state = wiring.shared(&name, make);
                    let joiner = joiner.clone();
                    Rc::new(move |ctx, record: Record<K, V>| {
                        let mut state = state.borrow_mut();
                        state.arrive(
                            ctx,
                            &children,
                            Arrival::This(record),
                            windows,
                            &joiner,
                            [emit_this_alone, emit_other_alone],
                        );
                    })
                },
            )
        };
        let other_side = {
            let (name, joiner, make_state) =
                (state_name.clone(), joiner.clone(), make_state.clone());
            add_child::<K, V2, K, VR>(
                &topology,
                other.node().node,
                "KSTREAM-JOINOTHER",
                move |children, wiring| {
                    let make = make_state(wiring);
                    let state = wiring.shared(&name, make);
                    let joiner = joiner.clone();
                    Rc::new(move |ctx, record: Record<K, V2>| {
                        let mut state = state.borrow_mut();
                        state.arrive(
                            ctx,
                            &children,
                            Arrival::Other(record),
                            windows,
                            &joiner,
                            [emit_this_alone, emit_other_alone],
                        );
                    })
                },
            )
        };
        // Both sides forward into one merge node: the join's output.
        let out = merge_nodes::<K, VR>(&topology, this_side, other_side, "KSTREAM-MERGE");
        KStream::at(topology, out).key_changed(self.is_key_changed() || other.is_key_changed())
    }
}

fn new_state<K, V1, V2>(
    stores: Option<(SideStore<K, V1>, SideStore<K, V2>)>,
) -> Rc<RefCell<JoinState<K, V1, V2>>> {
    Rc::new(RefCell::new(JoinState {
        this: VecDeque::new(),
        other: VecDeque::new(),
        stream_time: i64::MIN,
        loaded: stores.is_none(),
        stores,
        next_seq: 0,
    }))
}

impl<K: Clone + PartialEq, V1: Clone, V2: Clone> JoinState<K, V1, V2> {
    /// A record of either side: joined with the other side's partners, buffered, and then
    /// closed windows expired.
    fn arrive<VR: Clone>(
        &mut self,
        ctx: &mut ProcessorContext,
        children: &[Wire<K, VR>],
        arrival: Arrival<K, V1, V2>,
        windows: JoinWindows,
        joiner: &OuterJoiner<V1, V2, VR>,
        alone: [bool; 2],
    ) {
        if !self.loaded {
            if let Err(e) = self.load() {
                return ctx.fail(e);
            }
        }
        let timestamp = match &arrival {
            Arrival::This(r) => r.timestamp,
            Arrival::Other(r) => r.timestamp,
        };
        if !self.admit(ctx, timestamp, windows) {
            return;
        }
        let seq = self.next_seq;
        self.next_seq += 1;
        let kept = match arrival {
            Arrival::This(record) => {
                let (joined, flipped) =
                    pair_up(ctx, children, &record, &mut self.other, windows, |m, t| {
                        joiner(Some(m), Some(t))
                    });
                let side = self.stores.as_ref().map(|(this, _)| this);
                let stored = persist(side, &record, joined, seq).and_then(|key| {
                    rewrite(self.stores.as_ref().map(|(_, o)| o), &self.other, &flipped)?;
                    Ok(key)
                });
                stored.map(|store_key| {
                    self.this.push_back(Buffered {
                        record,
                        joined,
                        store_key,
                    });
                })
            }
            Arrival::Other(record) => {
                let (joined, flipped) =
                    pair_up(ctx, children, &record, &mut self.this, windows, |m, t| {
                        joiner(Some(t), Some(m))
                    });
                let side = self.stores.as_ref().map(|(_, other)| other);
                let stored = persist(side, &record, joined, seq).and_then(|key| {
                    rewrite(self.stores.as_ref().map(|(t, _)| t), &self.this, &flipped)?;
                    Ok(key)
                });
                stored.map(|store_key| {
                    self.other.push_back(Buffered {
                        record,
                        joined,
                        store_key,
                    });
                })
            }
        };
        if let Err(e) = kept {
            return ctx.fail(e);
        }
        self.expire(ctx, children, windows, joiner, alone);
    }

    /// Fills the buffers from the stores (once, after the runtime restored them).
    fn load(&mut self) -> Result<(), SerdeError> {
        self.loaded = true;
        if let Some((this, other)) = &self.stores {
            let (this_buffered, this_next) = this.load()?;
            let (other_buffered, other_next) = other.load()?;
            self.this = this_buffered.into();
            self.other = other_buffered.into();
            self.next_seq = this_next.max(other_next);
        }
        Ok(())
    }

    /// Moves the stream time; `false` (and counted as dropped) when the record's window has
    /// already closed.
    fn admit(&mut self, ctx: &mut ProcessorContext, timestamp: i64, windows: JoinWindows) -> bool {
        self.stream_time = self.stream_time.max(timestamp);
        let closes = timestamp
            .saturating_add(windows.difference_ms)
            .saturating_add(windows.grace_ms);
        if closes < self.stream_time {
            ctx.dropped_records += 1;
            return false;
        }
        true
    }

    /// Forgets records whose window closed, emitting the unpartnered ones of an outer side.
    fn expire<VR: Clone>(
        &mut self,
        ctx: &mut ProcessorContext,
        children: &[Wire<K, VR>],
        windows: JoinWindows,
        joiner: &OuterJoiner<V1, V2, VR>,
        [this_alone, other_alone]: [bool; 2],
    ) {
        let now = self.stream_time;
        let closed = |ts: i64| {
            ts.saturating_add(windows.difference_ms)
                .saturating_add(windows.grace_ms)
                < now
        };
        // Buffers are in arrival order; expire every closed record, wherever it is.
        let (this_store, other_store) = match &self.stores {
            Some((this, other)) => (Some(this), Some(other)),
            None => (None, None),
        };
        let mut kept = VecDeque::with_capacity(self.this.len());
        for b in self.this.drain(..) {
            if closed(b.record.timestamp) {
                if let (Some(store), Some(key)) = (this_store, &b.store_key) {
                    store.remove(key);
                }
                if this_alone && !b.joined {
                    let value = joiner(Some(&b.record.value), None);
                    emit(ctx, children, &b.record.key, value, b.record.timestamp);
                }
            } else {
                kept.push_back(b);
            }
        }
        self.this = kept;
        let mut kept = VecDeque::with_capacity(self.other.len());
        for b in self.other.drain(..) {
            if closed(b.record.timestamp) {
                if let (Some(store), Some(key)) = (other_store, &b.store_key) {
                    store.remove(key);
                }
                if other_alone && !b.joined {
                    let value = joiner(None, Some(&b.record.value));
                    emit(ctx, children, &b.record.key, value, b.record.timestamp);
                }
            } else {
                kept.push_back(b);
            }
        }
        self.other = kept;
    }
}

/// Keeps `record` in its side's store (when there is one); its store key.
fn persist<K, V>(
    side: Option<&SideStore<K, V>>,
    record: &Record<K, V>,
    joined: bool,
    seq: u64,
) -> Result<Option<Vec<u8>>, SerdeError> {
    let Some(side) = side else { return Ok(None) };
    let key = side.store_key(record, seq)?;
    side.write(&key, joined, &record.value)?;
    Ok(Some(key))
}

/// Writes the partners at `flipped` again, now partnered.
fn rewrite<K, V>(
    side: Option<&SideStore<K, V>>,
    buffer: &VecDeque<Buffered<K, V>>,
    flipped: &[usize],
) -> Result<(), SerdeError> {
    let Some(side) = side else { return Ok(()) };
    for &i in flipped {
        let b = &buffer[i];
        if let Some(key) = &b.store_key {
            side.write(key, true, &b.record.value)?;
        }
    }
    Ok(())
}

/// Joins `record` with every buffered partner of the other side with its key within the
/// window (marking them partnered); whether it found one, and which partners were not
/// partnered before.
fn pair_up<K: PartialEq + Clone, VM, VT, VR: Clone>(
    ctx: &mut ProcessorContext,
    children: &[Wire<K, VR>],
    record: &Record<K, VM>,
    partners: &mut VecDeque<Buffered<K, VT>>,
    windows: JoinWindows,
    join: impl Fn(&VM, &VT) -> VR,
) -> (bool, Vec<usize>) {
    let mut joined = false;
    let mut flipped = Vec::new();
    for (i, partner) in partners.iter_mut().enumerate() {
        if partner.record.key == record.key
            && (partner.record.timestamp - record.timestamp).abs() <= windows.difference_ms
        {
            joined = true;
            if !partner.joined {
                flipped.push(i);
            }
            partner.joined = true;
            let value = join(&record.value, &partner.record.value);
            let at = record.timestamp.max(partner.record.timestamp);
            emit(ctx, children, &record.key, value, at);
        }
    }
    (joined, flipped)
}

fn emit<K: Clone, VR: Clone>(
    ctx: &mut ProcessorContext,
    children: &[Wire<K, VR>],
    key: &K,
    value: VR,
    timestamp: i64,
) {
    let record = Record {
        key: key.clone(),
        value,
        timestamp,
        headers: Vec::new(),
    };
    forward(children, ctx, record);
}
