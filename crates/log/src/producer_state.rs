//! Idempotent-producer state of one partition: per producer id, its epoch and the sequence
//! ranges of its last five batches, so that a retried batch is recognised and answered with its
//! original offsets instead of being written twice (Kafka's `ProducerStateManager`).
//!
//! It also knows each producer's open transaction: the offset of its first transactional
//! batch in this partition until the COMMIT or ABORT marker arrives. The smallest of those is
//! the partition's first unstable offset, which bounds the last stable offset (LSO) that
//! read_committed consumers may read up to.
//!
//! Rebuilt from batch headers when the log opens; owned by the log's state lock.

use std::collections::{BTreeMap, HashMap, VecDeque};

/// Batches remembered per producer, like Kafka (max.in.flight.requests.per.connection ≤ 5).
pub const RETAINED_BATCHES: usize = 5;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct BatchRange {
    first_seq: i32,
    last_seq: i32,
    base_offset: i64,
    last_offset: i64,
}

#[derive(Debug, Default)]
struct ProducerEntry {
    epoch: i16,
    batches: VecDeque<BatchRange>,
    /// Offset of the first batch of the producer's open transaction here.
    open_txn: Option<i64>,
    /// Append time (ms) of the producer's newest batch or marker.
    last_timestamp: i64,
}

/// A transaction that a marker closed in this partition.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CompletedTxn {
    /// Offset of the transaction's first batch here.
    pub first_offset: i64,
    /// The partition's last stable offset once it is closed: the first offset of the oldest
    /// transaction still open, or the offset after the marker.
    pub last_stable_offset: i64,
}

/// One producer as DescribeProducers shows it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ProducerSnapshot {
    /// Producer id.
    pub producer_id: i64,
    /// Its current epoch.
    pub epoch: i16,
    /// Sequence of its last record, or -1.
    pub last_sequence: i32,
    /// Timestamp of its newest batch, or -1.
    pub last_timestamp: i64,
    /// Offset where its open transaction starts, or -1.
    pub open_txn_start_offset: i64,
}

/// What to do with an idempotent batch.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SequenceVerdict {
    /// New and in sequence: write it.
    Append,
    /// Already written: answer with these offsets and write nothing.
    Duplicate {
        /// Offset of its first record.
        base_offset: i64,
        /// Offset of its last record.
        last_offset: i64,
    },
}

/// Why an idempotent batch is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SequenceError {
    /// The epoch is older than the producer's current one (Kafka: INVALID_PRODUCER_EPOCH).
    StaleEpoch {
        /// The batch's epoch.
        epoch: i16,
        /// The current epoch.
        current: i16,
    },
    /// The sequence does not follow the last one (Kafka: OUT_OF_ORDER_SEQUENCE_NUMBER).
    OutOfOrder {
        /// The sequence expected next.
        expected: i32,
        /// The batch's first sequence.
        got: i32,
    },
}

/// The last sequence of a batch, wrapping at `i32::MAX` as Kafka does.
pub fn last_sequence(first_seq: i32, last_offset_delta: i32) -> i32 {
    if first_seq > i32::MAX - last_offset_delta {
        first_seq - (i32::MAX - last_offset_delta) - 1
    } else {
        first_seq + last_offset_delta
    }
}

fn follows(last: i32, next: i32) -> bool {
    next == if last == i32::MAX { 0 } else { last + 1 }
}

/// Producer state of one partition.
#[derive(Debug, Default)]
pub struct ProducerState {
    producers: HashMap<i64, ProducerEntry>,
    /// Open transactions: first offset → producer id.
    open_txns: BTreeMap<i64, i64>,
}

impl ProducerState {
    /// Judges a batch from `producer_id` without changing anything.
    pub fn check(
        &self,
        producer_id: i64,
        epoch: i16,
        first_seq: i32,
        last_seq: i32,
    ) -> Result<SequenceVerdict, SequenceError> {
        let Some(entry) = self.producers.get(&producer_id) else {
            // Unknown producers (new, or whose state was lost) may start anywhere, as in Kafka
            // since KIP-360.
            return Ok(SequenceVerdict::Append);
        };
        if epoch < entry.epoch {
            return Err(SequenceError::StaleEpoch {
                epoch,
                current: entry.epoch,
            });
        }
        if epoch > entry.epoch {
            return if first_seq == 0 {
                Ok(SequenceVerdict::Append)
            } else {
                Err(SequenceError::OutOfOrder {
                    expected: 0,
                    got: first_seq,
                })
            };
        }
        if let Some(done) = entry
            .batches
            .iter()
            .find(|b| b.first_seq == first_seq && b.last_seq == last_seq)
        {
            return Ok(SequenceVerdict::Duplicate {
                base_offset: done.base_offset,
                last_offset: done.last_offset,
            });
        }
        match entry.batches.back() {
            Some(last) if !follows(last.last_seq, first_seq) => Err(SequenceError::OutOfOrder {
                expected: if last.last_seq == i32::MAX {
                    0
                } else {
                    last.last_seq + 1
                },
                got: first_seq,
            }),
            _ => Ok(SequenceVerdict::Append),
        }
    }

    /// Records a written batch.
    pub fn update(
        &mut self,
        producer_id: i64,
        epoch: i16,
        first_seq: i32,
        last_seq: i32,
        base_offset: i64,
        last_offset: i64,
    ) {
        let entry = self.producers.entry(producer_id).or_default();
        if epoch != entry.epoch {
            entry.epoch = epoch;
            entry.batches.clear();
        }
        entry.batches.push_back(BatchRange {
            first_seq,
            last_seq,
            base_offset,
            last_offset,
        });
        while entry.batches.len() > RETAINED_BATCHES {
            entry.batches.pop_front();
        }
    }

    /// Records a written transactional batch: the first one opens the producer's transaction
    /// at `base_offset`.
    pub fn track_transactional(&mut self, producer_id: i64, base_offset: i64, timestamp: i64) {
        let entry = self.producers.entry(producer_id).or_default();
        entry.last_timestamp = timestamp;
        if entry.open_txn.is_none() {
            entry.open_txn = Some(base_offset);
            self.open_txns.insert(base_offset, producer_id);
        }
    }

    /// Whether a marker from `producer_id` at `epoch` may be written: not from an older epoch
    /// than the producer's batches (Kafka: INVALID_PRODUCER_EPOCH).
    pub fn check_marker(&self, producer_id: i64, epoch: i16) -> Result<(), SequenceError> {
        match self.producers.get(&producer_id) {
            Some(entry) if epoch < entry.epoch => Err(SequenceError::StaleEpoch {
                epoch,
                current: entry.epoch,
            }),
            _ => Ok(()),
        }
    }

    /// Records a written COMMIT or ABORT marker at `marker_offset`: closes the producer's open
    /// transaction (if it has one here) and adopts the marker's epoch, which is bumped when
    /// the coordinator fenced the producer. Returns the closed transaction.
    pub fn complete_txn(
        &mut self,
        producer_id: i64,
        epoch: i16,
        marker_offset: i64,
        timestamp: i64,
    ) -> Option<CompletedTxn> {
        let entry = self.producers.entry(producer_id).or_default();
        if epoch > entry.epoch {
            entry.epoch = epoch;
            entry.batches.clear();
        }
        entry.last_timestamp = timestamp;
        let first_offset = entry.open_txn.take()?;
        self.open_txns.remove(&first_offset);
        let last_stable_offset = self.first_unstable_offset().unwrap_or(marker_offset + 1);
        Some(CompletedTxn {
            first_offset,
            last_stable_offset,
        })
    }

    /// The first offset of the oldest open transaction.
    pub fn first_unstable_offset(&self) -> Option<i64> {
        self.open_txns.keys().next().copied()
    }

    /// Whether `producer_id` has an open transaction in this partition.
    pub fn has_open_txn(&self, producer_id: i64) -> bool {
        self.producers
            .get(&producer_id)
            .is_some_and(|entry| entry.open_txn.is_some())
    }

    /// Every producer, for DescribeProducers.
    pub fn snapshot(&self) -> Vec<ProducerSnapshot> {
        let mut all: Vec<ProducerSnapshot> = self
            .producers
            .iter()
            .map(|(&producer_id, entry)| ProducerSnapshot {
                producer_id,
                epoch: entry.epoch,
                last_sequence: entry.batches.back().map_or(-1, |b| b.last_seq),
                last_timestamp: if entry.last_timestamp > 0 {
                    entry.last_timestamp
                } else {
                    -1
                },
                open_txn_start_offset: entry.open_txn.unwrap_or(-1),
            })
            .collect();
        all.sort_by_key(|p| p.producer_id);
        all
    }

    /// The last offset of each producer's newest batch: the batches compaction must keep (at
    /// least as empty batches) so that the producer state survives a rebuild from the log.
    pub fn last_batch_offsets(&self) -> std::collections::HashSet<i64> {
        self.producers
            .values()
            .filter_map(|entry| entry.batches.back().map(|b| b.last_offset))
            .collect()
    }

    /// Number of producers tracked.
    pub fn len(&self) -> usize {
        self.producers.len()
    }

    /// No producer tracked.
    pub fn is_empty(&self) -> bool {
        self.producers.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn duplicates_out_of_order_and_epochs() {
        let mut state = ProducerState::default();
        assert_eq!(state.check(7, 0, 0, 4), Ok(SequenceVerdict::Append));
        state.update(7, 0, 0, 4, 100, 104);
        assert_eq!(state.check(7, 0, 5, 9), Ok(SequenceVerdict::Append));
        state.update(7, 0, 5, 9, 105, 109);
        // A retry of either retained batch gets its original offsets.
        assert_eq!(
            state.check(7, 0, 0, 4),
            Ok(SequenceVerdict::Duplicate {
                base_offset: 100,
                last_offset: 104
            })
        );
        assert_eq!(
            state.check(7, 0, 5, 9),
            Ok(SequenceVerdict::Duplicate {
                base_offset: 105,
                last_offset: 109
            })
        );
        // A gap is refused.
        assert_eq!(
            state.check(7, 0, 12, 13),
            Err(SequenceError::OutOfOrder {
                expected: 10,
                got: 12
            })
        );
        // A bumped epoch must restart at 0; an older epoch is fenced.
        assert_eq!(
            state.check(7, 1, 3, 3),
            Err(SequenceError::OutOfOrder {
                expected: 0,
                got: 3
            })
        );
        assert_eq!(state.check(7, 1, 0, 0), Ok(SequenceVerdict::Append));
        state.update(7, 1, 0, 0, 110, 110);
        assert_eq!(
            state.check(7, 0, 10, 10),
            Err(SequenceError::StaleEpoch {
                epoch: 0,
                current: 1
            })
        );
        // Only the last five batches are remembered.
        for i in 1..=6 {
            state.update(7, 1, i, i, 110 + i64::from(i), 110 + i64::from(i));
        }
        assert_eq!(
            state.check(7, 1, 1, 1),
            Err(SequenceError::OutOfOrder {
                expected: 7,
                got: 1
            })
        );
        assert_eq!(
            state.check(7, 1, 2, 2),
            Ok(SequenceVerdict::Duplicate {
                base_offset: 112,
                last_offset: 112
            })
        );
        assert_eq!(state.len(), 1);
    }

    #[test]
    fn open_transactions_bound_the_stable_offset() {
        let mut state = ProducerState::default();
        assert_eq!(state.first_unstable_offset(), None);
        state.track_transactional(1, 10, 0);
        state.track_transactional(2, 12, 0);
        state.track_transactional(1, 14, 0); // a later batch of the same transaction
        assert_eq!(state.first_unstable_offset(), Some(10));
        assert!(state.has_open_txn(1));
        // Producer 1 aborts at 15: producer 2's transaction (from 12) still holds the LSO.
        assert_eq!(
            state.complete_txn(1, 0, 15, 0),
            Some(CompletedTxn {
                first_offset: 10,
                last_stable_offset: 12
            })
        );
        assert!(!state.has_open_txn(1));
        // Producer 2 commits at 16 with a bumped (fencing) epoch: nothing is open after it.
        assert_eq!(
            state.complete_txn(2, 3, 16, 0),
            Some(CompletedTxn {
                first_offset: 12,
                last_stable_offset: 17
            })
        );
        assert_eq!(state.first_unstable_offset(), None);
        assert_eq!(
            state.check_marker(2, 2),
            Err(SequenceError::StaleEpoch {
                epoch: 2,
                current: 3
            })
        );
        assert_eq!(
            state.check(2, 2, 0, 0).unwrap_err(),
            SequenceError::StaleEpoch {
                epoch: 2,
                current: 3
            }
        );
        // A marker for a producer without an open transaction closes nothing.
        assert_eq!(state.complete_txn(9, 0, 20, 0), None);
    }

    #[test]
    fn sequences_wrap_at_i32_max() {
        assert_eq!(last_sequence(i32::MAX - 1, 3), 1);
        assert_eq!(last_sequence(10, 4), 14);
        let mut state = ProducerState::default();
        state.update(1, 0, i32::MAX - 1, i32::MAX, 0, 1);
        assert_eq!(state.check(1, 0, 0, 3), Ok(SequenceVerdict::Append));
    }
}
