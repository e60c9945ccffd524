"""The admin calls and group behaviours clients hit after the basics, with kafka-python's and
confluent-kafka's admin clients, each answered as a one-node Kafka 4.x answers it. The broker
runs with group.min.session.timeout.ms=1000 and group.max.session.timeout.ms=120000."""
import sys
import time
import uuid

import confluent_kafka
from confluent_kafka import Consumer, KafkaError, KafkaException, Producer
from confluent_kafka.admin import (AclOperation, AdminClient, ConfigResource, NewPartitions,
                                   NewTopic, ResourceType)
from kafka import KafkaConsumer, KafkaProducer, TopicPartition
from kafka import errors as kerrors
from kafka.admin import ConfigResource as KConfigResource
from kafka.admin import ConfigResourceType, KafkaAdminClient
from kafka.admin import NewPartitions as KNewPartitions
from kafka.admin import NewTopic as KNewTopic
from kafka.structs import OffsetAndMetadata

from waiting import subscribed  # noqa: E402

bootstrap = sys.argv[1]
run = uuid.uuid4().hex[:6]
kadmin = KafkaAdminClient(bootstrap_servers=bootstrap, client_id="admin-gaps")
cadmin = AdminClient({"bootstrap.servers": bootstrap})
topic = f"gaps-{run}"


def ok(label):
    print(f"ok: {label}")


# Explicit replica assignments that name this broker (node 1), from both admin clients.
kadmin.create_topics([KNewTopic(topic, replica_assignments={0: [1], 1: [1]},
                                topic_configs={"message.format.version": "3.0-IV1"})])
kadmin.create_partitions({topic: KNewPartitions(3, new_assignments=[[1]])})
ctopic = f"gaps-c-{run}"
cadmin.create_topics([NewTopic(ctopic, 2, replica_assignment=[[1], [1]])])[ctopic].result(10)
cadmin.create_partitions([NewPartitions(ctopic, 4, replica_assignment=[[1], [1]])])[ctopic].result(10)
metadata = cadmin.list_topics(timeout=10)
assert len(metadata.topics[topic].partitions) == 3
assert len(metadata.topics[ctopic].partitions) == 4
try:
    cadmin.create_topics([NewTopic(f"gaps-bad-{run}", 1, replica_assignment=[[2]])])[
        f"gaps-bad-{run}"].result(10)
    raise AssertionError("an assignment to a broker that does not exist was accepted")
except KafkaException as error:
    assert error.args[0].code() == KafkaError.INVALID_REPLICA_ASSIGNMENT, error
ok("replica assignments naming this broker are accepted, others refused")

# ElectLeaders: the only replica leads already.
result = kadmin.elect_leaders(0, {topic: [0, 1]}, raise_errors=False)
codes = [p.error_code for r in result.replica_election_results for p in r.partition_result]
assert codes == [KafkaError.ELECTION_NOT_NEEDED] * 2, result
from confluent_kafka import ElectionType  # noqa: E402
from confluent_kafka import TopicPartition as CTopicPartition  # noqa: E402
elected = cadmin.elect_leaders(ElectionType.PREFERRED, [CTopicPartition(topic, 0)]).result(10)
[outcome] = elected.values()
assert outcome is not None and outcome.code() == KafkaError.ELECTION_NOT_NEEDED, elected
ok("elect_leaders: ELECTION_NOT_NEEDED")

# AlterReplicaLogDirs into the broker's one log dir; DescribeLogDirs names it.
[broker_dirs] = kadmin.describe_log_dirs()
[log_dir] = broker_dirs["log_dirs"]
log_dir_path = log_dir["log_dir"]
moved = kadmin.alter_replica_log_dirs({(topic, 0, 1): log_dir_path})
assert all(e is kerrors.NoError for e in moved.values()), moved
moved = kadmin.alter_replica_log_dirs({(topic, 0, 1): "/no/such/dir"})
assert all(e is kerrors.LogDirNotFoundError for e in moved.values()), moved
ok("alter_replica_log_dirs: the one log dir, LOG_DIR_NOT_FOUND for others")

# DescribeQuorum: this node leads and is the only voter.
quorum = kadmin.describe_metadata_quorum()
print("quorum:", quorum)
text = repr(quorum)
assert "'leader_id': 1" in text, text
ok("describe_metadata_quorum: one voter, this node")

# Reassignments: to this broker is a no-op; nothing is ever in progress.
reassigned = kadmin.alter_partition_reassignments({TopicPartition(topic, 0): [1]})
assert all(v is None or v is kerrors.NoError for v in reassigned.values()), reassigned
assert kadmin.list_partition_reassignments() == {}, kadmin.list_partition_reassignments()
ok("alter/list_partition_reassignments")

# DescribeTopicPartitions with a page size.
page = kadmin.describe_topic_partitions([topic], response_partition_limit=2)
assert len(page["topics"][0]["partitions"]) == 2, page
assert page["next_cursor"] is not None, page
rest = kadmin.describe_topic_partitions([topic], cursor=page["next_cursor"])
assert len(rest["topics"][0]["partitions"]) == 1, rest
ok("describe_topic_partitions pages by cursor")

# Authorized operations: no authorizer, so everything is allowed.
cluster = cadmin.describe_cluster(include_authorized_operations=True).result(10)
assert AclOperation.ALTER_CONFIGS in cluster.authorized_operations, cluster.authorized_operations
described = cadmin.describe_topics(
    confluent_kafka.TopicCollection([topic]), include_authorized_operations=True)[topic].result(10)
assert {AclOperation.READ, AclOperation.WRITE, AclOperation.DELETE} <= set(
    described.authorized_operations), described.authorized_operations
ok("authorized operations: all allowed")

# Broker configs as Kafka lists them, with sources.
[broker] = cadmin.describe_configs([ConfigResource(ResourceType.BROKER, "1")]).values()
configs = broker.result(10)
for name in ["advertised.listeners", "listeners", "log.dirs", "node.id", "process.roles",
             "num.partitions", "default.replication.factor", "log.retention.ms",
             "min.insync.replicas", "compression.type", "group.min.session.timeout.ms"]:
    assert name in configs, f"{name} listed"
assert configs["process.roles"].value == "broker,controller"
assert configs["group.min.session.timeout.ms"].value == "1000"
assert configs["group.min.session.timeout.ms"].source == 4  # STATIC_BROKER_CONFIG
described = kadmin.describe_configs([KConfigResource(ConfigResourceType.TOPIC, topic)])
assert "message.format.version" in repr(described), described
ok(f"{len(configs)} broker configs listed; message.format.version accepted")

# group.min.session.timeout.ms is settable: 1.5 s sessions join.
producer = Producer({"bootstrap.servers": bootstrap})
for i in range(30):
    producer.produce(topic, key=f"k{i}".encode(), value=b"v", partition=i % 3)
assert producer.flush(10) == 0
short = KafkaConsumer(topic, bootstrap_servers=bootstrap, group_id=f"short-{run}",
                      session_timeout_ms=1500, heartbeat_interval_ms=300,
                      auto_offset_reset="earliest", consumer_timeout_ms=10000)
assert sum(1 for _ in short) == 30
short.close()
ok("kafka-python joins with a 1.5 s session timeout")

# Keyless records to a compacted topic: INVALID_RECORD.
compacted = f"compacted-{run}"
cadmin.create_topics([NewTopic(compacted, 1, 1, config={"cleanup.policy": "compact"})])[
    compacted].result(10)
failures = []
producer.produce(compacted, value=b"no key", on_delivery=lambda err, msg: failures.append(err))
producer.flush(10)
assert failures and failures[0] is not None and failures[0].code() == KafkaError.INVALID_RECORD, \
    failures
kproducer = KafkaProducer(bootstrap_servers=bootstrap, retries=0)
try:
    kproducer.send(compacted, value=b"no key").get(timeout=10)
    raise AssertionError("a keyless record was accepted by a compacted topic")
except kerrors.InvalidRecordError:
    pass
kproducer.send(compacted, key=b"k", value=b"keyed").get(timeout=10)
kproducer.close()
ok("keyless records refused by a compacted topic with INVALID_RECORD")

# Static membership: a second consumer with the same group.instance.id fences the first.
group = f"static-{run}"


def static_consumer():
    return Consumer({"bootstrap.servers": bootstrap, "group.id": group,
                     "group.instance.id": "instance-1", "session.timeout.ms": 6000,
                     "auto.offset.reset": "earliest"})


first = subscribed(static_consumer(), topic)
second = subscribed(static_consumer(), topic)  # takes over the first one's place
fenced = None
deadline = time.time() + 20
while fenced is None and time.time() < deadline:
    try:
        message = first.poll(0.2)
        if message is not None and message.error() is not None:
            fenced = message.error()
    except KafkaException as error:
        fenced = error.args[0]
assert fenced is not None, "the first member was not fenced"
assert "FENCED_INSTANCE_ID" in fenced.name() or "fenced" in fenced.str().lower(), fenced
ok(f"the replaced static member is fenced: {fenced.str()}")

# DescribeGroups with authorized operations (no authorizer: everything on a group).
[described] = cadmin.describe_consumer_groups([group], include_authorized_operations=True).values()
operations = set(described.result(10).authorized_operations or [])
assert {AclOperation.READ, AclOperation.DESCRIBE, AclOperation.DELETE} <= operations, operations
kdescribed = kadmin.describe_groups([group], include_authorized_operations=True)[group]
assert set(kdescribed["authorized_operations"]) == {
    "READ", "DELETE", "DESCRIBE", "DESCRIBE_CONFIGS", "ALTER_CONFIGS"}, kdescribed
second.close()
ok("describe groups with authorized operations")

# Committing through the admin API for a group with active members: UNKNOWN_MEMBER_ID.
active = KafkaConsumer(topic, bootstrap_servers=bootstrap, group_id=f"active-{run}",
                       auto_offset_reset="earliest", consumer_timeout_ms=15000)
next(iter(active))
try:
    result = kadmin.alter_group_offsets(f"active-{run}", {TopicPartition(topic, 0): OffsetAndMetadata(1, "", -1)})
    errors = list(result.values()) if isinstance(result, dict) else [result]
    assert any(e is kerrors.UnknownMemberIdError for e in errors), result
except kerrors.UnknownMemberIdError:
    pass
active.close()
ok("admin commit to a group with active members: UNKNOWN_MEMBER_ID")
print("all admin gaps answered")
