"""kafka-python against Brook: admin create_topics, produce, consume back with assign()."""
import sys

from kafka import KafkaConsumer, KafkaProducer, TopicPartition
from kafka.admin import ConfigResource, ConfigResourceType, KafkaAdminClient, NewTopic

bootstrap = sys.argv[1]
topic = "kafka-python-rides"
count = 2000

admin = KafkaAdminClient(bootstrap_servers=bootstrap, client_id="brook-test")
admin.create_topics([NewTopic(topic, num_partitions=3, replication_factor=1,
                              topic_configs={"retention.ms": "3600000"})])
assert topic in admin.list_topics(), admin.list_topics()
described = admin.describe_configs([ConfigResource(ConfigResourceType.TOPIC, topic)])
# kafka-python 3 answers {"topic": {name: {config: {"value": …, "config_source": …}}}}
# and leaves out configs at their defaults.
configs = described["topic"][topic]
assert configs["retention.ms"]["value"] == "3600000", configs
assert configs["retention.ms"]["config_source"] == "DYNAMIC_TOPIC_CONFIG", configs
assert configs["retention.ms"]["config_type"] == "LONG", configs

producer = KafkaProducer(bootstrap_servers=bootstrap, key_serializer=str.encode,
                         value_serializer=str.encode, acks="all")
futures = [producer.send(topic, key=str(i % 3), value=f"ride-{i}") for i in range(count)]
producer.flush()
offsets = [f.get(timeout=10).offset for f in futures]
assert min(offsets) == 0, offsets[:10]

consumer = KafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False,
                         auto_offset_reset="earliest", consumer_timeout_ms=10000)
consumer.assign([TopicPartition(topic, p) for p in range(3)])
received = []
for message in consumer:
    received.append((message.key.decode(), message.value.decode()))
    if len(received) == count:
        break
assert len(received) == count, len(received)
assert sorted(v for _, v in received) == sorted(f"ride-{i}" for i in range(count))
assert all(k == str(int(v.split("-")[1]) % 3) for k, v in received)
print(f"kafka-python: {count} records round-tripped")

# Standalone offset commits (assign + commit, no group membership), read back by a new consumer.
from kafka.structs import OffsetAndMetadata

committer = KafkaConsumer(bootstrap_servers=bootstrap, group_id="kafka-python-group",
                          enable_auto_commit=False)
partition = TopicPartition(topic, 0)
committer.assign([partition])
committer.commit({partition: OffsetAndMetadata(17, "checkpoint", -1)})
committer.close()
reader = KafkaConsumer(bootstrap_servers=bootstrap, group_id="kafka-python-group",
                       enable_auto_commit=False)
assert reader.committed(partition) == 17, reader.committed(partition)
reader.close()
print("kafka-python: standalone commit read back")
