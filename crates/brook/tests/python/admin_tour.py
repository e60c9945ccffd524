"""confluent-kafka's admin client on topic configs, as against Kafka 4.x: create a topic with
compression.type=gzip, replace its configs (AlterConfigs), change them one by one
(IncrementalAlterConfigs SET, APPEND, SUBTRACT — down to an empty cleanup.policy — and DELETE),
describe them with their sources and types; then produce uncompressed records to it (the
calling test checks with `brook dump-log` that they are stored gzip-compressed)."""
import sys

from confluent_kafka import Producer
from confluent_kafka.admin import (AdminClient, AlterConfigOpType, ConfigEntry, ConfigResource,
                                   ConfigSource, NewTopic, ResourceType)

bootstrap = sys.argv[1]
topic = "tour"
admin = AdminClient({"bootstrap.servers": bootstrap})
resource = ConfigResource(ResourceType.TOPIC, topic)


def describe():
    [future] = admin.describe_configs([ConfigResource(ResourceType.TOPIC, topic)]).values()
    return future.result(10)


def incremental(*entries):
    changed = ConfigResource(ResourceType.TOPIC, topic, incremental_configs=list(entries))
    [future] = admin.incremental_alter_configs([changed]).values()
    future.result(10)


admin.create_topics([NewTopic(topic, 1, 1, config={"compression.type": "gzip"})])[topic].result(10)
configs = describe()
assert configs["compression.type"].value == "gzip", configs["compression.type"]
assert configs["compression.type"].source == ConfigSource.DYNAMIC_TOPIC_CONFIG.value
assert configs["retention.ms"].source == ConfigSource.DEFAULT_CONFIG.value
for name in ["min.insync.replicas", "max.compaction.lag.ms", "min.cleanable.dirty.ratio",
             "segment.jitter.ms", "preallocate", "unclean.leader.election.enable",
             "local.retention.ms", "remote.storage.enable", "compression.zstd.level",
             "message.timestamp.type", "index.interval.bytes", "segment.index.bytes"]:
    assert name in configs, f"{name} is described"
assert configs["min.cleanable.dirty.ratio"].value == "0.5", configs["min.cleanable.dirty.ratio"]
print(f"created with compression.type=gzip; {len(configs)} configs described")

# AlterConfigs replaces every override: compression.type goes back to its default.
resource = ConfigResource(ResourceType.TOPIC, topic, set_config={"retention.ms": "3600000",
                                                                  "compression.type": "gzip"})
[future] = admin.alter_configs([resource]).values()
future.result(10)
configs = describe()
assert configs["retention.ms"].value == "3600000"
assert configs["compression.type"].value == "gzip"

# SET, APPEND, SUBTRACT, DELETE.
incremental(ConfigEntry("cleanup.policy", "compact", incremental_operation=AlterConfigOpType.SET),
            ConfigEntry("min.insync.replicas", "1", incremental_operation=AlterConfigOpType.SET))
assert describe()["cleanup.policy"].value == "compact"
incremental(ConfigEntry("cleanup.policy", "delete", incremental_operation=AlterConfigOpType.APPEND))
assert describe()["cleanup.policy"].value in ("compact,delete", "delete,compact")
incremental(ConfigEntry("cleanup.policy", "compact",
                        incremental_operation=AlterConfigOpType.SUBTRACT))
assert describe()["cleanup.policy"].value == "delete"
# Subtracting the last value leaves an empty list, which Kafka 4.x accepts.
incremental(ConfigEntry("cleanup.policy", "delete",
                        incremental_operation=AlterConfigOpType.SUBTRACT))
policy = describe()["cleanup.policy"]
assert policy.value == "" and policy.source == ConfigSource.DYNAMIC_TOPIC_CONFIG.value, policy
incremental(ConfigEntry("cleanup.policy", None, incremental_operation=AlterConfigOpType.DELETE),
            ConfigEntry("retention.ms", None, incremental_operation=AlterConfigOpType.DELETE))
configs = describe()
assert configs["cleanup.policy"].value == "delete"
assert configs["cleanup.policy"].source == ConfigSource.DEFAULT_CONFIG.value
assert configs["retention.ms"].value == "604800000"
assert configs["compression.type"].value == "gzip", "untouched by the incremental changes"
print("SET, APPEND, SUBTRACT (to an empty list) and DELETE as Kafka 4.x")

# Bad values are refused with INVALID_CONFIG, as Kafka refuses them.
for name, value in [("compression.type", "brotli"), ("min.cleanable.dirty.ratio", "2"),
                    ("remote.storage.enable", "true"), ("no.such.config", "1")]:
    try:
        incremental(ConfigEntry(name, value, incremental_operation=AlterConfigOpType.SET))
        raise AssertionError(f"{name}={value} was accepted")
    except Exception as error:  # noqa: BLE001 - KafkaException carrying INVALID_CONFIG
        assert "INVALID_CONFIG" in repr(error) or "InvalidConfig" in repr(error), repr(error)
print("bad values refused with INVALID_CONFIG")

# Dynamic broker defaults of the new topic configs, under their broker names.
broker = ConfigResource(ResourceType.BROKER, "1", incremental_configs=[
    ConfigEntry("log.cleaner.min.cleanable.ratio", "0.3",
                incremental_operation=AlterConfigOpType.SET),
    ConfigEntry("min.insync.replicas", "1", incremental_operation=AlterConfigOpType.SET),
    ConfigEntry("log.roll.jitter.ms", "1000", incremental_operation=AlterConfigOpType.SET)])
[future] = admin.incremental_alter_configs([broker]).values()
future.result(10)
configs = describe()
ratio = configs["min.cleanable.dirty.ratio"]
assert ratio.value == "0.3", ratio
assert ratio.source == ConfigSource.DYNAMIC_BROKER_CONFIG.value, ratio
assert configs["segment.jitter.ms"].value == "1000"
[future] = admin.describe_configs([ConfigResource(ResourceType.BROKER, "1")]).values()
assert future.result(10)["log.cleaner.min.cleanable.ratio"].value == "0.3"
print("dynamic broker defaults of the new topic configs")

producer = Producer({"bootstrap.servers": bootstrap, "compression.type": "none",
                     "linger.ms": 5})
for i in range(500):
    producer.produce(topic, key=str(i % 3).encode(), value=f"ride-{i}," .encode() * 10)
assert producer.flush(10) == 0
print("500 records produced uncompressed")
