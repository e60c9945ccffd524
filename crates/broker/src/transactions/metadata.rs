//! One transactional id's metadata and Kafka's rules for moving it between states
//! (`TransactionMetadata`): epoch bumps, producer id rotation when epochs run out, fencing,
//! and the transitions of a transaction (Empty → Ongoing → PrepareCommit/PrepareAbort →
//! CompleteCommit/CompleteAbort). Pure: the coordinator persists each new value before it
//! takes effect.

use std::collections::BTreeSet;

use kafka_protocol::ResponseError;

use super::records::{TransactionLogValue, TransactionState};

/// A topic partition in a transaction.
pub type TxnPartition = (String, i32);

/// No producer id or epoch (Kafka's `NO_PRODUCER_ID` / `NO_PRODUCER_EPOCH`).
pub const NONE: i64 = -1;

/// Kafka keeps the last epoch free so that the coordinator can always fence a producer.
pub fn epoch_exhausted(epoch: i16) -> bool {
    epoch >= i16::MAX - 1
}

/// Kafka's names for the states, as ListTransactions and DescribeTransactions report them.
pub fn state_name(state: TransactionState) -> &'static str {
    match state {
        TransactionState::Empty => "Empty",
        TransactionState::Ongoing => "Ongoing",
        TransactionState::PrepareCommit => "PrepareCommit",
        TransactionState::PrepareAbort => "PrepareAbort",
        TransactionState::CompleteCommit => "CompleteCommit",
        TransactionState::CompleteAbort => "CompleteAbort",
        TransactionState::Dead => "Dead",
        TransactionState::PrepareEpochFence => "PrepareEpochFence",
    }
}

/// The state with Kafka's name `name`.
pub fn state_from_name(name: &str) -> Option<TransactionState> {
    [
        TransactionState::Empty,
        TransactionState::Ongoing,
        TransactionState::PrepareCommit,
        TransactionState::PrepareAbort,
        TransactionState::CompleteCommit,
        TransactionState::CompleteAbort,
        TransactionState::Dead,
        TransactionState::PrepareEpochFence,
    ]
    .into_iter()
    .find(|s| state_name(*s) == name)
}

/// What InitProducerId does with an existing transactional id.
#[derive(Debug, Clone, PartialEq)]
pub enum InitPlan {
    /// Store this (state Empty, bumped epoch or new producer id) and answer with it.
    Ready(TxnMetadata),
    /// A transaction is open: abort it at this bumped epoch, then answer
    /// CONCURRENT_TRANSACTIONS so the client retries (and gets the epoch bumped again).
    FenceAndAbort {
        /// The bumped epoch the abort markers carry.
        epoch: i16,
    },
}

/// The metadata of one transactional id.
#[derive(Debug, Clone, PartialEq)]
pub struct TxnMetadata {
    /// The transactional id.
    pub transactional_id: String,
    /// The producer id in use.
    pub producer_id: i64,
    /// The producer id before the last rotation, or -1.
    pub last_producer_id: i64,
    /// The producer epoch in use (-1 before the first InitProducerId completes).
    pub producer_epoch: i16,
    /// The epoch before the last bump, when a retry of that InitProducerId may still come
    /// (KIP-360), or -1. Not stored in the log, as in Kafka.
    pub last_producer_epoch: i16,
    /// The producer's `transaction.timeout.ms`.
    pub timeout_ms: i32,
    /// Where the transaction stands.
    pub state: TransactionState,
    /// Partitions of the open transaction (offsets partitions included).
    pub partitions: BTreeSet<TxnPartition>,
    /// When the open transaction started (its first AddPartitions), or -1.
    pub start_ms: i64,
    /// When the metadata last changed.
    pub last_update_ms: i64,
    /// Markers are being written: requests get CONCURRENT_TRANSACTIONS meanwhile.
    pub pending: bool,
}

impl TxnMetadata {
    /// A new transactional id with a fresh producer id and no epoch yet.
    pub fn new(transactional_id: &str, producer_id: i64, timeout_ms: i32, now: i64) -> Self {
        TxnMetadata {
            transactional_id: transactional_id.to_string(),
            producer_id,
            last_producer_id: NONE,
            producer_epoch: -1,
            last_producer_epoch: -1,
            timeout_ms,
            state: TransactionState::Empty,
            partitions: BTreeSet::new(),
            start_ms: -1,
            last_update_ms: now,
            pending: false,
        }
    }

    /// The value stored in `__transaction_state`.
    pub fn to_log_value(&self) -> TransactionLogValue {
        let mut by_topic: Vec<(String, Vec<i32>)> = Vec::new();
        for (topic, partition) in &self.partitions {
            match by_topic.last_mut() {
                Some((last, partitions)) if last == topic => partitions.push(*partition),
                _ => by_topic.push((topic.clone(), vec![*partition])),
            }
        }
        TransactionLogValue {
            producer_id: self.producer_id,
            previous_producer_id: self.last_producer_id,
            next_producer_id: NONE,
            producer_epoch: self.producer_epoch,
            transaction_timeout_ms: self.timeout_ms,
            state: self.state,
            // Kafka stores null partitions for Empty.
            partitions: (self.state != TransactionState::Empty).then_some(by_topic),
            last_update_timestamp_ms: self.last_update_ms,
            start_timestamp_ms: self.start_ms,
            client_transaction_version: 0,
        }
    }

    /// The metadata a stored value describes.
    pub fn from_log_value(transactional_id: &str, value: &TransactionLogValue) -> Self {
        TxnMetadata {
            transactional_id: transactional_id.to_string(),
            producer_id: value.producer_id,
            last_producer_id: value.previous_producer_id,
            producer_epoch: value.producer_epoch,
            last_producer_epoch: -1,
            timeout_ms: value.transaction_timeout_ms,
            state: value.state,
            partitions: value
                .partitions
                .iter()
                .flatten()
                .flat_map(|(topic, ps)| ps.iter().map(move |p| (topic.clone(), *p)))
                .collect(),
            start_ms: value.start_timestamp_ms,
            last_update_ms: value.last_update_timestamp_ms,
            pending: false,
        }
    }

    /// Whether a transaction is open or being completed.
    pub fn in_transaction(&self) -> bool {
        matches!(
            self.state,
            TransactionState::Ongoing
                | TransactionState::PrepareCommit
                | TransactionState::PrepareAbort
        )
    }

    /// Kafka's `prepareInitProducerIdTransit`. `expected` is the producer id and epoch the
    /// client says it has (KIP-360), `new_producer_id` allocates an id when epochs run out.
    pub fn plan_init(
        &self,
        timeout_ms: i32,
        expected: Option<(i64, i16)>,
        now: i64,
        new_producer_id: impl FnOnce() -> i64,
    ) -> Result<InitPlan, ResponseError> {
        if self.pending {
            return Err(ResponseError::ConcurrentTransactions);
        }
        if let Some((producer_id, epoch)) = expected {
            // A new id (epoch -1), the current id, or the previous id whose epochs ran out
            // (a retry of the call that rotated it).
            let valid = self.producer_epoch == -1
                || producer_id == self.producer_id
                || (producer_id == self.last_producer_id && epoch_exhausted(epoch));
            if !valid {
                return Err(ResponseError::ProducerFenced);
            }
        }
        match self.state {
            TransactionState::PrepareCommit | TransactionState::PrepareAbort => {
                Err(ResponseError::ConcurrentTransactions)
            }
            TransactionState::Ongoing => Ok(InitPlan::FenceAndAbort {
                epoch: self.producer_epoch + 1,
            }),
            TransactionState::Empty
            | TransactionState::CompleteCommit
            | TransactionState::CompleteAbort => {
                let mut next = self.clone();
                next.timeout_ms = timeout_ms;
                next.state = TransactionState::Empty;
                next.partitions.clear();
                next.start_ms = -1;
                next.last_update_ms = now;
                if epoch_exhausted(self.producer_epoch)
                    && expected.is_none_or(|(_, epoch)| epoch == self.producer_epoch)
                {
                    next.last_producer_id = self.producer_id;
                    next.producer_id = new_producer_id();
                    next.producer_epoch = 0;
                    next.last_producer_epoch = if expected.is_some() {
                        self.producer_epoch
                    } else {
                        -1
                    };
                    return Ok(InitPlan::Ready(next));
                }
                let bumped = self.producer_epoch + 1;
                let (epoch, last) = match expected {
                    None => (bumped, -1),
                    Some((_, expected))
                        if self.producer_epoch == -1 || expected == self.producer_epoch =>
                    {
                        (bumped, self.producer_epoch)
                    }
                    // A retry of a bump that succeeded: the same answer again.
                    Some((_, expected)) if expected == self.last_producer_epoch => {
                        (self.producer_epoch, self.last_producer_epoch)
                    }
                    Some(_) => return Err(ResponseError::ProducerFenced),
                };
                next.producer_epoch = epoch;
                next.last_producer_epoch = last;
                Ok(InitPlan::Ready(next))
            }
            TransactionState::Dead | TransactionState::PrepareEpochFence => {
                Err(ResponseError::ConcurrentTransactions)
            }
        }
    }

    /// Checks a request's producer id and epoch (AddPartitionsToTxn, AddOffsetsToTxn,
    /// TxnOffsetCommit): INVALID_PRODUCER_ID_MAPPING, PRODUCER_FENCED.
    pub fn check_producer(&self, producer_id: i64, epoch: i16) -> Result<(), ResponseError> {
        if self.producer_id != producer_id {
            Err(ResponseError::InvalidProducerIdMapping)
        } else if self.producer_epoch != epoch {
            Err(ResponseError::ProducerFenced)
        } else {
            Ok(())
        }
    }

    /// Kafka's AddPartitionsToTxn rules. `Ok(None)`: the partitions are already in the open
    /// transaction, nothing to store.
    pub fn plan_add_partitions(
        &self,
        producer_id: i64,
        epoch: i16,
        partitions: &[TxnPartition],
        now: i64,
    ) -> Result<Option<TxnMetadata>, ResponseError> {
        self.check_producer(producer_id, epoch)?;
        if self.pending
            || matches!(
                self.state,
                TransactionState::PrepareCommit | TransactionState::PrepareAbort
            )
        {
            return Err(ResponseError::ConcurrentTransactions);
        }
        if self.state == TransactionState::Ongoing
            && partitions.iter().all(|p| self.partitions.contains(p))
        {
            return Ok(None);
        }
        if matches!(
            self.state,
            TransactionState::Dead | TransactionState::PrepareEpochFence
        ) {
            return Err(ResponseError::InvalidTxnState);
        }
        let mut next = self.clone();
        if self.state != TransactionState::Ongoing {
            next.start_ms = now;
        }
        next.state = TransactionState::Ongoing;
        next.partitions.extend(partitions.iter().cloned());
        next.last_update_ms = now;
        Ok(Some(next))
    }

    /// Kafka's EndTxn rules. `from_client` requests must carry the current epoch; the
    /// coordinator's own aborts (timeouts, fencing) carry a bumped one. `Ok(None)`: already
    /// done (a retry), answer success.
    pub fn plan_end(
        &self,
        producer_id: i64,
        epoch: i16,
        commit: bool,
        from_client: bool,
        now: i64,
    ) -> Result<Option<TxnMetadata>, ResponseError> {
        if self.producer_id != producer_id {
            return Err(ResponseError::InvalidProducerIdMapping);
        }
        if (from_client && epoch != self.producer_epoch) || epoch < self.producer_epoch {
            return Err(ResponseError::ProducerFenced);
        }
        if self.pending {
            return Err(ResponseError::ConcurrentTransactions);
        }
        use TransactionState::*;
        match (self.state, commit) {
            (Ongoing, _) => {
                let mut next = self.clone();
                next.state = if commit { PrepareCommit } else { PrepareAbort };
                if epoch != self.producer_epoch {
                    // Fencing: the bumped epoch is never handed to a client.
                    next.producer_epoch = epoch;
                    next.last_producer_epoch = -1;
                }
                next.last_update_ms = now;
                Ok(Some(next))
            }
            (CompleteCommit, true) | (CompleteAbort, false) => Ok(None),
            (PrepareCommit, true) | (PrepareAbort, false) => {
                Err(ResponseError::ConcurrentTransactions)
            }
            _ => Err(ResponseError::InvalidTxnState),
        }
    }

    /// The state after every marker is written: CompleteCommit or CompleteAbort, no partitions.
    pub fn completed(&self, now: i64) -> TxnMetadata {
        let mut next = self.clone();
        next.state = if self.state == TransactionState::PrepareCommit {
            TransactionState::CompleteCommit
        } else {
            TransactionState::CompleteAbort
        };
        next.partitions.clear();
        next.last_update_ms = now;
        next.pending = false;
        next
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ready(plan: Result<InitPlan, ResponseError>) -> TxnMetadata {
        match plan {
            Ok(InitPlan::Ready(next)) => next,
            other => panic!("expected Ready, got {other:?}"),
        }
    }

    #[test]
    fn a_transaction_goes_through_kafkas_states() {
        let fresh = TxnMetadata::new("t", 100, 60_000, 1);
        let m = ready(fresh.plan_init(60_000, None, 2, || unreachable!()));
        assert_eq!((m.producer_id, m.producer_epoch), (100, 0));
        let p = ("rides".to_string(), 0);
        // Wrong producer id or epoch.
        assert_eq!(
            m.plan_add_partitions(101, 0, std::slice::from_ref(&p), 3),
            Err(ResponseError::InvalidProducerIdMapping)
        );
        assert_eq!(
            m.plan_add_partitions(100, 1, std::slice::from_ref(&p), 3),
            Err(ResponseError::ProducerFenced)
        );
        // EndTxn without a transaction.
        assert_eq!(
            m.plan_end(100, 0, true, true, 3),
            Err(ResponseError::InvalidTxnState)
        );
        let m = m
            .plan_add_partitions(100, 0, std::slice::from_ref(&p), 3)
            .unwrap()
            .unwrap();
        assert_eq!((m.state, m.start_ms), (TransactionState::Ongoing, 3));
        assert_eq!(
            m.plan_add_partitions(100, 0, std::slice::from_ref(&p), 4),
            Ok(None)
        );
        let prepared = m.plan_end(100, 0, true, true, 5).unwrap().unwrap();
        assert_eq!(prepared.state, TransactionState::PrepareCommit);
        assert_eq!(
            prepared.plan_end(100, 0, false, true, 5),
            Err(ResponseError::InvalidTxnState)
        );
        assert_eq!(
            prepared.plan_end(100, 0, true, true, 5),
            Err(ResponseError::ConcurrentTransactions)
        );
        let done = prepared.completed(6);
        assert_eq!(done.state, TransactionState::CompleteCommit);
        assert!(done.partitions.is_empty());
        // A retried commit succeeds; an abort now is wrong.
        assert_eq!(done.plan_end(100, 0, true, true, 7), Ok(None));
        assert_eq!(
            done.plan_end(100, 0, false, true, 7),
            Err(ResponseError::InvalidTxnState)
        );
    }

    #[test]
    fn init_fences_epochs_and_rotates_ids() {
        let m = ready(TxnMetadata::new("t", 100, 1, 0).plan_init(1, None, 0, || 0));
        let p = ("x".to_string(), 1);
        let ongoing = m.plan_add_partitions(100, 0, &[p], 1).unwrap().unwrap();
        // A second producer while a transaction is open: abort it at a bumped epoch first.
        assert_eq!(
            ongoing.plan_init(1, None, 2, || 0),
            Ok(InitPlan::FenceAndAbort { epoch: 1 })
        );
        let fenced = ongoing.plan_end(100, 1, false, false, 2).unwrap().unwrap();
        assert_eq!(fenced.producer_epoch, 1);
        // The old producer's EndTxn at epoch 0 is fenced.
        assert_eq!(
            fenced.plan_end(100, 0, true, true, 3),
            Err(ResponseError::ProducerFenced)
        );
        let aborted = fenced.completed(3);
        let second = ready(aborted.plan_init(1, None, 4, || 0));
        assert_eq!(second.producer_epoch, 2);
        // KIP-360: the producer at epoch 2 recovers by bumping its own epoch; a retry of that
        // call gets the same answer; a stale epoch is fenced.
        let recovered = ready(second.plan_init(1, Some((100, 2)), 5, || 0));
        assert_eq!(
            (recovered.producer_epoch, recovered.last_producer_epoch),
            (3, 2)
        );
        let retried = ready(recovered.plan_init(1, Some((100, 2)), 6, || 0));
        assert_eq!(retried.producer_epoch, 3);
        assert_eq!(
            recovered.plan_init(1, Some((100, 1)), 6, || 0),
            Err(ResponseError::ProducerFenced)
        );
        assert_eq!(
            recovered.plan_init(1, Some((55, 3)), 6, || 0),
            Err(ResponseError::ProducerFenced)
        );
        // Epochs run out: a new producer id at epoch 0.
        let mut old = recovered.clone();
        old.producer_epoch = i16::MAX - 1;
        let rotated = ready(old.plan_init(1, None, 7, || 200));
        assert_eq!(
            (
                rotated.producer_id,
                rotated.producer_epoch,
                rotated.last_producer_id
            ),
            (200, 0, 100)
        );
    }

    #[test]
    fn log_values_round_trip() {
        let mut m = TxnMetadata::new("t", 7, 900, 10);
        m.producer_epoch = 3;
        m.state = TransactionState::Ongoing;
        m.partitions.insert(("a".into(), 1));
        m.partitions.insert(("a".into(), 0));
        m.partitions.insert(("b".into(), 2));
        m.start_ms = 11;
        let value = m.to_log_value();
        assert_eq!(
            value.partitions,
            Some(vec![("a".into(), vec![0, 1]), ("b".into(), vec![2])])
        );
        assert_eq!(TxnMetadata::from_log_value("t", &value), m);
        assert_eq!(
            state_from_name("PrepareCommit"),
            Some(TransactionState::PrepareCommit)
        );
        assert_eq!(state_name(TransactionState::CompleteAbort), "CompleteAbort");
    }
}
