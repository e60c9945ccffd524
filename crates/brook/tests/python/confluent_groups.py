"""confluent-kafka consumer groups against Brook: subscribe, commit, close, resume; then the
admin API lists, describes, reads offsets of, and deletes the group."""
import sys

from confluent_kafka import Consumer, ConsumerGroupState, ConsumerGroupTopicPartitions, Producer, TopicPartition
from confluent_kafka.admin import AdminClient, NewTopic

bootstrap = sys.argv[1]
topic, group = "group-rides", "py-group"
admin = AdminClient({"bootstrap.servers": bootstrap})
admin.create_topics([NewTopic(topic, num_partitions=3, replication_factor=1)])[topic].result(10)
producer = Producer({"bootstrap.servers": bootstrap})
for i in range(300):
    producer.produce(topic, key=str(i % 5), value=f"ride-{i}")
producer.flush(10)


def consume(count, strategy):
    consumer = Consumer({"bootstrap.servers": bootstrap, "group.id": group,
                         "auto.offset.reset": "earliest", "enable.auto.commit": False,
                         "partition.assignment.strategy": strategy})
    consumer.subscribe([topic])
    seen = []
    empty_polls = 0
    while len(seen) < count and empty_polls < 20:
        message = consumer.poll(1.0)
        if message is None:
            empty_polls += 1
            continue
        assert message.error() is None, message.error()
        seen.append(message.value().decode())
    consumer.commit(asynchronous=False)
    consumer.close()
    return seen


first = consume(300, "cooperative-sticky")
assert sorted(first) == sorted(f"ride-{i}" for i in range(300)), len(first)
for i in range(300, 350):
    producer.produce(topic, key=str(i % 5), value=f"ride-{i}")
producer.flush(10)
resumed = consume(50, "range")
assert sorted(resumed) == sorted(f"ride-{i}" for i in range(300, 350)), resumed[:5]

listed = admin.list_consumer_groups().result(10)
states = {g.group_id: g.state for g in listed.valid}
assert states.get(group) == ConsumerGroupState.EMPTY, states
described = admin.describe_consumer_groups([group])[group].result(10)
assert described.state == ConsumerGroupState.EMPTY, described.state
offsets = admin.list_consumer_group_offsets([ConsumerGroupTopicPartitions(group)])[group].result(10)
committed = {tp.partition: tp.offset for tp in offsets.topic_partitions if tp.topic == topic}
assert sum(committed.values()) == 350, committed

admin.delete_consumer_groups([group])[group].result(10)
states = {g.group_id for g in admin.list_consumer_groups().result(10).valid}
assert group not in states, states
try:
    admin.delete_consumer_groups([group])[group].result(10)
    raise AssertionError("deleting a deleted group succeeded")
except Exception as e:  # KafkaException GROUP_ID_NOT_FOUND
    assert "GROUP_ID_NOT_FOUND" in str(e), e
print("confluent-kafka: groups work")
