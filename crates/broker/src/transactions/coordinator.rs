//! The transaction coordinator: transactional ids, their producer ids and epochs, and their
//! transactions, stored in the compacted `__transaction_state` topic (50 partitions by
//! default, Kafka's key/value formats) and loaded at start.
//!
//! Every change is written to the log before it takes effect. Ending a transaction writes
//! PrepareCommit/PrepareAbort, then a COMMIT/ABORT marker into every partition of the
//! transaction (offsets partitions included, where the marker also settles the pending
//! transactional offsets), then CompleteCommit/CompleteAbort; the client is answered after
//! the markers, so a successful commit is visible at once. A transaction found in a Prepare
//! state at start (the broker died mid-way) is completed before the broker serves requests.
//! Transactions open longer than their timeout are aborted with a bumped epoch, which fences
//! the producer, as Kafka does; transactional ids idle for `transactional.id.expiration.ms`
//! are removed.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use brook_protocol::control::{ControlType, EndTransactionMarker};
use brook_protocol::{Compression, RecordBatchBuilder};
use kafka_protocol::ResponseError;

use super::metadata::{InitPlan, TxnMetadata, TxnPartition};
use super::records::{self, TransactionState};
use crate::coordinator::{GroupCoordinator, OFFSETS_TOPIC};
use crate::now_ms;
use crate::topics::{Topic, TopicError, TopicRegistry};

/// Name of the transaction log topic.
pub const TRANSACTION_STATE_TOPIC: &str = "__transaction_state";

/// The coordinator's settings (Kafka's `transaction.*` broker configs).
#[derive(Debug, Clone)]
pub struct Settings {
    /// `transaction.state.log.num.partitions`.
    pub partitions: i32,
    /// `transaction.max.timeout.ms`: the largest `transaction.timeout.ms` a producer may ask.
    pub max_timeout_ms: i32,
    /// `transactional.id.expiration.ms`.
    pub id_expiration: Duration,
    /// `transaction.abort.timed.out.transaction.cleanup.interval.ms`.
    pub abort_interval: Duration,
    /// `transaction.remove.expired.transaction.cleanup.interval.ms`.
    pub expiration_interval: Duration,
    /// Fault injection for tests (`test.transaction.marker.delay.ms`): a pause between writing
    /// PrepareCommit/PrepareAbort and writing the markers, so that a test can kill the broker
    /// with a transaction in a Prepare state. Zero in production.
    pub marker_delay: Duration,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            partitions: 50,
            max_timeout_ms: 900_000,
            id_expiration: Duration::from_millis(604_800_000),
            abort_interval: Duration::from_millis(10_000),
            expiration_interval: Duration::from_millis(3_600_000),
            marker_delay: Duration::ZERO,
        }
    }
}

/// Every transactional id this broker coordinates.
#[derive(Debug)]
pub struct TransactionCoordinator {
    topic: Arc<Topic>,
    txns: Mutex<HashMap<String, TxnMetadata>>,
    settings: Settings,
}

/// One transactional id as DescribeTransactions and ListTransactions show it.
pub type TransactionView = TxnMetadata;

impl TransactionCoordinator {
    /// Opens (creating if needed) `__transaction_state`, loads every transactional id, and
    /// completes the transactions that were being committed or aborted when the broker
    /// stopped.
    pub fn start(
        topics: &TopicRegistry,
        groups: &GroupCoordinator,
        settings: Settings,
    ) -> Result<Self, TopicError> {
        let topic = match topics.get(TRANSACTION_STATE_TOPIC) {
            Some(topic) => topic,
            None => {
                let overrides = [
                    ("cleanup.policy", "compact"),
                    ("segment.bytes", "104857600"),
                    ("compression.type", "uncompressed"),
                ]
                .into_iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect();
                topics.create(
                    TRANSACTION_STATE_TOPIC,
                    settings.partitions,
                    overrides,
                    false,
                )?
            }
        };
        let mut txns: HashMap<String, TxnMetadata> = HashMap::new();
        topic.replay(|batch| {
            let Ok(batch_records) = batch.records() else {
                return;
            };
            for record in batch_records {
                let Some(id) = record.key.as_deref().and_then(records::decode_key) else {
                    continue;
                };
                match record.value.as_deref().and_then(records::decode_value) {
                    Some(value) => {
                        txns.insert(id.clone(), TxnMetadata::from_log_value(&id, &value));
                    }
                    None => {
                        txns.remove(&id);
                    }
                }
            }
        })?;
        let unfinished: Vec<TxnMetadata> = txns
            .values()
            .filter(|m| {
                matches!(
                    m.state,
                    TransactionState::PrepareCommit | TransactionState::PrepareAbort
                )
            })
            .cloned()
            .collect();
        let open = txns
            .values()
            .filter(|m| m.state == TransactionState::Ongoing)
            .count();
        tracing::info!(
            transactional_ids = txns.len(),
            open,
            completing = unfinished.len(),
            "loaded transaction state"
        );
        let coordinator = TransactionCoordinator {
            topic,
            txns: Mutex::new(txns),
            settings,
        };
        for prepared in unfinished {
            coordinator.write_markers(topics, groups, &prepared);
            let done = prepared.completed(now_ms());
            if let Err(e) = coordinator.store(&done) {
                tracing::warn!(error = %e, "cannot complete a transaction after restart");
                continue;
            }
            tracing::info!(
                transactional_id = %done.transactional_id,
                state = super::metadata::state_name(done.state),
                "completed a transaction left prepared"
            );
            coordinator
                .lock()
                .insert(done.transactional_id.clone(), done);
        }
        Ok(coordinator)
    }

    fn lock(&self) -> MutexGuard<'_, HashMap<String, TxnMetadata>> {
        self.txns.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The settings the coordinator runs with.
    pub fn settings(&self) -> &Settings {
        &self.settings
    }

    /// The `__transaction_state` partition that stores `transactional_id`.
    pub fn partition_for(&self, transactional_id: &str) -> i32 {
        crate::coordinator::records::partition_for(
            transactional_id,
            self.topic.partitions.len() as i32,
        )
    }

    /// Writes `metadata` to its `__transaction_state` partition.
    fn store(&self, metadata: &TxnMetadata) -> Result<(), brook_log::AppendError> {
        let mut builder = RecordBatchBuilder::new(Compression::None);
        builder.append(
            metadata.last_update_ms,
            Some(&records::encode_key(&metadata.transactional_id)),
            Some(&records::encode_value(&metadata.to_log_value(), 0)),
            &[],
        );
        self.append(&metadata.transactional_id, builder)
    }

    fn append(
        &self,
        transactional_id: &str,
        builder: RecordBatchBuilder,
    ) -> Result<(), brook_log::AppendError> {
        let index = self.partition_for(transactional_id) as usize;
        self.topic.partitions[index]
            .log
            .append(&builder.build())
            .map(|_| ())
    }

    /// Stores `next` and makes it current.
    fn commit_transition(
        &self,
        txns: &mut HashMap<String, TxnMetadata>,
        next: TxnMetadata,
    ) -> Result<TxnMetadata, ResponseError> {
        self.store(&next).map_err(|e| {
            tracing::warn!(error = %e, "writing the transaction log failed");
            ResponseError::CoordinatorNotAvailable
        })?;
        txns.insert(next.transactional_id.clone(), next.clone());
        Ok(next)
    }

    /// InitProducerId with a transactional id: the producer id and epoch to use.
    pub async fn init_producer_id(
        &self,
        topics: &TopicRegistry,
        groups: &GroupCoordinator,
        transactional_id: &str,
        timeout_ms: i32,
        expected: Option<(i64, i16)>,
        new_producer_id: impl Fn() -> i64,
    ) -> Result<(i64, i16), ResponseError> {
        if transactional_id.is_empty() {
            return Err(ResponseError::InvalidRequest);
        }
        if timeout_ms <= 0 || timeout_ms > self.settings.max_timeout_ms {
            return Err(ResponseError::InvalidTransactionTimeout);
        }
        let now = now_ms();
        let fence = {
            let mut txns = self.lock();
            let current = txns
                .entry(transactional_id.to_string())
                .or_insert_with(|| {
                    TxnMetadata::new(transactional_id, new_producer_id(), timeout_ms, now)
                })
                .clone();
            match current.plan_init(timeout_ms, expected, now, &new_producer_id)? {
                InitPlan::Ready(next) => {
                    let stored = self.commit_transition(&mut txns, next)?;
                    tracing::info!(
                        transactional_id,
                        producer_id = stored.producer_id,
                        epoch = stored.producer_epoch,
                        "initialized transactional id"
                    );
                    return Ok((stored.producer_id, stored.producer_epoch));
                }
                InitPlan::FenceAndAbort { epoch } => (current.producer_id, epoch),
            }
        };
        // Abort the open transaction of the producer being fenced, then let the client retry.
        let (producer_id, epoch) = fence;
        tracing::info!(
            transactional_id,
            producer_id,
            "fencing the previous producer and aborting its transaction"
        );
        self.end_transaction(
            topics,
            groups,
            transactional_id,
            producer_id,
            epoch,
            false,
            false,
        )
        .await?;
        Err(ResponseError::ConcurrentTransactions)
    }

    /// AddPartitionsToTxn (and AddOffsetsToTxn, whose partition is the group's offsets
    /// partition).
    pub fn add_partitions(
        &self,
        transactional_id: &str,
        producer_id: i64,
        epoch: i16,
        partitions: &[TxnPartition],
    ) -> Result<(), ResponseError> {
        if transactional_id.is_empty() {
            return Err(ResponseError::InvalidRequest);
        }
        let mut txns = self.lock();
        let current = txns
            .get(transactional_id)
            .ok_or(ResponseError::InvalidProducerIdMapping)?;
        match current.plan_add_partitions(producer_id, epoch, partitions, now_ms())? {
            None => Ok(()),
            Some(next) => self.commit_transition(&mut txns, next).map(|_| ()),
        }
    }

    /// KIP-890's verify-only AddPartitionsToTxn: whether each partition is in the producer's
    /// open transaction (INVALID_TXN_STATE for those that are not).
    pub fn verify_partitions(
        &self,
        transactional_id: &str,
        producer_id: i64,
        epoch: i16,
        partitions: &[TxnPartition],
    ) -> Vec<Result<(), ResponseError>> {
        let txns = self.lock();
        let checked = match txns.get(transactional_id) {
            None => Err(ResponseError::InvalidProducerIdMapping),
            Some(m) => m.check_producer(producer_id, epoch).map(|()| m),
        };
        partitions
            .iter()
            .map(|p| match &checked {
                Err(e) => Err(*e),
                Ok(m) if m.state == TransactionState::Ongoing && m.partitions.contains(p) => Ok(()),
                Ok(_) => Err(ResponseError::InvalidTxnState),
            })
            .collect()
    }

    /// The produce path's check before a producer's first transactional batch in a partition:
    /// the partition must be in that producer's open transaction (KIP-890 part 1), so that a
    /// late or stray batch cannot open a transaction that no marker will ever close.
    pub fn check_produce(
        &self,
        producer_id: i64,
        epoch: i16,
        partition: &TxnPartition,
    ) -> Result<(), ResponseError> {
        let txns = self.lock();
        let Some(m) = txns.values().find(|m| m.producer_id == producer_id) else {
            return Err(ResponseError::InvalidProducerIdMapping);
        };
        if epoch < m.producer_epoch {
            return Err(ResponseError::InvalidProducerEpoch);
        }
        if m.state == TransactionState::Ongoing
            && epoch == m.producer_epoch
            && m.partitions.contains(partition)
        {
            Ok(())
        } else {
            Err(ResponseError::InvalidTxnState)
        }
    }

    /// EndTxn from a client (`from_client`), or the coordinator's own abort of a timed-out or
    /// fenced transaction at a bumped `epoch`.
    #[allow(clippy::too_many_arguments)]
    pub async fn end_transaction(
        &self,
        topics: &TopicRegistry,
        groups: &GroupCoordinator,
        transactional_id: &str,
        producer_id: i64,
        epoch: i16,
        commit: bool,
        from_client: bool,
    ) -> Result<(), ResponseError> {
        if transactional_id.is_empty() {
            return Err(ResponseError::InvalidRequest);
        }
        let prepared = {
            let mut txns = self.lock();
            let current = txns
                .get(transactional_id)
                .ok_or(ResponseError::InvalidProducerIdMapping)?;
            let Some(next) = current.plan_end(producer_id, epoch, commit, from_client, now_ms())?
            else {
                return Ok(());
            };
            let mut stored = self.commit_transition(&mut txns, next)?;
            stored.pending = true;
            txns.insert(transactional_id.to_string(), stored.clone());
            stored
        };
        if !self.settings.marker_delay.is_zero() {
            tokio::time::sleep(self.settings.marker_delay).await;
        }
        self.write_markers(topics, groups, &prepared);
        let done = prepared.completed(now_ms());
        let mut txns = self.lock();
        match self.commit_transition(&mut txns, done) {
            Ok(_) => Ok(()),
            Err(e) => {
                // Still prepared: the next start completes it.
                if let Some(m) = txns.get_mut(transactional_id) {
                    m.pending = false;
                }
                Err(e)
            }
        }
    }

    /// Writes the COMMIT or ABORT marker of `prepared` into each of its partitions. A partition
    /// that no longer exists is skipped, as Kafka skips it.
    fn write_markers(
        &self,
        topics: &TopicRegistry,
        groups: &GroupCoordinator,
        prepared: &TxnMetadata,
    ) {
        let commit = prepared.state == TransactionState::PrepareCommit;
        let marker = EndTransactionMarker {
            control_type: if commit {
                ControlType::Commit
            } else {
                ControlType::Abort
            },
            coordinator_epoch: 0,
        };
        for (topic, index) in &prepared.partitions {
            let Some(partition) = topics.get(topic).and_then(|t| t.partition(*index).cloned())
            else {
                continue;
            };
            match partition
                .log
                .append_marker(prepared.producer_id, prepared.producer_epoch, marker)
            {
                Ok(_) => {
                    if topic == OFFSETS_TOPIC {
                        groups.complete_transaction(*index, prepared.producer_id, commit);
                    }
                }
                Err(e) => tracing::warn!(
                    topic,
                    partition = index,
                    error = %e,
                    "cannot write a transaction marker"
                ),
            }
        }
    }

    /// Aborts the transactions open longer than their timeout, bumping the epoch so that the
    /// producer is fenced (Kafka's `abortTimedOutTransactions`). Returns how many.
    pub async fn abort_timed_out(
        &self,
        topics: &TopicRegistry,
        groups: &GroupCoordinator,
    ) -> usize {
        let now = now_ms();
        let expired: Vec<(String, i64, i16)> = self
            .lock()
            .values()
            .filter(|m| {
                m.state == TransactionState::Ongoing
                    && !m.pending
                    && m.start_ms + i64::from(m.timeout_ms) < now
            })
            .map(|m| {
                (
                    m.transactional_id.clone(),
                    m.producer_id,
                    m.producer_epoch.saturating_add(1),
                )
            })
            .collect();
        let mut aborted = 0;
        for (id, producer_id, epoch) in expired {
            match self
                .end_transaction(topics, groups, &id, producer_id, epoch, false, false)
                .await
            {
                Ok(()) => {
                    aborted += 1;
                    tracing::info!(transactional_id = %id, "aborted a transaction that timed out");
                }
                Err(e) => {
                    tracing::debug!(transactional_id = %id, error = ?e, "timeout abort skipped")
                }
            }
        }
        aborted
    }

    /// Removes transactional ids without a transaction that were idle for
    /// `transactional.id.expiration.ms` (a tombstone in the log). Returns how many.
    pub fn expire_transactional_ids(&self) -> usize {
        let cutoff = now_ms() - self.settings.id_expiration.as_millis() as i64;
        let mut txns = self.lock();
        let stale: Vec<String> = txns
            .values()
            .filter(|m| !m.in_transaction() && !m.pending && m.last_update_ms < cutoff)
            .map(|m| m.transactional_id.clone())
            .collect();
        let mut removed = 0;
        for id in stale {
            let mut builder = RecordBatchBuilder::new(Compression::None);
            builder.append(now_ms(), Some(&records::encode_key(&id)), None, &[]);
            match self.append(&id, builder) {
                Ok(()) => {
                    txns.remove(&id);
                    removed += 1;
                }
                Err(e) => tracing::warn!(error = %e, "cannot expire a transactional id"),
            }
        }
        removed
    }

    /// One transactional id, or `None` when unknown.
    pub fn describe(&self, transactional_id: &str) -> Option<TransactionView> {
        self.lock().get(transactional_id).cloned()
    }

    /// Every transactional id, ordered by id.
    pub fn list(&self) -> Vec<TransactionView> {
        let mut all: Vec<TransactionView> = self.lock().values().cloned().collect();
        all.sort_by(|a, b| a.transactional_id.cmp(&b.transactional_id));
        all
    }
}
