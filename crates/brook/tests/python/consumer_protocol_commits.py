"""KIP-848 groups and offsets with confluent-kafka, as Kafka 4 answers them: a consumer that
assigns partitions itself (no membership) commits and fetches offsets for a group that uses
the consumer protocol — new, or emptied after its members left; an admin commit to a group
with active members gets UNKNOWN_MEMBER_ID; a consumer-protocol member joining a classic group
that has members is refused at once with Kafka's "online upgrade is disabled" answer."""
import sys
import time
import uuid

from confluent_kafka import (Consumer, ConsumerGroupTopicPartitions, KafkaError, KafkaException,
                             Producer, TopicPartition)
from confluent_kafka.admin import AdminClient, NewTopic

from waiting import subscribed  # noqa: E402

bootstrap = sys.argv[1]
topic = f"kip848-{uuid.uuid4().hex[:8]}"
admin = AdminClient({"bootstrap.servers": bootstrap})
admin.create_topics([NewTopic(topic, 2, 1)])[topic].result(10)
producer = Producer({"bootstrap.servers": bootstrap})
for i in range(200):
    producer.produce(topic, value=f"v{i}".encode(), partition=i % 2)
assert producer.flush(10) == 0


def consumer(group, protocol="consumer", **extra):
    return Consumer({"bootstrap.servers": bootstrap, "group.id": group,
                     "group.protocol": protocol, "enable.auto.commit": False,
                     "auto.offset.reset": "earliest", **extra})


def assign_commit_fetch(group, offset):
    c = consumer(group)
    c.assign([TopicPartition(topic, 0, 0)])
    message = c.poll(10)
    assert message is not None and message.error() is None, message
    [done] = c.commit(offsets=[TopicPartition(topic, 0, offset)], asynchronous=False)
    assert done.error is None, done
    [committed] = c.committed([TopicPartition(topic, 0)], timeout=10)
    assert committed.offset == offset, committed
    c.close()
    listed = admin.list_consumer_group_offsets(
        [ConsumerGroupTopicPartitions(group, [TopicPartition(topic, 0)])])[group].result(10)
    assert listed.topic_partitions[0].offset == offset, listed


# 1. A new group: the assign-only consumer commits and fetches.
assign_commit_fetch(f"{topic}-new", 17)
print("assign-only consumer commits and fetches for a new group")

# 2. A consumer-protocol group whose member consumed, committed and left.
group = f"{topic}-emptied"
member = subscribed(consumer(group), topic)
member.commit(offsets=[TopicPartition(topic, 1, 5)], asynchronous=False)
member.close()
assign_commit_fetch(group, 42)
print("assign-only consumer commits and fetches for an emptied consumer-protocol group")

# 3. An active member: an admin commit is refused with UNKNOWN_MEMBER_ID, as Kafka does.
group = f"{topic}-active"
member = subscribed(consumer(group), topic)
future = admin.alter_consumer_group_offsets(
    [ConsumerGroupTopicPartitions(group, [TopicPartition(topic, 0, 3)])])[group]
try:
    # librdkafka reports the refusal per partition.
    [partition] = future.result(10).topic_partitions
    error = partition.error
except KafkaException as raised:
    error = raised.args[0]
assert error is not None and error.code() == KafkaError.UNKNOWN_MEMBER_ID, error
print("admin commit to a consumer-protocol group with active members: UNKNOWN_MEMBER_ID")
member.close()

# 4. A classic group with a member; a consumer-protocol member tries to join it.
group = f"{topic}-classic"
classic = subscribed(consumer(group, protocol="classic"), topic)
future = admin.alter_consumer_group_offsets(
    [ConsumerGroupTopicPartitions(group, [TopicPartition(topic, 0, 3)])])[group]
[partition] = future.result(10).topic_partitions
assert partition.error is not None and partition.error.code() == KafkaError.UNKNOWN_MEMBER_ID, \
    partition.error
print("admin commit to a classic group with active members: UNKNOWN_MEMBER_ID")
upgrading = consumer(group)
upgrading.subscribe([topic])
started = time.time()
refusal = None
while refusal is None and time.time() - started < 5:
    try:
        message = upgrading.poll(0.2)
        if message is not None and message.error() is not None:
            refusal = message.error()
    except KafkaException as error:
        refusal = error.args[0]
assert refusal is not None, "no error within 5 s"
# librdkafka turns GROUP_ID_NOT_FOUND from ConsumerGroupHeartbeat into a fatal error (without the
# broker's message), exactly as against Kafka with group.consumer.migration.policy=disabled.
assert refusal.fatal() or refusal.code() == KafkaError._FATAL, refusal
assert "group id does not exist" in refusal.str(), refusal.str()
print(f"online upgrade refused after {time.time() - started:.2f} s: {refusal.str()}")
upgrading.close()
classic.close()
print("all consumer-protocol offset cases pass")
