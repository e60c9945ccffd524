"""confluent-kafka (librdkafka) against Brook: admin create_topics, produce, consume back."""
import sys

from confluent_kafka import Consumer, Producer, TopicPartition, OFFSET_BEGINNING
from confluent_kafka import KafkaException
from confluent_kafka.admin import (AdminClient, AlterConfigOpType, ConfigEntry, ConfigResource,
                                  NewTopic)

bootstrap = sys.argv[1]
topic = "confluent-rides"
count = 2000

admin = AdminClient({"bootstrap.servers": bootstrap})
futures = admin.create_topics([NewTopic(topic, num_partitions=2, replication_factor=1,
                                        config={"cleanup.policy": "delete"})])
futures[topic].result(timeout=10)
resource = ConfigResource("topic", topic)
configs = admin.describe_configs([resource])[resource].result(timeout=10)
assert configs["cleanup.policy"].value == "delete"
assert configs["cleanup.policy"].source == 1  # DYNAMIC_TOPIC_CONFIG
assert configs["segment.bytes"].value == "1073741824"
assert configs["segment.bytes"].source == 5  # DEFAULT_CONFIG
bad = ConfigResource("topic", topic, set_config={"cleanup.policy": "shred"})
try:
    admin.alter_configs([bad])[bad].result(timeout=10)
    raise AssertionError("an invalid config was accepted")
except KafkaException as e:
    assert e.args[0].code() == 40, e  # INVALID_CONFIG

incremental = ConfigResource("topic", topic, incremental_configs=[
    ConfigEntry("retention.ms", "7200000", incremental_operation=AlterConfigOpType.SET),
    ConfigEntry("cleanup.policy", "compact", incremental_operation=AlterConfigOpType.APPEND),
])
admin.incremental_alter_configs([incremental])[incremental].result(timeout=10)
configs = admin.describe_configs([resource])[resource].result(timeout=10)
assert configs["retention.ms"].value == "7200000", configs["retention.ms"]
assert configs["cleanup.policy"].value == "delete,compact", configs["cleanup.policy"]
remove = ConfigResource("topic", topic, incremental_configs=[
    ConfigEntry("cleanup.policy", "compact", incremental_operation=AlterConfigOpType.SUBTRACT),
    ConfigEntry("retention.ms", None, incremental_operation=AlterConfigOpType.DELETE),
])
admin.incremental_alter_configs([remove])[remove].result(timeout=10)
configs = admin.describe_configs([resource])[resource].result(timeout=10)
assert configs["cleanup.policy"].value == "delete", configs["cleanup.policy"]
assert configs["retention.ms"].source == 5, configs["retention.ms"]

producer = Producer({"bootstrap.servers": bootstrap, "compression.type": "lz4"})
delivered = []
for i in range(count):
    producer.produce(topic, key=str(i % 2), value=f"ride-{i}",
                     on_delivery=lambda err, msg: delivered.append(err))
    producer.poll(0)
producer.flush(10)
assert len(delivered) == count and not any(delivered), delivered[:5]

consumer = Consumer({"bootstrap.servers": bootstrap, "group.id": "unused",
                     "enable.auto.commit": False})
consumer.assign([TopicPartition(topic, p, OFFSET_BEGINNING) for p in range(2)])
received = []
while len(received) < count:
    message = consumer.poll(10)
    assert message is not None, f"timed out after {len(received)} records"
    assert message.error() is None, message.error()
    received.append(message.value().decode())
consumer.close()
assert sorted(received) == sorted(f"ride-{i}" for i in range(count))
print(f"confluent-kafka: {count} records round-tripped")
