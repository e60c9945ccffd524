"""confluent-kafka with the KIP-848 consumer group protocol (group.protocol=consumer) against
Brook on its defaults: two members share a topic through the server-side assignor, the admin
API describes the group as a CONSUMER group with both members' assignments, commits survive
close, and a new member resumes from them."""
import sys
import time

from confluent_kafka import (Consumer, ConsumerGroupState, ConsumerGroupType,
                             ConsumerGroupTopicPartitions, Producer)
from confluent_kafka.admin import AdminClient, NewTopic

bootstrap = sys.argv[1]
topic, group = "kip848-rides", "kip848-group"
admin = AdminClient({"bootstrap.servers": bootstrap})
admin.create_topics([NewTopic(topic, num_partitions=4, replication_factor=1)])[topic].result(10)
producer = Producer({"bootstrap.servers": bootstrap})


def produce(start, end):
    for i in range(start, end):
        producer.produce(topic, key=str(i % 5), value=f"ride-{i}")
    producer.flush(10)


def member(assignor):
    consumer = Consumer({"bootstrap.servers": bootstrap, "group.id": group,
                         "group.protocol": "consumer", "group.remote.assignor": assignor,
                         "auto.offset.reset": "earliest", "enable.auto.commit": False})
    consumer.subscribe([topic])
    return consumer


def poll_until(consumers, count, seen, timeout=40):
    deadline = time.time() + timeout
    while len(set(seen)) < count and time.time() < deadline:
        for consumer in consumers:
            message = consumer.poll(0.2)
            if message is None:
                continue
            assert message.error() is None, message.error()
            seen.append(message.value().decode())
    return seen


def owned(consumer):
    return {(tp.topic, tp.partition) for tp in consumer.assignment()}


produce(0, 200)
a, b = member("uniform"), member("uniform")
# Both members must end up with two partitions each; what they receive meanwhile counts.
seen = []
deadline = time.time() + 40
while time.time() < deadline and not (len(owned(a)) == 2 and len(owned(b)) == 2):
    poll_until([a, b], len(set(seen)) + 1, seen, timeout=0.5)
assert len(owned(a)) == 2 and len(owned(b)) == 2, (owned(a), owned(b))
assert not owned(a) & owned(b), "a partition is owned twice"

described = admin.describe_consumer_groups([group])[group].result(10)
assert described.type == ConsumerGroupType.CONSUMER, described.type
assert described.state == ConsumerGroupState.STABLE, described.state
assert len(described.members) == 2, described.members
assigned = set()
for m in described.members:
    assigned |= {(tp.topic, tp.partition) for tp in m.assignment.topic_partitions}
assert assigned == {(topic, p) for p in range(4)}, assigned

listed = admin.list_consumer_groups().result(10)
types = {g.group_id: g.type for g in listed.valid}
assert types.get(group) == ConsumerGroupType.CONSUMER, types

# Nothing is committed yet, so a partition that moves from a to b is read again from the
# start by b: duplicates are allowed here (the uncommitted window), gaps are not.
seen = poll_until([a, b], 200, seen)
assert set(seen) == {f"ride-{i}" for i in range(200)}, len(set(seen))
a.commit(asynchronous=False)
b.commit(asynchronous=False)
a.close()
b.close()

produce(200, 250)
c = member("range")
resumed = poll_until([c], 50, [])
assert sorted(resumed) == sorted(f"ride-{i}" for i in range(200, 250)), resumed[:5]
c.commit(asynchronous=False)
c.close()

offsets = admin.list_consumer_group_offsets([ConsumerGroupTopicPartitions(group)])[group].result(10)
committed = {tp.partition: tp.offset for tp in offsets.topic_partitions if tp.topic == topic}
assert sum(committed.values()) == 250, committed
admin.delete_consumer_groups([group])[group].result(10)
print("confluent-kafka: consumer protocol groups work")
