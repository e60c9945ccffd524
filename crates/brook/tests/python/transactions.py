"""Transactions from Python, as users write them: confluent-kafka's transactional API
(init_transactions, begin, produce, send_offsets_to_transaction, commit, abort; fencing by a
second producer) and kafka-python's transactional producer (with send_offsets_to_transaction),
each checked by a read_committed consumer and the group's committed offset."""
import sys
import uuid

import confluent_kafka
from confluent_kafka import Consumer, KafkaException, Producer, TopicPartition
from confluent_kafka.admin import AdminClient, NewTopic

bootstrap = sys.argv[1]
run = uuid.uuid4().hex[:8]


def create(topic, partitions=1):
    admin = AdminClient({"bootstrap.servers": bootstrap})
    for future in admin.create_topics([NewTopic(topic, partitions, 1)]).values():
        future.result(30)


def read_committed(topic, expect_at_least=0, timeout=30):
    """Every value of partition 0 of `topic`, read_committed, until the end."""
    consumer = Consumer({"bootstrap.servers": bootstrap, "group.id": f"check-{uuid.uuid4().hex}",
                         "isolation.level": "read_committed", "enable.partition.eof": True,
                         "auto.offset.reset": "earliest", "enable.auto.commit": False})
    consumer.assign([TopicPartition(topic, 0, confluent_kafka.OFFSET_BEGINNING)])
    values = []
    import time
    deadline = time.time() + timeout
    while time.time() < deadline:
        msg = consumer.poll(0.5)
        if msg is None:
            continue
        if msg.error():
            if msg.error().code() == confluent_kafka.KafkaError._PARTITION_EOF:
                if len(values) >= expect_at_least:
                    break
                continue
            raise KafkaException(msg.error())
        values.append(msg.value().decode())
    consumer.close()
    return values


def committed_offset(group, topic):
    consumer = Consumer({"bootstrap.servers": bootstrap, "group.id": group,
                         "isolation.level": "read_committed"})
    [tp] = consumer.committed([TopicPartition(topic, 0)], timeout=30)
    consumer.close()
    return tp.offset


# --- confluent-kafka -----------------------------------------------------------------------
topic = f"py-txn-{run}"
create(topic)
producer = Producer({"bootstrap.servers": bootstrap, "transactional.id": f"py-{run}"})
producer.init_transactions(30)
for txn in range(10):
    producer.begin_transaction()
    for i in range(10):
        producer.produce(topic, key=b"k", value=f"t{txn}-{i}".encode())
    producer.flush(30)
    if txn % 2 == 0:
        producer.commit_transaction(30)
    else:
        producer.abort_transaction(30)
seen = read_committed(topic, expect_at_least=50)
expected = [f"t{txn}-{i}" for txn in range(0, 10, 2) for i in range(10)]
assert seen == expected, seen
print(f"confluent-kafka: {len(seen)} committed of 100 sent")

# A consume-transform-produce copier: input read in a group, copied with the offsets sent to
# the transaction.
source, sink, group = f"py-in-{run}", f"py-out-{run}", f"py-copier-{run}"
create(source)
create(sink)
plain = Producer({"bootstrap.servers": bootstrap})
for i in range(100):
    plain.produce(source, value=f"ride-{i}".encode())
plain.flush(30)
consumer = Consumer({"bootstrap.servers": bootstrap, "group.id": group,
                     "isolation.level": "read_committed", "auto.offset.reset": "earliest",
                     "enable.auto.commit": False})
consumer.subscribe([source])
copier = Producer({"bootstrap.servers": bootstrap, "transactional.id": f"copier-{run}"})
copier.init_transactions(30)
copied = 0
while copied < 100:
    batch = consumer.consume(num_messages=25, timeout=1)
    batch = [m for m in batch if not m.error()]
    if not batch:
        continue
    copier.begin_transaction()
    for msg in batch:
        copier.produce(sink, value=msg.value().upper())
    copier.send_offsets_to_transaction(consumer.position(consumer.assignment()),
                                       consumer.consumer_group_metadata(), 30)
    copier.commit_transaction(30)
    copied += len(batch)
consumer.close()
out = read_committed(sink, expect_at_least=100)
assert out == [f"RIDE-{i}" for i in range(100)], out
offset = committed_offset(group, source)
assert offset == 100, offset
print(f"confluent-kafka: copier committed offset {offset}")

# Fencing: a second producer with the same transactional id; the first one's next commit fails
# with a fatal (fenced) error and its open transaction is aborted.
first = Producer({"bootstrap.servers": bootstrap, "transactional.id": f"shared-{run}"})
first.init_transactions(30)
first.begin_transaction()
first.produce(topic, value=b"from-the-first")
first.flush(30)
second = Producer({"bootstrap.servers": bootstrap, "transactional.id": f"shared-{run}"})
second.init_transactions(30)
try:
    first.produce(topic, value=b"late")
    first.commit_transaction(30)
    raise AssertionError("the fenced producer committed")
except KafkaException as error:
    err = error.args[0]
    assert err.fatal(), err
    assert err.code() in (confluent_kafka.KafkaError._FENCED,
                          confluent_kafka.KafkaError.PRODUCER_FENCED,
                          confluent_kafka.KafkaError.INVALID_PRODUCER_EPOCH), err
values = read_committed(topic, expect_at_least=50)
assert "from-the-first" not in values and "late" not in values, values
print("confluent-kafka: fenced")

# --- kafka-python ---------------------------------------------------------------------------
from kafka import KafkaConsumer, KafkaProducer  # noqa: E402
from kafka.structs import OffsetAndMetadata, TopicPartition as KTopicPartition  # noqa: E402

ktopic = f"kp-txn-{run}"
create(ktopic)
kproducer = KafkaProducer(bootstrap_servers=bootstrap, transactional_id=f"kp-{run}")
kproducer.init_transactions()
for txn in range(6):
    kproducer.begin_transaction()
    for i in range(10):
        kproducer.send(ktopic, key=b"k", value=f"k{txn}-{i}".encode())
    kproducer.flush()
    if txn % 2 == 0:
        kproducer.commit_transaction()
    else:
        kproducer.abort_transaction()
seen = read_committed(ktopic, expect_at_least=30)
assert seen == [f"k{txn}-{i}" for txn in range(0, 6, 2) for i in range(10)], seen
print(f"kafka-python: {len(seen)} committed of 60 sent")

# kafka-python's send_offsets_to_transaction with a group.
ksource, kgroup = f"kp-in-{run}", f"kp-copier-{run}"
create(ksource)
for i in range(30):
    plain.produce(ksource, value=f"trip-{i}".encode())
plain.flush(30)
kconsumer = KafkaConsumer(ksource, bootstrap_servers=bootstrap, group_id=kgroup,
                          auto_offset_reset="earliest", enable_auto_commit=False,
                          isolation_level="read_committed")
kcopier = KafkaProducer(bootstrap_servers=bootstrap, transactional_id=f"kp-copier-{run}")
kcopier.init_transactions()
copied = 0
while copied < 30:
    records = kconsumer.poll(timeout_ms=1000)
    for tp, messages in records.items():
        kcopier.begin_transaction()
        for m in messages:
            kcopier.send(ktopic, value=m.value.upper())
        kcopier.send_offsets_to_transaction(
            {KTopicPartition(tp.topic, tp.partition): OffsetAndMetadata(messages[-1].offset + 1, "", -1)},
            kgroup)
        kcopier.commit_transaction()
        copied += len(messages)
kconsumer.close()
offset = committed_offset(kgroup, ksource)
assert offset == 30, offset
print(f"kafka-python: copier committed offset {offset}")
print("transactions pass")
