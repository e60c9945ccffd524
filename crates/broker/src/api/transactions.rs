//! The transaction APIs a transactional producer and the admin tools use: AddPartitionsToTxn
//! (v0–3 for one transaction, v4+ batched with KIP-890's verify-only form), AddOffsetsToTxn,
//! TxnOffsetCommit, EndTxn, DescribeTransactions, ListTransactions and DescribeProducers. The
//! rules live in [`crate::transactions`]; this module maps requests and responses.

use kafka_protocol::ResponseError;
use kafka_protocol::messages::add_partitions_to_txn_request::AddPartitionsToTxnTopic;
use kafka_protocol::messages::add_partitions_to_txn_response::{
    AddPartitionsToTxnPartitionResult, AddPartitionsToTxnResult, AddPartitionsToTxnTopicResult,
};
use kafka_protocol::messages::describe_producers_response::{
    PartitionResponse, ProducerState, TopicResponse,
};
use kafka_protocol::messages::describe_transactions_response::{
    TopicData, TransactionState as DescribedTransaction,
};
use kafka_protocol::messages::list_transactions_response::TransactionState as ListedTransaction;
use kafka_protocol::messages::txn_offset_commit_response::{
    TxnOffsetCommitResponsePartition, TxnOffsetCommitResponseTopic,
};
use kafka_protocol::messages::{
    AddOffsetsToTxnRequest, AddOffsetsToTxnResponse, AddPartitionsToTxnRequest,
    AddPartitionsToTxnResponse, DescribeProducersRequest, DescribeProducersResponse,
    DescribeTransactionsRequest, DescribeTransactionsResponse, EndTxnRequest, EndTxnResponse,
    ListTransactionsRequest, ListTransactionsResponse, ProducerId, TransactionalId,
    TxnOffsetCommitRequest, TxnOffsetCommitResponse,
};

use super::str_bytes;
use crate::coordinator::OFFSETS_TOPIC;
use crate::coordinator::membership::CommitIdentity;
use crate::coordinator::records::OffsetCommitValue;
use crate::errors::append_error_code;
use crate::server::BrokerContext;
use crate::transactions::metadata::{TxnPartition, state_from_name, state_name};

/// Handles AddPartitionsToTxn of any supported version.
pub fn add_partitions(
    context: &BrokerContext,
    request: AddPartitionsToTxnRequest,
    version: i16,
) -> AddPartitionsToTxnResponse {
    if version <= 3 {
        let topics = add_one(
            context,
            &request.v3_and_below_transactional_id,
            request.v3_and_below_producer_id.0,
            request.v3_and_below_producer_epoch,
            false,
            &request.v3_and_below_topics,
        );
        return AddPartitionsToTxnResponse::default().with_results_by_topic_v3_and_below(topics);
    }
    let results = request
        .transactions
        .iter()
        .map(|txn| {
            AddPartitionsToTxnResult::default()
                .with_transactional_id(txn.transactional_id.clone())
                .with_topic_results(add_one(
                    context,
                    &txn.transactional_id,
                    txn.producer_id.0,
                    txn.producer_epoch,
                    txn.verify_only,
                    &txn.topics,
                ))
        })
        .collect();
    AddPartitionsToTxnResponse::default().with_results_by_transaction(results)
}

/// One transaction's partitions: unknown ones get UNKNOWN_TOPIC_OR_PARTITION and the rest
/// OPERATION_NOT_ATTEMPTED (as Kafka answers); otherwise every partition gets the
/// coordinator's answer.
fn add_one(
    context: &BrokerContext,
    transactional_id: &TransactionalId,
    producer_id: i64,
    epoch: i16,
    verify_only: bool,
    topics: &[AddPartitionsToTxnTopic],
) -> Vec<AddPartitionsToTxnTopicResult> {
    let wanted: Vec<TxnPartition> = topics
        .iter()
        .flat_map(|t| t.partitions.iter().map(|p| (t.name.to_string(), *p)))
        .collect();
    let exists = |(topic, partition): &TxnPartition| {
        context
            .topics
            .get(topic)
            .is_some_and(|t| t.partition(*partition).is_some())
    };
    let codes: Vec<i16> = if !wanted.iter().all(exists) {
        wanted
            .iter()
            .map(|p| {
                if exists(p) {
                    ResponseError::OperationNotAttempted.code()
                } else {
                    ResponseError::UnknownTopicOrPartition.code()
                }
            })
            .collect()
    } else if verify_only {
        context
            .transactions
            .verify_partitions(transactional_id, producer_id, epoch, &wanted)
            .into_iter()
            .map(|r| r.err().map_or(0, |e| e.code()))
            .collect()
    } else {
        let code = context
            .transactions
            .add_partitions(transactional_id, producer_id, epoch, &wanted)
            .err()
            .map_or(0, |e| e.code());
        vec![code; wanted.len()]
    };
    let mut codes = codes.into_iter();
    topics
        .iter()
        .map(|topic| {
            let results = topic
                .partitions
                .iter()
                .map(|p| {
                    AddPartitionsToTxnPartitionResult::default()
                        .with_partition_index(*p)
                        .with_partition_error_code(codes.next().unwrap_or(0))
                })
                .collect();
            AddPartitionsToTxnTopicResult::default()
                .with_name(topic.name.clone())
                .with_results_by_partition(results)
        })
        .collect()
}

/// Handles AddOffsetsToTxn: adds the group's `__consumer_offsets` partition to the
/// transaction.
pub fn add_offsets(
    context: &BrokerContext,
    request: AddOffsetsToTxnRequest,
) -> AddOffsetsToTxnResponse {
    let group = request.group_id.to_string();
    let code = if group.is_empty() {
        ResponseError::InvalidGroupId.code()
    } else {
        let partition = (
            OFFSETS_TOPIC.to_string(),
            context.coordinator.partition_for(&group),
        );
        context
            .transactions
            .add_partitions(
                &request.transactional_id,
                request.producer_id.0,
                request.producer_epoch,
                &[partition],
            )
            .err()
            .map_or(0, |e| e.code())
    };
    AddOffsetsToTxnResponse::default().with_error_code(code)
}

/// Handles TxnOffsetCommit: offsets written as part of the producer's transaction, visible
/// once it commits.
pub fn txn_offset_commit(
    context: &BrokerContext,
    request: TxnOffsetCommitRequest,
) -> TxnOffsetCommitResponse {
    let group = request.group_id.to_string();
    let error = txn_commit_error(context, &request, &group);
    let now = crate::now_ms();
    let mut entries = Vec::new();
    let mut topics: Vec<TxnOffsetCommitResponseTopic> = request
        .topics
        .iter()
        .map(|wanted| {
            let topic = context.topics.get(&wanted.name);
            let partitions = wanted
                .partitions
                .iter()
                .map(|p| {
                    let code = match (&error, &topic) {
                        (Some(e), _) => e.code(),
                        (None, Some(t)) if t.partition(p.partition_index).is_some() => {
                            entries.push((
                                t.name.clone(),
                                p.partition_index,
                                OffsetCommitValue {
                                    offset: p.committed_offset,
                                    leader_epoch: p.committed_leader_epoch,
                                    metadata: p
                                        .committed_metadata
                                        .as_ref()
                                        .map_or(String::new(), |m| m.to_string()),
                                    commit_timestamp: now,
                                },
                            ));
                            0
                        }
                        (None, _) => ResponseError::UnknownTopicOrPartition.code(),
                    };
                    TxnOffsetCommitResponsePartition::default()
                        .with_partition_index(p.partition_index)
                        .with_error_code(code)
                })
                .collect();
            TxnOffsetCommitResponseTopic::default()
                .with_name(wanted.name.clone())
                .with_partitions(partitions)
        })
        .collect();
    if let Err(e) = context.coordinator.commit_transactional(
        &group,
        request.producer_id.0,
        request.producer_epoch,
        entries,
    ) {
        tracing::warn!(error = %e, "transactional offset commit failed");
        let code = append_error_code(&e.source);
        for partition in topics.iter_mut().flat_map(|t| t.partitions.iter_mut()) {
            if partition.error_code == 0 {
                partition.error_code = code;
            }
        }
    }
    TxnOffsetCommitResponse::default().with_topics(topics)
}

/// Why a TxnOffsetCommit is refused as a whole, if it is.
fn txn_commit_error(
    context: &BrokerContext,
    request: &TxnOffsetCommitRequest,
    group: &str,
) -> Option<ResponseError> {
    if group.is_empty() {
        return Some(ResponseError::InvalidGroupId);
    }
    // The offsets partition must be in the producer's transaction (AddOffsetsToTxn first).
    let partition = (
        OFFSETS_TOPIC.to_string(),
        context.coordinator.partition_for(group),
    );
    if let Some(Err(e)) = context
        .transactions
        .verify_partitions(
            &request.transactional_id,
            request.producer_id.0,
            request.producer_epoch,
            &[partition],
        )
        .pop()
    {
        return Some(e);
    }
    // KIP-447: with a member id or generation, the member must be current; without them (old
    // clients) the commit is accepted, as Kafka accepts it.
    let (generation, member) = (request.generation_id, request.member_id.as_str());
    if generation < 0 && member.is_empty() && request.group_instance_id.is_none() {
        return None;
    }
    let code = context
        .coordinator
        .consumer_groups
        .check_member(group, generation, member)
        .unwrap_or_else(|| {
            context
                .coordinator
                .membership
                .check_commit(&CommitIdentity {
                    group_id: group,
                    generation,
                    member_id: member,
                    instance_id: request.group_instance_id.as_deref(),
                    version: 9,
                })
        });
    (code != 0)
        .then(|| ResponseError::try_from_code(code).unwrap_or(ResponseError::UnknownServerError))
}

/// Handles EndTxn: commits or aborts the transaction, markers written before the answer.
pub async fn end_txn(context: &BrokerContext, request: EndTxnRequest) -> EndTxnResponse {
    let result = context
        .transactions
        .end_transaction(
            &context.topics,
            &context.coordinator,
            &request.transactional_id,
            request.producer_id.0,
            request.producer_epoch,
            request.committed,
            true,
        )
        .await;
    EndTxnResponse::default()
        .with_error_code(result.err().map_or(0, |e| e.code()))
        .with_producer_id(ProducerId(-1))
        .with_producer_epoch(-1)
}

/// Handles DescribeTransactions.
pub fn describe(
    context: &BrokerContext,
    request: DescribeTransactionsRequest,
) -> DescribeTransactionsResponse {
    let states = request
        .transactional_ids
        .iter()
        .map(|id| {
            let described = DescribedTransaction::default().with_transactional_id(id.clone());
            match context.transactions.describe(id) {
                None => described.with_error_code(ResponseError::TransactionalIdNotFound.code()),
                Some(m) => {
                    let mut topics: Vec<TopicData> = Vec::new();
                    for (topic, partition) in &m.partitions {
                        match topics.last_mut() {
                            Some(last) if last.topic.as_str() == topic => {
                                last.partitions.push(*partition)
                            }
                            _ => topics.push(
                                TopicData::default()
                                    .with_topic(str_bytes(topic.clone()).into())
                                    .with_partitions(vec![*partition]),
                            ),
                        }
                    }
                    described
                        .with_transaction_state(str_bytes(state_name(m.state)))
                        .with_transaction_timeout_ms(m.timeout_ms)
                        .with_transaction_start_time_ms(m.start_ms)
                        .with_producer_id(ProducerId(m.producer_id))
                        .with_producer_epoch(m.producer_epoch)
                        .with_topics(topics)
                }
            }
        })
        .collect();
    DescribeTransactionsResponse::default().with_transaction_states(states)
}

/// Handles ListTransactions: filters by state, producer id, running time (v1) and a
/// transactional id regular expression (v2).
pub fn list(context: &BrokerContext, request: ListTransactionsRequest) -> ListTransactionsResponse {
    let mut unknown = Vec::new();
    let mut states = Vec::new();
    for name in &request.state_filters {
        match state_from_name(name) {
            Some(state) => states.push(state),
            None => unknown.push(name.clone()),
        }
    }
    let pattern = match request.transactional_id_pattern.as_deref() {
        None | Some("") => None,
        Some(p) => match regex::Regex::new(&format!("^(?:{p})$")) {
            Ok(re) => Some(re),
            Err(_) => {
                return ListTransactionsResponse::default()
                    .with_error_code(ResponseError::InvalidRegularExpression.code());
            }
        },
    };
    let now = crate::now_ms();
    let listed = context
        .transactions
        .list()
        .into_iter()
        .filter(|m| states.is_empty() || states.contains(&m.state))
        .filter(|m| {
            request.producer_id_filters.is_empty()
                || request
                    .producer_id_filters
                    .contains(&ProducerId(m.producer_id))
        })
        .filter(|m| {
            // KIP-994: only transactions running longer than the filter.
            request.duration_filter < 0
                || (m.state == crate::transactions::records::TransactionState::Ongoing
                    && now - m.start_ms > request.duration_filter)
        })
        .filter(|m| {
            pattern
                .as_ref()
                .is_none_or(|re| re.is_match(&m.transactional_id))
        })
        .map(|m| {
            ListedTransaction::default()
                .with_transactional_id(str_bytes(m.transactional_id.clone()).into())
                .with_producer_id(ProducerId(m.producer_id))
                .with_transaction_state(str_bytes(state_name(m.state)))
        })
        .collect();
    ListTransactionsResponse::default()
        .with_unknown_state_filters(unknown)
        .with_transaction_states(listed)
}

/// Handles DescribeProducers: the producers each partition knows, with their open
/// transactions.
pub fn describe_producers(
    context: &BrokerContext,
    request: DescribeProducersRequest,
) -> DescribeProducersResponse {
    let topics = request
        .topics
        .iter()
        .map(|wanted| {
            let topic = context.topics.get(&wanted.name);
            let partitions = wanted
                .partition_indexes
                .iter()
                .map(|&index| {
                    let response = PartitionResponse::default().with_partition_index(index);
                    let Some(partition) = topic.as_ref().and_then(|t| t.partition(index)) else {
                        return response
                            .with_error_code(ResponseError::UnknownTopicOrPartition.code());
                    };
                    let producers = partition
                        .log
                        .producers()
                        .into_iter()
                        .map(|p| {
                            ProducerState::default()
                                .with_producer_id(ProducerId(p.producer_id))
                                .with_producer_epoch(i32::from(p.epoch))
                                .with_last_sequence(p.last_sequence)
                                .with_last_timestamp(p.last_timestamp)
                                .with_coordinator_epoch(if p.open_txn_start_offset >= 0 {
                                    0
                                } else {
                                    -1
                                })
                                .with_current_txn_start_offset(p.open_txn_start_offset)
                        })
                        .collect();
                    response.with_active_producers(producers)
                })
                .collect();
            TopicResponse::default()
                .with_name(wanted.name.clone())
                .with_partitions(partitions)
        })
        .collect();
    DescribeProducersResponse::default().with_topics(topics)
}
