//! Stream–stream joins within a time window (`KStream#join(KStream, ValueJoiner, JoinWindows)`
//! and its left and outer forms), with Kafka Streams' semantics:
//! - a record joins every record of the other side with the same key whose timestamp is
//!   within the window's time difference of its own; the result has the later timestamp;
//! - left and outer joins emit a record that found no partner only once its window has closed
//!   (its timestamp plus the difference plus the grace is behind the stream time), never
//!   early and then again joined (KIP-633);
//! - records arriving after their window closed are dropped and counted.
//!
//! Both sides' records are buffered in memory for the window's length plus the grace.

use std::cell::RefCell;
use std::collections::VecDeque;
use std::rc::Rc;
use std::sync::Arc;

use super::{KStream, add_child, merge_nodes};
use crate::topology::{ProcessorContext, Record, Wire, forward};

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

/// A buffered record of one side: whether it has found a partner yet.
struct Buffered<K, V> {
    record: Record<K, V>,
    joined: bool,
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
        self.windowed_join(other, joiner, windows, false, false)
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
        self.windowed_join(other, joiner, windows, true, false)
    }

    /// As [`KStream::left_join_stream`], and the other stream's unpartnered records too.
    pub fn outer_join_stream<V2: Clone + 'static, VR: Clone + 'static>(
        &self,
        other: &KStream<K, V2>,
        joiner: impl Fn(Option<&V>, Option<&V2>) -> VR + Send + Sync + 'static,
        windows: JoinWindows,
    ) -> KStream<K, VR> {
        self.windowed_join(other, Arc::new(joiner), windows, true, true)
    }

    fn windowed_join<V2: Clone + 'static, VR: Clone + 'static>(
        &self,
        other: &KStream<K, V2>,
        joiner: OuterJoiner<V, V2, VR>,
        windows: JoinWindows,
        emit_this_alone: bool,
        emit_other_alone: bool,
    ) -> KStream<K, VR> {
        let topology = self.node().topology.clone();
        let state_name = format!("KSTREAM-JOIN-STATE-{:010}", topology.borrow().nodes.len());
        let this_side = {
            let (name, joiner) = (state_name.clone(), joiner.clone());
            add_child::<K, V, K, VR>(
                &topology,
                self.node().node,
                "KSTREAM-JOINTHIS",
                move |children, wiring| {
                    let state = wiring.shared(&name, new_state::<K, V, V2>);
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
            let (name, joiner) = (state_name.clone(), joiner.clone());
            add_child::<K, V2, K, VR>(
                &topology,
                other.node().node,
                "KSTREAM-JOINOTHER",
                move |children, wiring| {
                    let state = wiring.shared(&name, new_state::<K, V, V2>);
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

fn new_state<K, V1, V2>() -> Rc<RefCell<JoinState<K, V1, V2>>> {
    Rc::new(RefCell::new(JoinState {
        this: VecDeque::new(),
        other: VecDeque::new(),
        stream_time: i64::MIN,
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
        let timestamp = match &arrival {
            Arrival::This(r) => r.timestamp,
            Arrival::Other(r) => r.timestamp,
        };
        if !self.admit(ctx, timestamp, windows) {
            return;
        }
        match arrival {
            Arrival::This(record) => {
                let joined = pair_up(ctx, children, &record, &mut self.other, windows, |m, t| {
                    joiner(Some(m), Some(t))
                });
                self.this.push_back(Buffered { record, joined });
            }
            Arrival::Other(record) => {
                let joined = pair_up(ctx, children, &record, &mut self.this, windows, |m, t| {
                    joiner(Some(t), Some(m))
                });
                self.other.push_back(Buffered { record, joined });
            }
        }
        self.expire(ctx, children, windows, joiner, alone);
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
        let mut kept = VecDeque::with_capacity(self.this.len());
        for b in self.this.drain(..) {
            if closed(b.record.timestamp) {
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

/// Joins `record` with every buffered partner of the other side with its key within the
/// window (marking them partnered); whether it found one.
fn pair_up<K: PartialEq + Clone, VM, VT, VR: Clone>(
    ctx: &mut ProcessorContext,
    children: &[Wire<K, VR>],
    record: &Record<K, VM>,
    partners: &mut VecDeque<Buffered<K, VT>>,
    windows: JoinWindows,
    join: impl Fn(&VM, &VT) -> VR,
) -> bool {
    let mut joined = false;
    for partner in partners.iter_mut() {
        if partner.record.key == record.key
            && (partner.record.timestamp - record.timestamp).abs() <= windows.difference_ms
        {
            joined = true;
            partner.joined = true;
            let value = join(&record.value, &partner.record.value);
            let at = record.timestamp.max(partner.record.timestamp);
            emit(ctx, children, &record.key, value, at);
        }
    }
    joined
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
