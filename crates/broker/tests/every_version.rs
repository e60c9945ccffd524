//! Every API the broker advertises, at every version it advertises, over a real connection:
//! realistic requests (data present, errors present) encoded at that version, the response
//! decoded at that version and checked field by field — including the fields that exist only
//! in some versions. A handler that sets a field its version does not have makes the response
//! unencodable; the broker then sends an error response instead (and counts it), so such a bug
//! fails both the value checks and the final encode-error count here.
//!
//! The test ends by checking that each advertised (API, version) pair was exercised, so a newly
//! advertised API or version cannot slip past it.

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::ops::RangeInclusive;
use std::sync::Arc;
use std::time::Duration;

use brook_broker::{Broker, BrokerConfig, BrokerContext};
use brook_protocol::{Batches, Compression, RecordBatchBuilder};
use bytes::{BufMut, Bytes, BytesMut};
use kafka_protocol::ResponseError;
use kafka_protocol::messages::create_partitions_request::CreatePartitionsTopic;
use kafka_protocol::messages::create_topics_request::{CreatableTopic, CreatableTopicConfig};
use kafka_protocol::messages::delete_records_request::{
    DeleteRecordsPartition, DeleteRecordsTopic,
};
use kafka_protocol::messages::delete_topics_request::DeleteTopicState;
use kafka_protocol::messages::describe_configs_request::DescribeConfigsResource;
use kafka_protocol::messages::fetch_request::{FetchPartition, FetchTopic};
use kafka_protocol::messages::join_group_request::JoinGroupRequestProtocol;
use kafka_protocol::messages::leave_group_request::MemberIdentity;
use kafka_protocol::messages::list_offsets_request::{ListOffsetsPartition, ListOffsetsTopic};
use kafka_protocol::messages::metadata_request::MetadataRequestTopic;
use kafka_protocol::messages::offset_commit_request::{
    OffsetCommitRequestPartition, OffsetCommitRequestTopic,
};
use kafka_protocol::messages::offset_delete_request::{
    OffsetDeleteRequestPartition, OffsetDeleteRequestTopic,
};
use kafka_protocol::messages::offset_fetch_request::{
    OffsetFetchRequestGroup, OffsetFetchRequestTopic, OffsetFetchRequestTopics,
};
use kafka_protocol::messages::produce_request::{PartitionProduceData, TopicProduceData};
use kafka_protocol::messages::sync_group_request::SyncGroupRequestAssignment;
use kafka_protocol::messages::*;
use kafka_protocol::protocol::{Decodable, Encodable, HeaderVersion, Request, StrBytes};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use uuid::Uuid;

fn s(text: &str) -> StrBytes {
    StrBytes::from_string(text.to_string())
}

fn topic(name: &str) -> TopicName {
    TopicName(s(name))
}

fn group(name: &str) -> GroupId {
    GroupId(s(name))
}

fn code(error: ResponseError) -> i16 {
    error.code()
}

const NODE: i32 = 1;

/// A connection that remembers which (API, version) pairs it sent.
struct Client {
    stream: TcpStream,
    broker: Arc<BrokerContext>,
    port: u16,
    correlation_id: i32,
    advertised: BTreeMap<i16, RangeInclusive<i16>>,
    exercised: BTreeSet<(i16, i16)>,
}

impl Client {
    async fn connect(broker: &Broker) -> Client {
        let stream = TcpStream::connect(broker.local_addr()).await.unwrap();
        let mut client = Client {
            stream,
            broker: broker.context().clone(),
            port: broker.local_addr().port(),
            correlation_id: 0,
            advertised: BTreeMap::new(),
            exercised: BTreeSet::new(),
        };
        let versions = client.call(&ApiVersionsRequest::default(), 3).await;
        assert_eq!(versions.error_code, 0);
        client.advertised = versions
            .api_keys
            .iter()
            .map(|k| (k.api_key, k.min_version..=k.max_version))
            .collect();
        client
    }

    /// The advertised versions of `api`.
    fn versions(&self, api: ApiKey) -> RangeInclusive<i16> {
        self.advertised
            .get(&(api as i16))
            .cloned()
            .unwrap_or_else(|| panic!("{api:?} is not advertised"))
    }

    fn max(&self, api: ApiKey) -> i16 {
        *self.versions(api).end()
    }

    async fn call<R: Request>(&mut self, request: &R, version: i16) -> R::Response {
        let api = ApiKey::try_from(R::KEY).unwrap();
        self.exercised.insert((R::KEY, version));
        self.correlation_id += 1;
        let correlation_id = self.correlation_id;
        let mut body = BytesMut::new();
        RequestHeader::default()
            .with_request_api_key(R::KEY)
            .with_request_api_version(version)
            .with_correlation_id(correlation_id)
            .with_client_id(Some(s("every-version-test")))
            .encode(&mut body, R::header_version(version))
            .unwrap();
        request
            .encode(&mut body, version)
            .unwrap_or_else(|e| panic!("the test's {api:?} v{version} request: {e}"));
        let mut frame = BytesMut::new();
        frame.put_i32(body.len() as i32);
        frame.extend_from_slice(&body);
        self.stream.write_all(&frame).await.unwrap();
        let size = tokio::time::timeout(Duration::from_secs(30), self.stream.read_i32())
            .await
            .unwrap_or_else(|_| panic!("{api:?} v{version}: no response within 30 s"))
            .unwrap_or_else(|e| panic!("{api:?} v{version}: connection closed: {e}"));
        let mut buf = vec![0; size as usize];
        self.stream.read_exact(&mut buf).await.unwrap();
        let mut bytes = Bytes::from(buf);
        let header = ResponseHeader::decode(&mut bytes, R::Response::header_version(version))
            .unwrap_or_else(|e| panic!("{api:?} v{version} response header: {e}"));
        assert_eq!(header.correlation_id, correlation_id);
        assert_eq!(
            self.broker.metrics.response_encode_errors(api),
            0,
            "{api:?} v{version}: the broker could not encode its response (a field set that \
             this version does not have?) and sent an error response instead"
        );
        let response = R::Response::decode(&mut bytes, version)
            .unwrap_or_else(|e| panic!("{api:?} v{version} response does not decode: {e}"));
        assert!(
            bytes.is_empty(),
            "{api:?} v{version}: {} bytes after the response",
            bytes.len()
        );
        response
    }
}

fn batch(timestamp: i64, value: &str) -> Bytes {
    let mut builder = RecordBatchBuilder::new(Compression::None);
    builder.append(timestamp, Some(b"key"), Some(value.as_bytes()), &[]);
    builder.build()
}

/// What the setup created.
struct Fixture {
    data_id: Uuid,
    produced_id: Uuid,
    compacted_id: Uuid,
}

async fn create_topic(c: &mut Client, name: &str, partitions: i32) -> Uuid {
    create_topic_with(c, name, partitions, &[]).await
}

async fn create_topic_with(
    c: &mut Client,
    name: &str,
    partitions: i32,
    configs: &[(&str, &str)],
) -> Uuid {
    let v = c.max(ApiKey::CreateTopics);
    let configs = configs
        .iter()
        .map(|(k, v)| {
            CreatableTopicConfig::default()
                .with_name(s(k))
                .with_value(Some(s(v)))
        })
        .collect();
    let response = c
        .call(
            &CreateTopicsRequest::default()
                .with_topics(vec![
                    CreatableTopic::default()
                        .with_name(topic(name))
                        .with_num_partitions(partitions)
                        .with_replication_factor(1)
                        .with_configs(configs),
                ])
                .with_timeout_ms(5000),
            v,
        )
        .await;
    assert_eq!(response.topics[0].error_code, 0, "creating {name}");
    response.topics[0].topic_id
}

async fn produce(c: &mut Client, name: &str, partition: i32, records: Bytes) -> i64 {
    let v = 12; // by name
    let response = c
        .call(
            &ProduceRequest::default()
                .with_acks(-1)
                .with_timeout_ms(5000)
                .with_topic_data(vec![
                    TopicProduceData::default()
                        .with_name(topic(name))
                        .with_partition_data(vec![
                            PartitionProduceData::default()
                                .with_index(partition)
                                .with_records(Some(records)),
                        ]),
                ]),
            v,
        )
        .await;
    let p = &response.responses[0].partition_responses[0];
    assert_eq!(p.error_code, 0, "producing to {name}-{partition}");
    p.base_offset
}

/// A classic group with one member that completed a rebalance: (member id, generation).
async fn stable_group(c: &mut Client, name: &str) -> (StrBytes, i32) {
    let join = |member: StrBytes| {
        JoinGroupRequest::default()
            .with_group_id(group(name))
            .with_session_timeout_ms(30_000)
            .with_rebalance_timeout_ms(30_000)
            .with_member_id(member)
            .with_protocol_type(s("consumer"))
            .with_protocols(vec![
                JoinGroupRequestProtocol::default()
                    .with_name(s("range"))
                    .with_metadata(Bytes::from_static(b"subscription")),
            ])
    };
    let v = c.max(ApiKey::JoinGroup);
    let first = c.call(&join(s("")), v).await;
    assert_eq!(first.error_code, code(ResponseError::MemberIdRequired));
    let joined = c.call(&join(first.member_id.clone()), v).await;
    assert_eq!(joined.error_code, 0);
    let synced = c
        .call(
            &SyncGroupRequest::default()
                .with_group_id(group(name))
                .with_generation_id(joined.generation_id)
                .with_member_id(joined.member_id.clone())
                .with_protocol_type(Some(s("consumer")))
                .with_protocol_name(Some(s("range")))
                .with_assignments(vec![
                    SyncGroupRequestAssignment::default()
                        .with_member_id(joined.member_id.clone())
                        .with_assignment(Bytes::from_static(b"assignment")),
                ]),
            c.max(ApiKey::SyncGroup),
        )
        .await;
    assert_eq!(synced.error_code, 0);
    (joined.member_id, joined.generation_id)
}

async fn commit_standalone(c: &mut Client, group_name: &str, offsets: &[(i32, i64)]) {
    let v = 9; // by name
    let response = c
        .call(
            &OffsetCommitRequest::default()
                .with_group_id(group(group_name))
                .with_generation_id_or_member_epoch(-1)
                .with_topics(vec![
                    OffsetCommitRequestTopic::default()
                        .with_name(topic("data"))
                        .with_partitions(
                            offsets
                                .iter()
                                .map(|(p, o)| {
                                    OffsetCommitRequestPartition::default()
                                        .with_partition_index(*p)
                                        .with_committed_offset(*o)
                                        .with_committed_leader_epoch(0)
                                })
                                .collect(),
                        ),
                ]),
            v,
        )
        .await;
    for p in &response.topics[0].partitions {
        assert_eq!(p.error_code, 0, "committing for {group_name}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_advertised_api_answers_at_every_advertised_version() {
    let dir = tempfile::tempdir().unwrap();
    let broker = Broker::start(BrokerConfig {
        auto_create_topics: false,
        group_initial_rebalance_delay: Duration::ZERO,
        ..common::test_config(dir.path())
    })
    .await
    .unwrap();
    let mut c = Client::connect(&broker).await;

    // Topic "data": partition 0 holds three records stamped 1000, 2000 and 3000 ms.
    let data_id = create_topic(&mut c, "data", 2).await;
    for (i, ts) in [1000, 2000, 3000].into_iter().enumerate() {
        assert_eq!(
            produce(&mut c, "data", 0, batch(ts, &format!("r{i}"))).await,
            i as i64
        );
    }
    produce(&mut c, "data", 1, batch(5000, "p1")).await;
    let produced_id = create_topic(&mut c, "produced", 1).await;
    let compacted_id =
        create_topic_with(&mut c, "compacted", 1, &[("cleanup.policy", "compact")]).await;
    let fixture = Fixture {
        data_id,
        produced_id,
        compacted_id,
    };

    api_versions(&mut c).await;
    metadata(&mut c, &fixture).await;
    produce_each(&mut c, &fixture).await;
    fetch(&mut c, &fixture).await;
    list_offsets(&mut c).await;
    create_topics(&mut c).await;
    delete_topics(&mut c).await;
    delete_records(&mut c).await;
    init_producer_id(&mut c).await;
    describe_configs(&mut c).await;
    alter_configs(&mut c).await;
    incremental_alter_configs(&mut c).await;
    create_partitions(&mut c).await;
    describe_log_dirs(&mut c).await;
    describe_cluster(&mut c).await;
    find_coordinator(&mut c).await;
    classic_group_lifecycle(&mut c).await;
    describe_and_list_groups(&mut c).await;
    offset_commit(&mut c, &fixture).await;
    offset_fetch(&mut c, &fixture).await;
    delete_groups(&mut c).await;
    offset_delete(&mut c).await;
    consumer_group_heartbeat(&mut c).await;
    consumer_group_describe(&mut c).await;
    share_group_heartbeat(&mut c).await;
    static_members_are_fenced(&mut c).await;
    elect_leaders(&mut c).await;
    alter_replica_log_dirs(&mut c).await;
    describe_quorum(&mut c).await;
    partition_reassignments(&mut c).await;
    describe_topic_partitions(&mut c).await;
    acls_without_an_authorizer(&mut c).await;
    transactions(&mut c).await;

    let missing: Vec<String> = c
        .advertised
        .iter()
        .flat_map(|(api, versions)| versions.clone().map(move |v| (*api, v)))
        .filter(|pair| !c.exercised.contains(pair))
        .map(|(api, v)| format!("{:?} v{v}", ApiKey::try_from(api).unwrap()))
        .collect();
    assert!(
        missing.is_empty(),
        "advertised but not exercised: {missing:?}"
    );
    broker.shutdown().await;
}

async fn api_versions(c: &mut Client) {
    for v in c.versions(ApiKey::ApiVersions) {
        let mut request = ApiVersionsRequest::default();
        if v >= 3 {
            request = request
                .with_client_software_name(s("every-version-test"))
                .with_client_software_version(s("1.0"));
        }
        let response = c.call(&request, v).await;
        assert_eq!(response.error_code, 0, "v{v}");
        let produce = response
            .api_keys
            .iter()
            .find(|k| k.api_key == ApiKey::Produce as i16)
            .expect("Produce advertised");
        assert_eq!(
            produce.min_version..=produce.max_version,
            c.versions(ApiKey::Produce),
            "v{v}"
        );
        assert_eq!(response.api_keys.len(), c.advertised.len(), "v{v}");
    }
}

async fn metadata(c: &mut Client, f: &Fixture) {
    for v in c.versions(ApiKey::Metadata) {
        let wanted = ["data", "missing"]
            .iter()
            .map(|n| MetadataRequestTopic::default().with_name(Some(topic(n))))
            .collect();
        let mut request = MetadataRequest::default().with_topics(Some(wanted));
        if v >= 4 {
            request = request.with_allow_auto_topic_creation(false);
        }
        let response = c.call(&request, v).await;
        assert_eq!(response.brokers.len(), 1, "v{v}");
        let broker = &response.brokers[0];
        assert_eq!(
            (broker.node_id.0, broker.host.as_str(), broker.port),
            (NODE, "127.0.0.1", i32::from(c.port)),
            "v{v}"
        );
        assert_eq!(
            response.controller_id.0,
            if v >= 1 { NODE } else { -1 },
            "v{v}"
        );
        assert_eq!(response.cluster_id.is_some(), v >= 2, "v{v}");
        assert_eq!(response.topics.len(), 2, "v{v}");
        let data = &response.topics[0];
        assert_eq!(data.name.as_ref().map(|n| n.as_str()), Some("data"));
        assert_eq!(data.error_code, 0, "v{v}");
        assert_eq!(
            data.topic_id,
            if v >= 10 { f.data_id } else { Uuid::nil() },
            "v{v}"
        );
        assert_eq!(data.partitions.len(), 2, "v{v}");
        for (i, p) in data.partitions.iter().enumerate() {
            assert_eq!(p.partition_index, i as i32);
            assert_eq!(p.leader_id.0, NODE, "v{v}");
            assert_eq!(p.leader_epoch, if v >= 7 { 0 } else { -1 }, "v{v}");
            assert_eq!(p.replica_nodes, vec![BrokerId(NODE)], "v{v}");
            assert_eq!(p.isr_nodes, vec![BrokerId(NODE)], "v{v}");
        }
        let missing = &response.topics[1];
        assert_eq!(
            missing.error_code,
            code(ResponseError::UnknownTopicOrPartition),
            "v{v}"
        );

        // No authorizer: every operation is allowed, when asked for (v8+; the cluster's only
        // in v8-10).
        if v >= 8 {
            let request = MetadataRequest::default()
                .with_topics(Some(vec![
                    MetadataRequestTopic::default().with_name(Some(topic("data"))),
                ]))
                .with_include_topic_authorized_operations(true)
                .with_include_cluster_authorized_operations(v <= 10);
            let response = c.call(&request, v).await;
            assert_eq!(response.topics[0].topic_authorized_operations, 3576, "v{v}");
            assert_eq!(
                response.cluster_authorized_operations,
                if v <= 10 { 8096 } else { i32::MIN },
                "v{v}"
            );
        }
        assert_eq!(
            data.topic_authorized_operations,
            i32::MIN,
            "v{v}: not asked"
        );

        // All topics: null from v1, an empty list at v0.
        let all = if v == 0 { Some(Vec::new()) } else { None };
        let mut request = MetadataRequest::default().with_topics(all);
        if v >= 4 {
            request = request.with_allow_auto_topic_creation(false);
        }
        let response = c.call(&request, v).await;
        assert!(
            response
                .topics
                .iter()
                .any(|t| t.name.as_ref().map(|n| n.as_str()) == Some("data")),
            "v{v}"
        );
    }
}

async fn produce_each(c: &mut Client, f: &Fixture) {
    for (next_offset, v) in c.versions(ApiKey::Produce).enumerate() {
        let by_id = v >= 13;
        let topic_data = |partition: i32| {
            let data = TopicProduceData::default().with_partition_data(vec![
                PartitionProduceData::default()
                    .with_index(partition)
                    .with_records(Some(batch(10_000 + i64::from(v), &format!("v{v}")))),
            ]);
            if by_id {
                data.with_topic_id(f.produced_id)
            } else {
                data.with_name(topic("produced"))
            }
        };
        let request = ProduceRequest::default()
            .with_acks(-1)
            .with_timeout_ms(5000)
            .with_topic_data(vec![topic_data(0), topic_data(7)]);
        let response = c.call(&request, v).await;
        assert_eq!(response.responses.len(), 2, "v{v}");
        let ok = &response.responses[0].partition_responses[0];
        assert_eq!(ok.error_code, 0, "v{v}");
        assert_eq!(ok.base_offset, next_offset as i64, "v{v}");
        assert_eq!(ok.log_append_time_ms, -1, "v{v}");
        assert_eq!(ok.log_start_offset, if v >= 5 { 0 } else { -1 }, "v{v}");
        let bad = &response.responses[1].partition_responses[0];
        assert_eq!(bad.index, 7);
        assert_eq!(
            bad.error_code,
            code(ResponseError::UnknownTopicOrPartition),
            "v{v}"
        );
        if by_id {
            assert_eq!(response.responses[0].topic_id, f.produced_id);
        } else {
            assert_eq!(response.responses[0].name.as_str(), "produced");
        }

        // A control batch (a transaction marker) from a client: INVALID_RECORD, as Kafka.
        let marker = brook_protocol::control::marker_batch(
            42,
            0,
            brook_protocol::control::EndTransactionMarker {
                control_type: brook_protocol::control::ControlType::Commit,
                coordinator_epoch: 0,
            },
            1000,
        );
        let data = TopicProduceData::default().with_partition_data(vec![
            PartitionProduceData::default()
                .with_index(0)
                .with_records(Some(marker)),
        ]);
        let data = if by_id {
            data.with_topic_id(f.produced_id)
        } else {
            data.with_name(topic("produced"))
        };
        let response = c
            .call(
                &ProduceRequest::default()
                    .with_acks(1)
                    .with_timeout_ms(5000)
                    .with_topic_data(vec![data]),
                v,
            )
            .await;
        assert_eq!(
            response.responses[0].partition_responses[0].error_code,
            code(ResponseError::InvalidRecord),
            "v{v}: clients may not write markers"
        );

        // A record without a key for a compacted topic: INVALID_RECORD, with per-record errors
        // from v8.
        let mut keyless = RecordBatchBuilder::new(Compression::None);
        keyless.append(1000, Some(b"k"), Some(b"keyed"), &[]);
        keyless.append(1000, None, Some(b"no key"), &[]);
        let data = TopicProduceData::default().with_partition_data(vec![
            PartitionProduceData::default()
                .with_index(0)
                .with_records(Some(keyless.build())),
        ]);
        let data = if by_id {
            data.with_topic_id(f.compacted_id)
        } else {
            data.with_name(topic("compacted"))
        };
        let request = ProduceRequest::default()
            .with_acks(1)
            .with_timeout_ms(5000)
            .with_topic_data(vec![data]);
        let response = c.call(&request, v).await;
        let refused = &response.responses[0].partition_responses[0];
        assert_eq!(
            refused.error_code,
            code(ResponseError::InvalidRecord),
            "v{v}"
        );
        if v >= 8 {
            assert_eq!(refused.record_errors.len(), 1, "v{v}");
            assert_eq!(refused.record_errors[0].batch_index, 1);
            assert!(
                refused.record_errors[0]
                    .batch_index_error_message
                    .as_deref()
                    .is_some_and(|m| m.contains("without key")),
                "v{v}"
            );
            assert!(refused.error_message.is_some(), "v{v}");
        }
    }
}

async fn fetch(c: &mut Client, f: &Fixture) {
    for v in c.versions(ApiKey::Fetch) {
        let partitions = [0, 9]
            .iter()
            .map(|p| {
                FetchPartition::default()
                    .with_partition(*p)
                    .with_fetch_offset(0)
                    .with_partition_max_bytes(1 << 20)
            })
            .collect();
        let wanted = FetchTopic::default().with_partitions(partitions);
        let wanted = if v >= 13 {
            wanted.with_topic_id(f.data_id)
        } else {
            wanted.with_topic(topic("data"))
        };
        let mut request = FetchRequest::default()
            .with_max_wait_ms(0)
            .with_min_bytes(1)
            .with_max_bytes(1 << 20)
            .with_topics(vec![wanted]);
        if v >= 7 {
            request = request.with_session_epoch(-1);
        }
        if v < 15 {
            request = request.with_replica_id(BrokerId(-1));
        }
        let response = c.call(&request, v).await;
        assert_eq!(response.error_code, 0, "v{v}");
        assert_eq!(response.session_id, 0, "v{v}");
        assert_eq!(response.responses.len(), 1, "v{v}");
        let topic_response = &response.responses[0];
        if v >= 13 {
            assert_eq!(topic_response.topic_id, f.data_id);
        } else {
            assert_eq!(topic_response.topic.as_str(), "data");
        }
        let ok = &topic_response.partitions[0];
        assert_eq!(ok.error_code, 0, "v{v}");
        assert_eq!(ok.high_watermark, 3, "v{v}");
        assert_eq!(ok.last_stable_offset, 3, "v{v}");
        assert_eq!(ok.log_start_offset, if v >= 5 { 0 } else { -1 }, "v{v}");
        let records = ok.records.clone().expect("records");
        assert_eq!(Batches::new(records).count(), 3, "v{v}");
        let bad = &topic_response.partitions[1];
        assert_eq!(
            bad.error_code,
            code(ResponseError::UnknownTopicOrPartition),
            "v{v}"
        );
    }
}

async fn list_offsets(c: &mut Client) {
    for v in c.versions(ApiKey::ListOffsets) {
        // (timestamp asked, expected offset, expected timestamp); max timestamp from v7.
        let mut cases = vec![(-2, 0, -1), (-1, 3, -1), (2000, 1, 2000), (1500, 1, 2000)];
        if v >= 7 {
            cases.push((-3, 2, 3000));
        }
        for (asked, offset, timestamp) in cases {
            let partitions = [0, 9]
                .iter()
                .map(|p| {
                    ListOffsetsPartition::default()
                        .with_partition_index(*p)
                        .with_timestamp(asked)
                })
                .collect();
            let request = ListOffsetsRequest::default()
                .with_replica_id(BrokerId(-1))
                .with_topics(vec![
                    ListOffsetsTopic::default()
                        .with_name(topic("data"))
                        .with_partitions(partitions),
                ]);
            let response = c.call(&request, v).await;
            let partitions = &response.topics[0].partitions;
            let ok = &partitions[0];
            assert_eq!(ok.error_code, 0, "v{v} timestamp {asked}");
            assert_eq!(
                (ok.offset, ok.timestamp),
                (offset, timestamp),
                "v{v} timestamp {asked}"
            );
            assert_eq!(ok.leader_epoch, if v >= 4 { 0 } else { -1 }, "v{v}");
            assert_eq!(
                partitions[1].error_code,
                code(ResponseError::UnknownTopicOrPartition),
                "v{v}"
            );
        }
    }
}

async fn create_topics(c: &mut Client) {
    for v in c.versions(ApiKey::CreateTopics) {
        let wanted = |name: &str, retention: &str| {
            CreatableTopic::default()
                .with_name(topic(name))
                .with_num_partitions(2)
                .with_replication_factor(1)
                .with_configs(vec![
                    CreatableTopicConfig::default()
                        .with_name(s("retention.ms"))
                        .with_value(Some(s(retention))),
                ])
        };
        let request = CreateTopicsRequest::default()
            .with_timeout_ms(5000)
            .with_topics(vec![
                wanted(&format!("created-{v}"), "1000"),
                wanted("data", "1000"),
                wanted(&format!("bad-{v}"), "soon"),
            ]);
        let response = c.call(&request, v).await;
        let [created, exists, bad] = &response.topics[..] else {
            panic!("v{v}: three results expected");
        };
        assert_eq!(created.error_code, 0, "v{v}: {:?}", created.error_message);
        if v >= 5 {
            assert_eq!(created.num_partitions, 2);
            assert_eq!(created.replication_factor, 1);
            let configs = created.configs.as_ref().expect("configs from v5");
            let retention = configs
                .iter()
                .find(|c| c.name.as_str() == "retention.ms")
                .unwrap();
            assert_eq!(retention.value.as_deref(), Some("1000"));
            assert_eq!(retention.config_source, 1, "a topic override");
        } else {
            assert_eq!(created.num_partitions, -1, "v{v}");
        }
        assert_eq!(!created.topic_id.is_nil(), v >= 7, "v{v}");
        assert_eq!(
            exists.error_code,
            code(ResponseError::TopicAlreadyExists),
            "v{v}"
        );
        assert_eq!(bad.error_code, code(ResponseError::InvalidConfig), "v{v}");
        assert!(bad.error_message.is_some(), "v{v}");
    }
}

async fn delete_topics(c: &mut Client) {
    for v in c.versions(ApiKey::DeleteTopics) {
        let name = format!("doomed-{v}");
        let id = create_topic(c, &name, 1).await;
        let mut request = DeleteTopicsRequest::default().with_timeout_ms(5000);
        if v >= 6 {
            request = request.with_topics(vec![
                DeleteTopicState::default().with_topic_id(id),
                DeleteTopicState::default().with_name(Some(topic("never-there"))),
                DeleteTopicState::default().with_topic_id(Uuid::new_v4()),
            ]);
        } else {
            request = request.with_topic_names(vec![topic(&name), topic("never-there")]);
        }
        let response = c.call(&request, v).await;
        let results = &response.responses;
        assert_eq!(results[0].error_code, 0, "v{v}");
        assert_eq!(
            results[0].name.as_ref().map(|n| n.as_str()),
            Some(name.as_str())
        );
        if v >= 6 {
            assert_eq!(results[0].topic_id, id);
            assert_eq!(
                results[2].error_code,
                code(ResponseError::UnknownTopicId),
                "v{v}"
            );
        }
        assert_eq!(
            results[1].error_code,
            code(ResponseError::UnknownTopicOrPartition),
            "v{v}"
        );
    }
}

async fn delete_records(c: &mut Client) {
    create_topic(c, "trim", 1).await;
    for i in 0..10 {
        produce(c, "trim", 0, batch(1000 + i, "x")).await;
    }
    for v in c.versions(ApiKey::DeleteRecords) {
        let before = i64::from(v) + 1;
        let request = DeleteRecordsRequest::default()
            .with_timeout_ms(5000)
            .with_topics(vec![
                DeleteRecordsTopic::default()
                    .with_name(topic("trim"))
                    .with_partitions(vec![
                        DeleteRecordsPartition::default()
                            .with_partition_index(0)
                            .with_offset(before),
                        DeleteRecordsPartition::default()
                            .with_partition_index(4)
                            .with_offset(0),
                    ]),
                DeleteRecordsTopic::default()
                    .with_name(topic("data"))
                    .with_partitions(vec![
                        DeleteRecordsPartition::default()
                            .with_partition_index(0)
                            .with_offset(99),
                    ]),
            ]);
        let response = c.call(&request, v).await;
        let trim = &response.topics[0].partitions;
        assert_eq!(
            (trim[0].error_code, trim[0].low_watermark),
            (0, before),
            "v{v}"
        );
        assert_eq!(
            trim[1].error_code,
            code(ResponseError::UnknownTopicOrPartition),
            "v{v}"
        );
        assert_eq!(
            response.topics[1].partitions[0].error_code,
            code(ResponseError::OffsetOutOfRange),
            "v{v}"
        );
    }
}

async fn init_producer_id(c: &mut Client) {
    let mut last = -1;
    for v in c.versions(ApiKey::InitProducerId) {
        let request = InitProducerIdRequest::default()
            .with_transactional_id(None)
            .with_transaction_timeout_ms(60_000)
            .with_producer_id(ProducerId(-1))
            .with_producer_epoch(-1);
        let response = c.call(&request, v).await;
        assert_eq!(response.error_code, 0, "v{v}");
        assert!(response.producer_id.0 > last, "v{v}: a fresh id");
        assert_eq!(response.producer_epoch, 0, "v{v}");
        last = response.producer_id.0;

        // A transactional id: its producer id, the epoch bumped by each init.
        let txn = request.with_transactional_id(Some(TransactionalId(s(&format!("init-v{v}")))));
        let first = c.call(&txn, v).await;
        assert_eq!((first.error_code, first.producer_epoch), (0, 0), "v{v}");
        let second = c.call(&txn, v).await;
        assert_eq!(second.error_code, 0, "v{v}");
        assert_eq!(second.producer_id, first.producer_id, "v{v}");
        assert_eq!(second.producer_epoch, 1, "v{v}");
        // A timeout above transaction.max.timeout.ms.
        let too_long = c
            .call(&txn.clone().with_transaction_timeout_ms(900_001), v)
            .await;
        assert_eq!(
            too_long.error_code,
            code(ResponseError::InvalidTransactionTimeout),
            "v{v}"
        );
        if v >= 3 {
            // KIP-360: a producer naming an epoch that is not current is fenced.
            let stale = c
                .call(
                    &txn.clone()
                        .with_producer_id(first.producer_id)
                        .with_producer_epoch(0),
                    v,
                )
                .await;
            assert_eq!(
                stale.error_code,
                code(ResponseError::ProducerFenced),
                "v{v}"
            );
        }
    }
}

async fn describe_configs(c: &mut Client) {
    for v in c.versions(ApiKey::DescribeConfigs) {
        let resource = |kind: i8, name: &str, keys: Option<Vec<&str>>| {
            DescribeConfigsResource::default()
                .with_resource_type(kind)
                .with_resource_name(s(name))
                .with_configuration_keys(keys.map(|k| k.into_iter().map(s).collect()))
        };
        let request = DescribeConfigsRequest::default()
            .with_include_synonyms(true)
            .with_resources(vec![
                resource(2, "data", None),
                resource(2, "missing", None),
                resource(4, "1", Some(vec!["log.retention.ms"])),
            ]);
        let response = c.call(&request, v).await;
        let [data, missing, broker] = &response.results[..] else {
            panic!("v{v}: three results expected");
        };
        assert_eq!(data.error_code, 0, "v{v}");
        let retention = data
            .configs
            .iter()
            .find(|c| c.name.as_str() == "retention.ms")
            .expect("retention.ms");
        assert_eq!(retention.value.as_deref(), Some("604800000"), "v{v}");
        assert_eq!(retention.config_source, 5, "v{v}: Kafka's default");
        assert!(!retention.synonyms.is_empty(), "v{v}: synonyms asked for");
        assert_eq!(retention.config_type, if v >= 3 { 5 } else { 0 }, "v{v}");
        assert_eq!(
            missing.error_code,
            code(ResponseError::UnknownTopicOrPartition),
            "v{v}"
        );
        assert_eq!(broker.error_code, 0, "v{v}");
        assert_eq!(broker.configs.len(), 1, "v{v}");
        assert_eq!(broker.configs[0].name.as_str(), "log.retention.ms");
    }
}

async fn alter_configs(c: &mut Client) {
    for v in c.versions(ApiKey::AlterConfigs) {
        let resource = |name: &str, value: &str| {
            kafka_protocol::messages::alter_configs_request::AlterConfigsResource::default()
                .with_resource_type(2)
                .with_resource_name(s(name))
                .with_configs(vec![
                    kafka_protocol::messages::alter_configs_request::AlterableConfig::default()
                        .with_name(s("retention.ms"))
                        .with_value(Some(s(value))),
                ])
        };
        let request = AlterConfigsRequest::default().with_resources(vec![
            resource("data", &(86_400_000 + i64::from(v)).to_string()),
            resource("missing", "1000"),
            resource("data", "later"),
        ]);
        let response = c.call(&request, v).await;
        let codes = response.responses.iter().map(|r| r.error_code);
        assert_changed_missing_invalid(codes, v);
        assert_eq!(response.responses[0].resource_name.as_str(), "data");
    }
}

async fn incremental_alter_configs(c: &mut Client) {
    use kafka_protocol::messages::incremental_alter_configs_request::{
        AlterConfigsResource, AlterableConfig,
    };
    for v in c.versions(ApiKey::IncrementalAlterConfigs) {
        let resource = |name: &str, value: &str| {
            AlterConfigsResource::default()
                .with_resource_type(2)
                .with_resource_name(s(name))
                .with_configs(vec![
                    AlterableConfig::default()
                        .with_name(s("retention.bytes"))
                        .with_config_operation(0)
                        .with_value(Some(s(value))),
                ])
        };
        let request = IncrementalAlterConfigsRequest::default().with_resources(vec![
            resource("data", &(1_000_000 + i64::from(v)).to_string()),
            resource("missing", "1000"),
            resource("data", "lots"),
        ]);
        let response = c.call(&request, v).await;
        assert_changed_missing_invalid(response.responses.iter().map(|r| r.error_code), v);
    }
}

/// The answers to (a good change of "data", a change of a missing topic, a bad value).
fn assert_changed_missing_invalid(codes: impl Iterator<Item = i16>, v: i16) {
    let expected = [
        0,
        code(ResponseError::UnknownTopicOrPartition),
        code(ResponseError::InvalidConfig),
    ];
    assert_codes(codes, &expected, v);
}

/// The error codes of a response's results, in order, at version `v`.
fn assert_codes(codes: impl Iterator<Item = i16>, expected: &[i16], v: i16) {
    assert_eq!(codes.collect::<Vec<_>>(), expected, "v{v}");
}

async fn create_partitions(c: &mut Client) {
    create_topic(c, "grow", 1).await;
    for v in c.versions(ApiKey::CreatePartitions) {
        let count = i32::from(v) + 2;
        let wanted = |name: &str, count: i32| {
            CreatePartitionsTopic::default()
                .with_name(topic(name))
                .with_count(count)
                .with_assignments(None)
        };
        let request = CreatePartitionsRequest::default()
            .with_timeout_ms(5000)
            .with_topics(vec![
                wanted("grow", count),
                wanted("data", 1),
                wanted("missing", 3),
            ]);
        let response = c.call(&request, v).await;
        assert_codes(
            response.results.iter().map(|r| r.error_code),
            &[
                0,
                code(ResponseError::InvalidPartitions),
                code(ResponseError::UnknownTopicOrPartition),
            ],
            v,
        );
    }
}

async fn describe_log_dirs(c: &mut Client) {
    for v in c.versions(ApiKey::DescribeLogDirs) {
        let response = c
            .call(&DescribeLogDirsRequest::default().with_topics(None), v)
            .await;
        assert_eq!(response.error_code, 0, "v{v}");
        assert_eq!(response.results.len(), 1, "v{v}");
        let dir = &response.results[0];
        assert_eq!(dir.error_code, 0, "v{v}");
        assert!(!dir.log_dir.is_empty(), "v{v}");
        let data = dir
            .topics
            .iter()
            .find(|t| t.name.as_str() == "data")
            .expect("data listed");
        assert_eq!(data.partitions.len(), 2, "v{v}");
        assert!(data.partitions.iter().all(|p| p.partition_size > 0), "v{v}");
        if v >= 4 {
            assert!(dir.total_bytes > 0 && dir.usable_bytes > 0, "v{v}");
        } else {
            assert_eq!((dir.total_bytes, dir.usable_bytes), (-1, -1), "v{v}");
        }
    }
}

async fn describe_cluster(c: &mut Client) {
    for v in c.versions(ApiKey::DescribeCluster) {
        let response = c.call(&DescribeClusterRequest::default(), v).await;
        assert_eq!(response.error_code, 0, "v{v}");
        assert!(!response.cluster_id.is_empty(), "v{v}");
        assert_eq!(response.controller_id.0, NODE, "v{v}");
        assert_eq!(response.endpoint_type, 1, "v{v}");
        assert_eq!(response.brokers.len(), 1, "v{v}");
        assert_eq!(response.brokers[0].port, i32::from(c.port), "v{v}");
        assert_eq!(response.cluster_authorized_operations, i32::MIN, "v{v}");
        let asked = c
            .call(
                &DescribeClusterRequest::default().with_include_cluster_authorized_operations(true),
                v,
            )
            .await;
        assert_eq!(asked.cluster_authorized_operations, 8096, "v{v}");
    }
}

async fn find_coordinator(c: &mut Client) {
    for v in c.versions(ApiKey::FindCoordinator) {
        if v >= 4 {
            let request = FindCoordinatorRequest::default()
                .with_key_type(0)
                .with_coordinator_keys(vec![s("g1"), s("g2")]);
            let response = c.call(&request, v).await;
            assert_eq!(response.coordinators.len(), 2, "v{v}");
            for (coordinator, key) in response.coordinators.iter().zip(["g1", "g2"]) {
                assert_eq!(coordinator.key.as_str(), key);
                assert_eq!(coordinator.error_code, 0, "v{v}");
                assert_eq!(coordinator.node_id.0, NODE, "v{v}");
                assert_eq!(coordinator.port, i32::from(c.port), "v{v}");
            }
            let txn = c
                .call(
                    &FindCoordinatorRequest::default()
                        .with_key_type(1)
                        .with_coordinator_keys(vec![s("txn")]),
                    v,
                )
                .await;
            assert_eq!(txn.coordinators[0].error_code, 0, "v{v}");
            assert_eq!(txn.coordinators[0].key.as_str(), "txn");
            assert_eq!(txn.coordinators[0].node_id.0, NODE, "v{v}");
        } else {
            let response = c
                .call(&FindCoordinatorRequest::default().with_key(s("g1")), v)
                .await;
            assert_eq!(response.error_code, 0, "v{v}");
            assert_eq!(response.node_id.0, NODE, "v{v}");
            assert_eq!(response.host.as_str(), "127.0.0.1", "v{v}");
            assert_eq!(response.port, i32::from(c.port), "v{v}");
            if v >= 1 {
                let txn = c
                    .call(
                        &FindCoordinatorRequest::default()
                            .with_key_type(1)
                            .with_key(s("txn")),
                        v,
                    )
                    .await;
                assert_eq!(txn.error_code, 0, "v{v}");
                assert_eq!(txn.port, i32::from(c.port), "v{v}");
            }
        }
    }
}

/// JoinGroup, SyncGroup, Heartbeat and LeaveGroup: one full membership per version, each API at
/// that version or its highest one below.
async fn classic_group_lifecycle(c: &mut Client) {
    let highest = [
        ApiKey::JoinGroup,
        ApiKey::SyncGroup,
        ApiKey::Heartbeat,
        ApiKey::LeaveGroup,
    ]
    .iter()
    .map(|api| c.max(*api))
    .max()
    .unwrap();
    for v in 0..=highest {
        let [jv, sv, hv, lv] = [
            ApiKey::JoinGroup,
            ApiKey::SyncGroup,
            ApiKey::Heartbeat,
            ApiKey::LeaveGroup,
        ]
        .map(|api| v.clamp(*c.versions(api).start(), c.max(api)));
        let name = format!("classic-{v}");
        let join = |member: StrBytes| {
            let request = JoinGroupRequest::default()
                .with_group_id(group(&name))
                .with_session_timeout_ms(30_000)
                .with_member_id(member)
                .with_protocol_type(s("consumer"))
                .with_protocols(vec![
                    JoinGroupRequestProtocol::default()
                        .with_name(s("range"))
                        .with_metadata(Bytes::from_static(b"subscription")),
                ]);
            if jv >= 1 {
                request.with_rebalance_timeout_ms(30_000)
            } else {
                request
            }
        };
        let mut joined = c.call(&join(s("")), jv).await;
        if jv >= 4 {
            assert_eq!(
                joined.error_code,
                code(ResponseError::MemberIdRequired),
                "JoinGroup v{jv}"
            );
            assert!(!joined.member_id.is_empty());
            joined = c.call(&join(joined.member_id.clone()), jv).await;
        }
        assert_eq!(joined.error_code, 0, "JoinGroup v{jv}");
        assert_eq!(joined.generation_id, 1, "JoinGroup v{jv}");
        assert_eq!(joined.leader, joined.member_id, "JoinGroup v{jv}");
        assert_eq!(joined.members.len(), 1, "JoinGroup v{jv}");
        assert_eq!(
            joined.members[0].metadata,
            Bytes::from_static(b"subscription")
        );
        assert_eq!(
            joined.protocol_name.as_deref(),
            Some("range"),
            "JoinGroup v{jv}"
        );
        assert_eq!(
            joined.protocol_type.as_deref(),
            if jv >= 7 { Some("consumer") } else { None },
            "JoinGroup v{jv}"
        );
        let member = joined.member_id.clone();

        let mut sync = SyncGroupRequest::default()
            .with_group_id(group(&name))
            .with_generation_id(1)
            .with_member_id(member.clone())
            .with_assignments(vec![
                SyncGroupRequestAssignment::default()
                    .with_member_id(member.clone())
                    .with_assignment(Bytes::from_static(b"assignment")),
            ]);
        if sv >= 5 {
            sync = sync
                .with_protocol_type(Some(s("consumer")))
                .with_protocol_name(Some(s("range")));
        }
        let synced = c.call(&sync, sv).await;
        assert_eq!(synced.error_code, 0, "SyncGroup v{sv}");
        assert_eq!(synced.assignment, Bytes::from_static(b"assignment"));
        assert_eq!(
            synced.protocol_name.as_deref(),
            if sv >= 5 { Some("range") } else { None },
            "SyncGroup v{sv}"
        );

        let heartbeat = |generation: i32| {
            HeartbeatRequest::default()
                .with_group_id(group(&name))
                .with_generation_id(generation)
                .with_member_id(member.clone())
        };
        assert_eq!(c.call(&heartbeat(1), hv).await.error_code, 0, "v{hv}");
        assert_eq!(
            c.call(&heartbeat(7), hv).await.error_code,
            code(ResponseError::IllegalGeneration),
            "Heartbeat v{hv}"
        );

        for (leaving, expected) in [
            (s("nobody"), code(ResponseError::UnknownMemberId)),
            (member.clone(), 0),
        ] {
            let request = LeaveGroupRequest::default().with_group_id(group(&name));
            let request = if lv >= 3 {
                request.with_members(vec![MemberIdentity::default().with_member_id(leaving)])
            } else {
                request.with_member_id(leaving)
            };
            let left = c.call(&request, lv).await;
            if lv >= 3 {
                assert_eq!(left.error_code, 0, "LeaveGroup v{lv}");
                assert_eq!(left.members.len(), 1);
                assert_eq!(left.members[0].error_code, expected, "LeaveGroup v{lv}");
            } else {
                assert_eq!(left.error_code, expected, "LeaveGroup v{lv}");
            }
        }
    }
}

async fn describe_and_list_groups(c: &mut Client) {
    let (member, _) = stable_group(c, "described").await;
    for v in c.versions(ApiKey::DescribeGroups) {
        let request = DescribeGroupsRequest::default()
            .with_groups(vec![group("described"), group("nobody-here"), group("")])
            .with_include_authorized_operations(v >= 3);
        let response = c.call(&request, v).await;
        let [described, unknown, empty] = &response.groups[..] else {
            panic!("v{v}: three groups expected");
        };
        assert_eq!(described.error_code, 0, "v{v}");
        assert_eq!(described.group_state.as_str(), "Stable", "v{v}");
        assert_eq!(described.protocol_type.as_str(), "consumer");
        assert_eq!(described.protocol_data.as_str(), "range");
        assert_eq!(described.members.len(), 1, "v{v}");
        assert_eq!(described.members[0].member_id, member);
        assert_eq!(
            described.authorized_operations,
            if v >= 3 { 3400 } else { i32::MIN },
            "v{v}"
        );
        assert_eq!(
            described.members[0].client_id.as_str(),
            "every-version-test"
        );
        assert_eq!(
            described.members[0].member_assignment,
            Bytes::from_static(b"assignment")
        );
        assert_eq!(unknown.error_code, 0, "v{v}");
        assert_eq!(unknown.group_state.as_str(), "Dead", "v{v}");
        assert_eq!(
            empty.error_code,
            code(ResponseError::InvalidGroupId),
            "v{v}"
        );
    }
    for v in c.versions(ApiKey::ListGroups) {
        let response = c.call(&ListGroupsRequest::default(), v).await;
        assert_eq!(response.error_code, 0, "v{v}");
        let listed = response
            .groups
            .iter()
            .find(|g| g.group_id.as_str() == "described")
            .expect("described is listed");
        assert_eq!(listed.protocol_type.as_str(), "consumer", "v{v}");
        assert_eq!(
            listed.group_state.as_str(),
            if v >= 4 { "Stable" } else { "" },
            "v{v}"
        );
        assert_eq!(
            listed.group_type.as_str(),
            if v >= 5 { "classic" } else { "" },
            "v{v}"
        );
        if v >= 4 {
            let filtered = c
                .call(
                    &ListGroupsRequest::default().with_states_filter(vec![s("Empty")]),
                    v,
                )
                .await;
            assert!(
                filtered
                    .groups
                    .iter()
                    .all(|g| g.group_id.as_str() != "described"),
                "v{v}: the state filter"
            );
        }
        if v >= 5 {
            let filtered = c
                .call(
                    &ListGroupsRequest::default().with_types_filter(vec![s("consumer")]),
                    v,
                )
                .await;
            assert!(
                filtered
                    .groups
                    .iter()
                    .all(|g| g.group_id.as_str() != "described"),
                "v{v}: the type filter"
            );
        }
    }
}

async fn offset_commit(c: &mut Client, f: &Fixture) {
    for v in c.versions(ApiKey::OffsetCommit) {
        let partitions = [(0, 2), (9, 1)]
            .iter()
            .map(|(p, o)| {
                OffsetCommitRequestPartition::default()
                    .with_partition_index(*p)
                    .with_committed_offset(*o)
                    .with_committed_metadata(Some(s("meta")))
            })
            .collect();
        let wanted = OffsetCommitRequestTopic::default().with_partitions(partitions);
        let wanted = if v >= 10 {
            wanted.with_topic_id(f.data_id)
        } else {
            wanted.with_name(topic("data"))
        };
        let request = OffsetCommitRequest::default()
            .with_group_id(group(&format!("commits-{v}")))
            .with_generation_id_or_member_epoch(-1)
            .with_topics(vec![wanted]);
        let response = c.call(&request, v).await;
        let partitions = &response.topics[0].partitions;
        assert_eq!(partitions[0].error_code, 0, "v{v}");
        assert_eq!(
            partitions[1].error_code,
            code(ResponseError::UnknownTopicOrPartition),
            "v{v}"
        );
        if v >= 10 {
            assert_eq!(response.topics[0].topic_id, f.data_id);
        } else {
            assert_eq!(response.topics[0].name.as_str(), "data");
        }

        // A stranger to a group with a member, and an admin commit (no member, no generation)
        // to it: both UNKNOWN_MEMBER_ID, as Kafka answers.
        let stranger = request
            .clone()
            .with_group_id(group("described"))
            .with_generation_id_or_member_epoch(1)
            .with_member_id(s("stranger"));
        let admin = request.clone().with_group_id(group("described"));
        for refused in [stranger, admin] {
            let response = c.call(&refused, v).await;
            assert_eq!(
                response.topics[0].partitions[0].error_code,
                code(ResponseError::UnknownMemberId),
                "v{v}"
            );
        }
        // A generation for a group that does not exist: GROUP_ID_NOT_FOUND from v9.
        let response = c
            .call(
                &request
                    .clone()
                    .with_group_id(group("no-such-group"))
                    .with_generation_id_or_member_epoch(3)
                    .with_member_id(s("someone")),
                v,
            )
            .await;
        let expected = if v >= 9 {
            ResponseError::GroupIdNotFound
        } else {
            ResponseError::IllegalGeneration
        };
        assert_eq!(
            response.topics[0].partitions[0].error_code,
            code(expected),
            "v{v}"
        );
    }
}

async fn offset_fetch(c: &mut Client, f: &Fixture) {
    commit_standalone(c, "fetched", &[(0, 2), (1, 1)]).await;
    for v in c.versions(ApiKey::OffsetFetch) {
        let expect = |rows: Vec<(i32, i64, i32, Option<&str>)>| {
            assert_eq!(
                rows,
                vec![
                    (0, 2, if v >= 5 { 0 } else { -1 }, Some("")),
                    (1, 1, if v >= 5 { 0 } else { -1 }, Some("")),
                    (5, -1, -1, Some("")),
                ],
                "v{v}"
            )
        };
        if v < 8 {
            let request = OffsetFetchRequest::default()
                .with_group_id(group("fetched"))
                .with_topics(Some(vec![
                    OffsetFetchRequestTopic::default()
                        .with_name(topic("data"))
                        .with_partition_indexes(vec![0, 1, 5]),
                ]));
            let response = c.call(&request, v).await;
            assert_eq!(response.error_code, 0, "v{v}");
            let topic_response = &response.topics[0];
            assert_eq!(topic_response.name.as_str(), "data");
            expect(
                topic_response
                    .partitions
                    .iter()
                    .map(|p| {
                        (
                            p.partition_index,
                            p.committed_offset,
                            p.committed_leader_epoch,
                            p.metadata.as_deref(),
                        )
                    })
                    .collect(),
            );
            if v >= 2 {
                let all = c
                    .call(
                        &OffsetFetchRequest::default()
                            .with_group_id(group("fetched"))
                            .with_topics(None),
                        v,
                    )
                    .await;
                assert_eq!(all.topics[0].partitions.len(), 2, "v{v}: all partitions");
            }
        } else {
            let wanted = OffsetFetchRequestTopics::default().with_partition_indexes(vec![0, 1, 5]);
            let wanted = if v >= 10 {
                wanted.with_topic_id(f.data_id)
            } else {
                wanted.with_name(topic("data"))
            };
            let request = OffsetFetchRequest::default().with_groups(vec![
                OffsetFetchRequestGroup::default()
                    .with_group_id(group("fetched"))
                    .with_topics(Some(vec![wanted])),
                OffsetFetchRequestGroup::default()
                    .with_group_id(group("fetched"))
                    .with_topics(None),
            ]);
            let response = c.call(&request, v).await;
            assert_eq!(response.groups.len(), 2, "v{v}");
            let one = &response.groups[0];
            assert_eq!(one.error_code, 0, "v{v}");
            let topic_response = &one.topics[0];
            if v >= 10 {
                assert_eq!(topic_response.topic_id, f.data_id);
            } else {
                assert_eq!(topic_response.name.as_str(), "data");
            }
            expect(
                topic_response
                    .partitions
                    .iter()
                    .map(|p| {
                        (
                            p.partition_index,
                            p.committed_offset,
                            p.committed_leader_epoch,
                            p.metadata.as_deref(),
                        )
                    })
                    .collect(),
            );
            assert_eq!(response.groups[1].topics[0].partitions.len(), 2, "v{v}");
        }
    }
}

async fn delete_groups(c: &mut Client) {
    for v in c.versions(ApiKey::DeleteGroups) {
        let name = format!("deletable-{v}");
        commit_standalone(c, &name, &[(0, 1)]).await;
        let request = DeleteGroupsRequest::default().with_groups_names(vec![
            group(&name),
            group("never-existed"),
            group("described"),
        ]);
        let response = c.call(&request, v).await;
        assert_codes(
            response.results.iter().map(|r| r.error_code),
            &[
                0,
                code(ResponseError::GroupIdNotFound),
                code(ResponseError::NonEmptyGroup),
            ],
            v,
        );
    }
}

async fn offset_delete(c: &mut Client) {
    commit_standalone(c, "offsets-deleted", &[(0, 1), (1, 1)]).await;
    for v in c.versions(ApiKey::OffsetDelete) {
        let request = |name: &str| {
            OffsetDeleteRequest::default()
                .with_group_id(group(name))
                .with_topics(vec![
                    OffsetDeleteRequestTopic::default()
                        .with_name(topic("data"))
                        .with_partitions(vec![
                            OffsetDeleteRequestPartition::default().with_partition_index(0),
                        ]),
                ])
        };
        let response = c.call(&request("offsets-deleted"), v).await;
        assert_eq!(response.error_code, 0, "v{v}");
        assert_eq!(response.topics[0].partitions[0].error_code, 0, "v{v}");
        let response = c.call(&request("never-existed"), v).await;
        assert_eq!(
            response.error_code,
            code(ResponseError::GroupIdNotFound),
            "v{v}"
        );
    }
}

fn join_consumer_group(name: &str, member: &str) -> ConsumerGroupHeartbeatRequest {
    ConsumerGroupHeartbeatRequest::default()
        .with_group_id(group(name))
        .with_member_id(s(member))
        .with_member_epoch(0)
        .with_rebalance_timeout_ms(30_000)
        .with_subscribed_topic_names(Some(vec![topic("data")]))
        .with_topic_partitions(Some(Vec::new()))
}

async fn consumer_group_heartbeat(c: &mut Client) {
    for v in c.versions(ApiKey::ConsumerGroupHeartbeat) {
        let name = format!("cg-{v}");
        let member = Uuid::new_v4().to_string();
        let joined = c.call(&join_consumer_group(&name, &member), v).await;
        assert_eq!(joined.error_code, 0, "v{v}: {:?}", joined.error_message);
        assert_eq!(joined.member_id.as_deref(), Some(member.as_str()), "v{v}");
        assert!(joined.member_epoch >= 1, "v{v}");
        assert!(joined.heartbeat_interval_ms > 0, "v{v}");
        let assigned: usize = joined.assignment.as_ref().map_or(0, |a| {
            a.topic_partitions.iter().map(|t| t.partitions.len()).sum()
        });
        assert_eq!(assigned, 2, "v{v}: both partitions of data");

        let stale = ConsumerGroupHeartbeatRequest::default()
            .with_group_id(group(&name))
            .with_member_id(s(&member))
            .with_member_epoch(joined.member_epoch + 5);
        let fenced = c.call(&stale, v).await;
        assert_eq!(
            fenced.error_code,
            code(ResponseError::FencedMemberEpoch),
            "v{v}"
        );
        assert!(fenced.error_message.is_some(), "v{v}");

        let leave = ConsumerGroupHeartbeatRequest::default()
            .with_group_id(group(&name))
            .with_member_id(s(&member))
            .with_member_epoch(-1);
        let left = c.call(&leave, v).await;
        assert_eq!(left.error_code, 0, "v{v}");
        assert_eq!(left.member_epoch, -1, "v{v}");
    }
}

async fn consumer_group_describe(c: &mut Client) {
    let member = Uuid::new_v4().to_string();
    let v = c.max(ApiKey::ConsumerGroupHeartbeat);
    let joined = c.call(&join_consumer_group("cgd", &member), v).await;
    assert_eq!(joined.error_code, 0);
    for v in c.versions(ApiKey::ConsumerGroupDescribe) {
        let request = ConsumerGroupDescribeRequest::default()
            .with_group_ids(vec![group("cgd"), group("described"), group("nobody-here")])
            .with_include_authorized_operations(true);
        let response = c.call(&request, v).await;
        let [cgd, classic, unknown] = &response.groups[..] else {
            panic!("v{v}: three groups expected");
        };
        assert_eq!(cgd.error_code, 0, "v{v}");
        assert_eq!(cgd.group_state.as_str(), "Stable", "v{v}");
        assert_eq!(cgd.assignor_name.as_str(), "uniform", "v{v}");
        assert_eq!(cgd.authorized_operations, 3400, "v{v}");
        assert_eq!(cgd.members.len(), 1, "v{v}");
        assert_eq!(cgd.members[0].member_id.as_str(), member);
        assert_eq!(cgd.members[0].subscribed_topic_names, vec![topic("data")]);
        let assigned: Vec<i32> = cgd.members[0]
            .assignment
            .topic_partitions
            .iter()
            .flat_map(|t| t.partitions.clone())
            .collect();
        assert_eq!(assigned, vec![0, 1], "v{v}");
        assert_eq!(
            classic.error_code,
            code(ResponseError::GroupIdNotFound),
            "v{v}"
        );
        assert_eq!(
            unknown.error_code,
            code(ResponseError::GroupIdNotFound),
            "v{v}"
        );
    }
}

async fn share_group_heartbeat(c: &mut Client) {
    for v in c.versions(ApiKey::ShareGroupHeartbeat) {
        let request = ShareGroupHeartbeatRequest::default()
            .with_group_id(group("shared"))
            .with_member_id(s(&Uuid::new_v4().to_string()))
            .with_subscribed_topic_names(Some(vec![topic("data")]));
        let response = c.call(&request, v).await;
        assert_eq!(
            response.error_code,
            code(ResponseError::UnsupportedVersion),
            "v{v}: share groups are refused"
        );
        assert!(
            response
                .error_message
                .as_deref()
                .is_some_and(|m| m.contains("share groups")),
            "v{v}"
        );
    }
}

/// A static member (group.instance.id) restarting under a new member id fences the old one:
/// its heartbeats, syncs and rejoins get FENCED_INSTANCE_ID (JoinGroup has instance ids from
/// v5, Heartbeat from v3).
async fn static_members_are_fenced(c: &mut Client) {
    for v in 5..=c.max(ApiKey::JoinGroup) {
        let name = format!("static-{v}");
        let join = |member: &str| {
            JoinGroupRequest::default()
                .with_group_id(group(&name))
                .with_session_timeout_ms(30_000)
                .with_rebalance_timeout_ms(30_000)
                .with_member_id(s(member))
                .with_group_instance_id(Some(s("instance-a")))
                .with_protocol_type(s("consumer"))
                .with_protocols(vec![
                    JoinGroupRequestProtocol::default()
                        .with_name(s("range"))
                        .with_metadata(Bytes::from_static(b"subscription")),
                ])
        };
        let first = c.call(&join(""), v).await;
        assert_eq!(
            first.error_code, 0,
            "JoinGroup v{v}: static members need no second join"
        );
        let sv = c.max(ApiKey::SyncGroup);
        let synced = c
            .call(
                &SyncGroupRequest::default()
                    .with_group_id(group(&name))
                    .with_generation_id(first.generation_id)
                    .with_member_id(first.member_id.clone())
                    .with_group_instance_id(Some(s("instance-a")))
                    .with_protocol_type(Some(s("consumer")))
                    .with_protocol_name(Some(s("range")))
                    .with_assignments(vec![
                        SyncGroupRequestAssignment::default()
                            .with_member_id(first.member_id.clone())
                            .with_assignment(Bytes::from_static(b"a")),
                    ]),
                sv,
            )
            .await;
        assert_eq!(synced.error_code, 0);
        // The same instance starts again and joins without its old member id.
        let second = c.call(&join(""), v).await;
        assert_eq!(second.error_code, 0, "JoinGroup v{v}");
        assert_ne!(second.member_id, first.member_id);
        let hv = c.max(ApiKey::Heartbeat);
        let old = c
            .call(
                &HeartbeatRequest::default()
                    .with_group_id(group(&name))
                    .with_generation_id(first.generation_id)
                    .with_member_id(first.member_id.clone())
                    .with_group_instance_id(Some(s("instance-a"))),
                hv,
            )
            .await;
        assert_eq!(
            old.error_code,
            code(ResponseError::FencedInstanceId),
            "v{v}: the old member is fenced"
        );
        let rejoin = c.call(&join(first.member_id.as_str()), v).await;
        assert_eq!(
            rejoin.error_code,
            code(ResponseError::FencedInstanceId),
            "JoinGroup v{v}"
        );
    }
}

async fn elect_leaders(c: &mut Client) {
    use kafka_protocol::messages::elect_leaders_request::TopicPartitions;
    for v in c.versions(ApiKey::ElectLeaders) {
        let request = ElectLeadersRequest::default()
            .with_timeout_ms(5000)
            .with_topic_partitions(Some(vec![
                TopicPartitions::default()
                    .with_topic(topic("data"))
                    .with_partitions(vec![0, 9]),
            ]));
        let response = c.call(&request, v).await;
        assert_eq!(response.error_code, 0, "v{v}");
        let results = &response.replica_election_results[0].partition_result;
        assert_eq!(
            (results[0].partition_id, results[0].error_code),
            (0, code(ResponseError::ElectionNotNeeded)),
            "v{v}"
        );
        assert_eq!(
            results[1].error_code,
            code(ResponseError::UnknownTopicOrPartition),
            "v{v}"
        );
        // Every partition: none needs an election, so none is listed.
        let all = c.call(&request.with_topic_partitions(None), v).await;
        assert!(all.replica_election_results.is_empty(), "v{v}");
    }
}

async fn alter_replica_log_dirs(c: &mut Client) {
    use kafka_protocol::messages::alter_replica_log_dirs_request::{
        AlterReplicaLogDir, AlterReplicaLogDirTopic,
    };
    let dirs = c
        .call(
            &DescribeLogDirsRequest::default().with_topics(None),
            c.max(ApiKey::DescribeLogDirs),
        )
        .await;
    let ours = dirs.results[0].log_dir.clone();
    for v in c.versions(ApiKey::AlterReplicaLogDirs) {
        let dir = |path: StrBytes, partitions: Vec<i32>| {
            AlterReplicaLogDir::default()
                .with_path(path)
                .with_topics(vec![
                    AlterReplicaLogDirTopic::default()
                        .with_name(topic("data"))
                        .with_partitions(partitions),
                ])
        };
        let request = AlterReplicaLogDirsRequest::default().with_dirs(vec![
            dir(ours.clone(), vec![0, 9]),
            dir(s("/no/such/log/dir"), vec![1]),
        ]);
        let response = c.call(&request, v).await;
        assert_eq!(response.results.len(), 1, "v{v}: one result per topic");
        let codes: Vec<(i32, i16)> = response.results[0]
            .partitions
            .iter()
            .map(|p| (p.partition_index, p.error_code))
            .collect();
        assert_eq!(
            codes,
            [
                (0, 0),
                (9, code(ResponseError::ReplicaNotAvailable)),
                (1, code(ResponseError::LogDirNotFound))
            ],
            "v{v}"
        );
    }
}

async fn describe_quorum(c: &mut Client) {
    use kafka_protocol::messages::describe_quorum_request::{PartitionData, TopicData};
    for v in c.versions(ApiKey::DescribeQuorum) {
        let request = DescribeQuorumRequest::default().with_topics(vec![
            TopicData::default()
                .with_topic_name(topic("__cluster_metadata"))
                .with_partitions(vec![PartitionData::default().with_partition_index(0)]),
        ]);
        let response = c.call(&request, v).await;
        assert_eq!(response.error_code, 0, "v{v}");
        let partition = &response.topics[0].partitions[0];
        assert_eq!(partition.error_code, 0, "v{v}");
        assert_eq!(partition.leader_id.0, NODE, "v{v}");
        assert!(partition.leader_epoch >= 1, "v{v}");
        assert!(partition.high_watermark > 0, "v{v}: topics were created");
        assert_eq!(partition.current_voters.len(), 1, "v{v}");
        let voter = &partition.current_voters[0];
        assert_eq!(voter.replica_id.0, NODE);
        assert_eq!(voter.log_end_offset, partition.high_watermark);
        assert_eq!(voter.last_caught_up_timestamp > 0, v >= 1, "v{v}");
        assert!(partition.observers.is_empty());
        if v >= 2 {
            assert_eq!(response.nodes.len(), 1);
            assert_eq!(response.nodes[0].listeners[0].port, c.port);
        }
    }
}

async fn partition_reassignments(c: &mut Client) {
    use kafka_protocol::messages::alter_partition_reassignments_request::{
        ReassignablePartition, ReassignableTopic,
    };
    for v in c.versions(ApiKey::AlterPartitionReassignments) {
        let partition = |index: i32, replicas: Option<Vec<i32>>| {
            ReassignablePartition::default()
                .with_partition_index(index)
                .with_replicas(replicas.map(|r| r.into_iter().map(BrokerId).collect()))
        };
        let request = AlterPartitionReassignmentsRequest::default()
            .with_timeout_ms(5000)
            .with_topics(vec![
                ReassignableTopic::default()
                    .with_name(topic("data"))
                    .with_partitions(vec![
                        partition(0, Some(vec![NODE])),
                        partition(1, Some(vec![2])),
                        partition(9, Some(vec![NODE])),
                        partition(0, None),
                    ]),
            ]);
        let response = c.call(&request, v).await;
        assert_eq!(response.error_code, 0, "v{v}");
        let codes: Vec<i16> = response.responses[0]
            .partitions
            .iter()
            .map(|p| p.error_code)
            .collect();
        assert_eq!(
            codes,
            [
                0,
                code(ResponseError::InvalidReplicaAssignment),
                code(ResponseError::UnknownTopicOrPartition),
                code(ResponseError::NoReassignmentInProgress)
            ],
            "v{v}"
        );
    }
    for v in c.versions(ApiKey::ListPartitionReassignments) {
        let response = c
            .call(
                &ListPartitionReassignmentsRequest::default()
                    .with_timeout_ms(5000)
                    .with_topics(None),
                v,
            )
            .await;
        assert_eq!(response.error_code, 0, "v{v}");
        assert!(response.topics.is_empty(), "v{v}: nothing is ever moving");
    }
}

async fn describe_topic_partitions(c: &mut Client) {
    use kafka_protocol::messages::describe_topic_partitions_request::{Cursor, TopicRequest};
    for v in c.versions(ApiKey::DescribeTopicPartitions) {
        let wanted = ["produced", "data", "missing"]
            .iter()
            .map(|n| TopicRequest::default().with_name(topic(n)))
            .collect::<Vec<_>>();
        let request = DescribeTopicPartitionsRequest::default()
            .with_topics(wanted.clone())
            .with_response_partition_limit(2);
        let page = c.call(&request, v).await;
        // Name order: data (2 partitions) fills the page.
        assert_eq!(page.topics.len(), 1, "v{v}");
        let data = &page.topics[0];
        assert_eq!(data.name.as_ref().map(|n| n.as_str()), Some("data"));
        assert_eq!(data.error_code, 0);
        assert_eq!(data.partitions.len(), 2);
        assert_eq!(data.partitions[1].leader_id.0, NODE);
        assert_eq!(data.partitions[1].isr_nodes, vec![BrokerId(NODE)]);
        assert_eq!(data.topic_authorized_operations, 3576);
        let cursor = page.next_cursor.expect("more to come");
        assert_eq!(
            (cursor.topic_name.as_str(), cursor.partition_index),
            ("missing", 0)
        );
        let rest = c
            .call(
                &request.with_cursor(Some(
                    Cursor::default()
                        .with_topic_name(cursor.topic_name)
                        .with_partition_index(cursor.partition_index),
                )),
                v,
            )
            .await;
        let names: Vec<(&str, i16)> = rest
            .topics
            .iter()
            .map(|t| (t.name.as_ref().map_or("", |n| n.as_str()), t.error_code))
            .collect();
        assert_eq!(
            names,
            [
                ("missing", code(ResponseError::UnknownTopicOrPartition)),
                ("produced", 0)
            ],
            "v{v}"
        );
        assert!(rest.next_cursor.is_none());
    }
}

/// No authorizer: every ACL request gets SECURITY_DISABLED, as from Kafka without one.
async fn acls_without_an_authorizer(c: &mut Client) {
    use kafka_protocol::messages::create_acls_request::AclCreation;
    use kafka_protocol::messages::delete_acls_request::DeleteAclsFilter;
    let disabled = code(ResponseError::SecurityDisabled);
    for v in c.versions(ApiKey::DescribeAcls) {
        let request = DescribeAclsRequest::default()
            .with_resource_type_filter(1)
            .with_pattern_type_filter(1)
            .with_operation(1)
            .with_permission_type(1);
        let response = c.call(&request, v).await;
        assert_eq!(response.error_code, disabled, "v{v}");
        assert!(response.error_message.is_some(), "v{v}");
    }
    for v in c.versions(ApiKey::CreateAcls) {
        let creation = AclCreation::default()
            .with_resource_type(2)
            .with_resource_name(s("data"))
            .with_resource_pattern_type(3)
            .with_principal(s("User:alice"))
            .with_host(s("*"))
            .with_operation(3)
            .with_permission_type(3);
        let request = CreateAclsRequest::default().with_creations(vec![creation.clone(), creation]);
        let response = c.call(&request, v).await;
        assert_eq!(response.results.len(), 2, "v{v}");
        assert!(
            response.results.iter().all(|r| r.error_code == disabled),
            "v{v}"
        );
    }
    for v in c.versions(ApiKey::DeleteAcls) {
        let request = DeleteAclsRequest::default().with_filters(vec![
            DeleteAclsFilter::default()
                .with_resource_type_filter(1)
                .with_pattern_type_filter(1)
                .with_operation(1)
                .with_permission_type(1),
        ]);
        let response = c.call(&request, v).await;
        assert_eq!(response.filter_results.len(), 1, "v{v}");
        assert_eq!(response.filter_results[0].error_code, disabled, "v{v}");
    }
}

/// A transactional id's producer id and epoch, from InitProducerId at its newest version.
async fn init_transactional(c: &mut Client, id: &str) -> (ProducerId, i16) {
    let v = c.max(ApiKey::InitProducerId);
    let response = c
        .call(
            &InitProducerIdRequest::default()
                .with_transactional_id(Some(TransactionalId(s(id))))
                .with_transaction_timeout_ms(60_000)
                .with_producer_id(ProducerId(-1))
                .with_producer_epoch(-1),
            v,
        )
        .await;
    assert_eq!(response.error_code, 0, "init {id}");
    (response.producer_id, response.producer_epoch)
}

/// AddPartitionsToTxn at the newest client version (v3) for one transaction.
async fn add_partitions(
    c: &mut Client,
    id: &str,
    producer: (ProducerId, i16),
    partitions: &[(&str, i32)],
) -> Vec<i16> {
    use kafka_protocol::messages::add_partitions_to_txn_request::AddPartitionsToTxnTopic;
    let topics = partitions
        .iter()
        .map(|(t, p)| {
            AddPartitionsToTxnTopic::default()
                .with_name(topic(t))
                .with_partitions(vec![*p])
        })
        .collect();
    let response = c
        .call(
            &AddPartitionsToTxnRequest::default()
                .with_v3_and_below_transactional_id(TransactionalId(s(id)))
                .with_v3_and_below_producer_id(producer.0)
                .with_v3_and_below_producer_epoch(producer.1)
                .with_v3_and_below_topics(topics),
            3,
        )
        .await;
    response
        .results_by_topic_v3_and_below
        .iter()
        .flat_map(|t| {
            t.results_by_partition
                .iter()
                .map(|p| p.partition_error_code)
        })
        .collect()
}

async fn end_txn(
    c: &mut Client,
    id: &str,
    producer: (ProducerId, i16),
    commit: bool,
    v: i16,
) -> i16 {
    c.call(
        &EndTxnRequest::default()
            .with_transactional_id(TransactionalId(s(id)))
            .with_producer_id(producer.0)
            .with_producer_epoch(producer.1)
            .with_committed(commit),
        v,
    )
    .await
    .error_code
}

/// The transaction APIs at every version, with Kafka's error codes; read_committed Fetch and
/// ListOffsets; require_stable OffsetFetch.
async fn transactions(c: &mut Client) {
    use kafka_protocol::messages::add_partitions_to_txn_request::{
        AddPartitionsToTxnTopic, AddPartitionsToTxnTransaction,
    };
    use kafka_protocol::messages::txn_offset_commit_request::{
        TxnOffsetCommitRequestPartition, TxnOffsetCommitRequestTopic,
    };
    let txn_data_id = create_topic(c, "txn-data", 2).await;
    let not_attempted = code(ResponseError::OperationNotAttempted);
    let unknown = code(ResponseError::UnknownTopicOrPartition);

    for v in c.versions(ApiKey::AddPartitionsToTxn) {
        let id = format!("apt-v{v}");
        let producer = init_transactional(c, &id).await;
        let topics = |partitions: &[i32]| {
            vec![
                AddPartitionsToTxnTopic::default()
                    .with_name(topic("txn-data"))
                    .with_partitions(partitions.to_vec()),
            ]
        };
        if v <= 3 {
            let request = |partitions: &[i32]| {
                AddPartitionsToTxnRequest::default()
                    .with_v3_and_below_transactional_id(TransactionalId(s(&id)))
                    .with_v3_and_below_producer_id(producer.0)
                    .with_v3_and_below_producer_epoch(producer.1)
                    .with_v3_and_below_topics(topics(partitions))
            };
            let codes = |r: &AddPartitionsToTxnResponse| -> Vec<i16> {
                r.results_by_topic_v3_and_below[0]
                    .results_by_partition
                    .iter()
                    .map(|p| p.partition_error_code)
                    .collect()
            };
            let bad = c.call(&request(&[0, 9]), v).await;
            assert_eq!(codes(&bad), vec![not_attempted, unknown], "v{v}");
            let good = c.call(&request(&[0, 1]), v).await;
            assert_eq!(codes(&good), vec![0, 0], "v{v}");
            let fenced = c
                .call(
                    &request(&[0]).with_v3_and_below_producer_epoch(producer.1 + 1),
                    v,
                )
                .await;
            assert_eq!(
                codes(&fenced),
                vec![code(ResponseError::ProducerFenced)],
                "v{v}"
            );
        } else {
            // Batched: one transaction added, one only verified (KIP-890).
            let txn = |verify_only: bool, partitions: &[i32]| {
                AddPartitionsToTxnTransaction::default()
                    .with_transactional_id(TransactionalId(s(&id)))
                    .with_producer_id(producer.0)
                    .with_producer_epoch(producer.1)
                    .with_verify_only(verify_only)
                    .with_topics(topics(partitions))
            };
            let response = c
                .call(
                    &AddPartitionsToTxnRequest::default().with_transactions(vec![txn(true, &[1])]),
                    v,
                )
                .await;
            let result = &response.results_by_transaction[0];
            assert_eq!(result.transactional_id.as_str(), id);
            assert_eq!(
                result.topic_results[0].results_by_partition[0].partition_error_code,
                code(ResponseError::InvalidTxnState),
                "v{v}: not in the transaction yet"
            );
            c.call(
                &AddPartitionsToTxnRequest::default().with_transactions(vec![txn(false, &[1])]),
                v,
            )
            .await;
            let verified = c
                .call(
                    &AddPartitionsToTxnRequest::default().with_transactions(vec![txn(true, &[1])]),
                    v,
                )
                .await;
            assert_eq!(
                verified.results_by_transaction[0].topic_results[0].results_by_partition[0]
                    .partition_error_code,
                0,
                "v{v}"
            );
        }
        assert_eq!(
            end_txn(c, &id, producer, false, c.max(ApiKey::EndTxn)).await,
            0
        );
    }

    for v in c.versions(ApiKey::EndTxn) {
        let id = format!("end-v{v}");
        let producer = init_transactional(c, &id).await;
        assert_eq!(
            end_txn(c, &id, producer, true, v).await,
            code(ResponseError::InvalidTxnState),
            "v{v}: nothing to commit"
        );
        assert_eq!(
            add_partitions(c, &id, producer, &[("txn-data", 0)]).await,
            vec![0]
        );
        assert_eq!(
            end_txn(c, &id, (producer.0, producer.1 + 1), true, v).await,
            code(ResponseError::ProducerFenced),
            "v{v}"
        );
        assert_eq!(
            end_txn(c, &id, (ProducerId(producer.0.0 + 1), producer.1), true, v).await,
            code(ResponseError::InvalidProducerIdMapping),
            "v{v}"
        );
        assert_eq!(end_txn(c, &id, producer, true, v).await, 0, "v{v}");
        assert_eq!(end_txn(c, &id, producer, true, v).await, 0, "v{v}: a retry");
        assert_eq!(
            end_txn(c, &id, producer, false, v).await,
            code(ResponseError::InvalidTxnState),
            "v{v}"
        );
    }

    for v in c.versions(ApiKey::AddOffsetsToTxn) {
        let id = format!("ao-v{v}");
        let producer = init_transactional(c, &id).await;
        let request = AddOffsetsToTxnRequest::default()
            .with_transactional_id(TransactionalId(s(&id)))
            .with_producer_id(producer.0)
            .with_producer_epoch(producer.1)
            .with_group_id(group("txn-group"));
        assert_eq!(c.call(&request, v).await.error_code, 0, "v{v}");
        let wrong = c
            .call(&request.with_producer_id(ProducerId(producer.0.0 + 1)), v)
            .await;
        assert_eq!(
            wrong.error_code,
            code(ResponseError::InvalidProducerIdMapping),
            "v{v}"
        );
        assert_eq!(
            end_txn(c, &id, producer, false, c.max(ApiKey::EndTxn)).await,
            0
        );
    }

    let offset_fetch_v = c.max(ApiKey::OffsetFetch);
    for v in c.versions(ApiKey::TxnOffsetCommit) {
        let id = format!("toc-v{v}");
        let group_id = format!("toc-group-v{v}");
        let producer = init_transactional(c, &id).await;
        let commit = TxnOffsetCommitRequest::default()
            .with_transactional_id(TransactionalId(s(&id)))
            .with_group_id(group(&group_id))
            .with_producer_id(producer.0)
            .with_producer_epoch(producer.1)
            .with_generation_id(-1)
            .with_topics(vec![
                TxnOffsetCommitRequestTopic::default()
                    .with_name(topic("txn-data"))
                    .with_partitions(vec![
                        TxnOffsetCommitRequestPartition::default()
                            .with_partition_index(0)
                            .with_committed_offset(2)
                            .with_committed_leader_epoch(-1),
                    ]),
            ]);
        let partition_code = |r: &TxnOffsetCommitResponse| r.topics[0].partitions[0].error_code;
        // Without AddOffsetsToTxn first: not part of the transaction.
        let early = c.call(&commit, v).await;
        assert_eq!(
            partition_code(&early),
            code(ResponseError::InvalidTxnState),
            "v{v}"
        );
        let add = AddOffsetsToTxnRequest::default()
            .with_transactional_id(TransactionalId(s(&id)))
            .with_producer_id(producer.0)
            .with_producer_epoch(producer.1)
            .with_group_id(group(&group_id));
        assert_eq!(
            c.call(&add, c.max(ApiKey::AddOffsetsToTxn))
                .await
                .error_code,
            0
        );
        assert_eq!(partition_code(&c.call(&commit, v).await), 0, "v{v}");
        let fetch_offset = async |c: &mut Client, stable: bool| {
            let request = OffsetFetchRequest::default()
                .with_require_stable(stable)
                .with_groups(vec![
                    OffsetFetchRequestGroup::default()
                        .with_group_id(group(&group_id))
                        .with_topics(Some(vec![
                            OffsetFetchRequestTopics::default()
                                .with_name(topic("txn-data"))
                                .with_partition_indexes(vec![0]),
                        ])),
                ]);
            let response = c.call(&request, offset_fetch_v).await;
            let p = &response.groups[0].topics[0].partitions[0];
            (p.committed_offset, p.error_code)
        };
        assert_eq!(
            fetch_offset(c, true).await,
            (-1, code(ResponseError::UnstableOffsetCommit)),
            "v{v}: pending until the transaction ends"
        );
        assert_eq!(fetch_offset(c, false).await, (-1, 0), "v{v}");
        assert_eq!(
            end_txn(c, &id, producer, true, c.max(ApiKey::EndTxn)).await,
            0
        );
        assert_eq!(fetch_offset(c, true).await, (2, 0), "v{v}: committed");
    }

    // DescribeTransactions, ListTransactions, DescribeProducers, and read_committed reads,
    // around a transaction left open on txn-data partition 1.
    let producer = init_transactional(c, "open-one").await;
    assert_eq!(
        add_partitions(c, "open-one", producer, &[("txn-data", 1)]).await,
        vec![0]
    );
    let mut builder = RecordBatchBuilder::new(Compression::None)
        .producer(producer.0.0, producer.1, 0)
        .transactional(true);
    builder.append(1000, Some(b"k"), Some(b"open"), &[]);
    // Earlier transactions left their markers on this partition.
    let start = produce(c, "txn-data", 1, builder.build()).await;
    assert!(start > 0);
    produce(c, "txn-data", 1, batch(1000, "plain")).await;

    for v in c.versions(ApiKey::DescribeTransactions) {
        let response = c
            .call(
                &DescribeTransactionsRequest::default().with_transactional_ids(vec![
                    TransactionalId(s("open-one")),
                    TransactionalId(s("toc-v0")),
                    TransactionalId(s("nobody")),
                ]),
                v,
            )
            .await;
        let states: Vec<(&str, i16, &str)> = response
            .transaction_states
            .iter()
            .map(|t| {
                (
                    t.transactional_id.as_str(),
                    t.error_code,
                    t.transaction_state.as_str(),
                )
            })
            .collect();
        assert_eq!(
            states,
            vec![
                ("open-one", 0, "Ongoing"),
                ("toc-v0", 0, "CompleteCommit"),
                ("nobody", code(ResponseError::TransactionalIdNotFound), ""),
            ],
            "v{v}"
        );
        let open = &response.transaction_states[0];
        assert_eq!(open.producer_id, producer.0);
        assert_eq!(open.topics[0].topic.as_str(), "txn-data");
        assert_eq!(open.topics[0].partitions, vec![1]);
        assert!(open.transaction_start_time_ms > 0);
    }
    for v in c.versions(ApiKey::ListTransactions) {
        let mut request = ListTransactionsRequest::default()
            .with_state_filters(vec![s("Ongoing"), s("Bogus")])
            .with_duration_filter(-1);
        if v >= 2 {
            request = request.with_transactional_id_pattern(Some(s("open-.*")));
        }
        let response = c.call(&request, v).await;
        assert_eq!(response.error_code, 0, "v{v}");
        assert_eq!(response.unknown_state_filters, vec![s("Bogus")], "v{v}");
        let listed: Vec<&str> = response
            .transaction_states
            .iter()
            .map(|t| t.transactional_id.as_str())
            .collect();
        assert_eq!(listed, vec!["open-one"], "v{v}");
    }
    for v in c.versions(ApiKey::DescribeProducers) {
        let response = c
            .call(
                &DescribeProducersRequest::default().with_topics(vec![
                    describe_producers_request::TopicRequest::default()
                        .with_name(topic("txn-data"))
                        .with_partition_indexes(vec![1, 7]),
                ]),
                v,
            )
            .await;
        let partitions = &response.topics[0].partitions;
        assert_eq!(partitions[0].error_code, 0, "v{v}");
        // Every producer that wrote here, markers included, as Kafka lists them; one is open.
        let active = &partitions[0].active_producers;
        let open: Vec<_> = active
            .iter()
            .filter(|p| p.current_txn_start_offset >= 0)
            .collect();
        assert_eq!(open.len(), 1, "v{v}");
        assert_eq!(open[0].producer_id, producer.0);
        assert_eq!(open[0].current_txn_start_offset, start);
        assert_eq!(open[0].last_sequence, 0);
        assert_eq!(partitions[1].error_code, unknown, "v{v}");
    }

    // read_committed: nothing is stable on partition 1 while the transaction is open.
    let fetch_v = c.max(ApiKey::Fetch);
    let read = async |c: &mut Client, isolation: i8| {
        let request = FetchRequest::default()
            .with_max_wait_ms(0)
            .with_isolation_level(isolation)
            .with_max_bytes(1 << 20)
            .with_topics(vec![
                FetchTopic::default()
                    .with_topic(topic("txn-data"))
                    .with_topic_id(txn_data_id)
                    .with_partitions(vec![
                        FetchPartition::default()
                            .with_partition(1)
                            .with_fetch_offset(start)
                            .with_partition_max_bytes(1 << 20),
                    ]),
            ]);
        let response = c.call(&request, fetch_v).await;
        response.responses[0].partitions[0].clone()
    };
    let committed = read(c, 1).await;
    assert_eq!(
        (committed.high_watermark, committed.last_stable_offset),
        (start + 2, start)
    );
    assert!(committed.records.as_ref().is_none_or(|r| r.is_empty()));
    assert_eq!(committed.aborted_transactions, Some(vec![]));
    let uncommitted = read(c, 0).await;
    assert_eq!(Batches::new(uncommitted.records.unwrap()).count(), 2);
    let list_latest = async |c: &mut Client, isolation: i8| {
        let request = ListOffsetsRequest::default()
            .with_isolation_level(isolation)
            .with_topics(vec![
                ListOffsetsTopic::default()
                    .with_name(topic("txn-data"))
                    .with_partitions(vec![
                        ListOffsetsPartition::default()
                            .with_partition_index(1)
                            .with_timestamp(-1),
                    ]),
            ]);
        let v = c.max(ApiKey::ListOffsets);
        c.call(&request, v).await.topics[0].partitions[0].offset
    };
    assert_eq!(list_latest(c, 1).await, start);
    assert_eq!(list_latest(c, 0).await, start + 2);
    // Aborted: the whole range is stable and the abort is reported.
    assert_eq!(
        end_txn(c, "open-one", producer, false, c.max(ApiKey::EndTxn)).await,
        0
    );
    let committed = read(c, 1).await;
    assert_eq!(committed.last_stable_offset, start + 3);
    let aborted = committed.aborted_transactions.unwrap();
    assert_eq!(aborted.len(), 1);
    assert_eq!(
        (aborted[0].producer_id, aborted[0].first_offset),
        (producer.0, start)
    );
    assert_eq!(list_latest(c, 1).await, start + 3);
}
