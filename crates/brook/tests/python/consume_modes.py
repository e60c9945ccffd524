"""One Kafka client library against Brook, as its users run it: produce 1,000 records with
known timestamps, then consume them from the beginning, from the end (only what arrives
later), from an offset committed by a simple (assign-only) consumer and picked up by a group
member, and from a timestamp.

Usage: consume_modes.py BOOTSTRAP CLIENT, CLIENT one of kafka-python, aiokafka,
confluent-kafka. kafka-python runs whichever release is first on PYTHONPATH (the tests run
2.0.2, the course's era, and the current 3.x).
"""
import asyncio
import sys
import time
import uuid

bootstrap, client = sys.argv[1], sys.argv[2]
topic = f"modes-{client}-{uuid.uuid4().hex[:8]}"
group = f"{topic}-group"
COUNT = 1000
BASE = int(time.time() * 1000) - 3_600_000  # an hour ago, one millisecond apart
LATE = 10


def values(n, prefix="r"):
    return [f"{prefix}-{i}" for i in range(n)]


def check(label, got, want):
    assert got == want, f"{label}: got {len(got)} records {got[:3]}…, want {len(want)} {want[:3]}…"
    print(f"{client}: {label}: {len(got)} records")


def run_kafka_python():
    import kafka
    from kafka import KafkaConsumer, KafkaProducer, TopicPartition
    from kafka.structs import OffsetAndMetadata

    print(f"kafka-python {kafka.__version__}")
    tp = TopicPartition(topic, 0)
    producer = KafkaProducer(bootstrap_servers=bootstrap, acks="all")
    for i, value in enumerate(values(COUNT)):
        producer.send(topic, value=value.encode(), timestamp_ms=BASE + i)
    producer.flush()

    def consumer(**config):
        return KafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False,
                             consumer_timeout_ms=10_000, **config)

    def take(c, n):
        out = []
        for message in c:
            out.append(message.value.decode())
            if len(out) == n:
                break
        return out

    c = consumer()
    c.assign([tp])
    c.seek_to_beginning(tp)
    check("from the beginning", take(c, COUNT), values(COUNT))

    c.seek_to_end(tp)
    assert c.position(tp) == COUNT, c.position(tp)
    for value in values(LATE, "late"):
        producer.send(topic, value=value.encode())
    producer.flush()
    check("from the end", take(c, LATE), values(LATE, "late"))

    found = c.offsets_for_times({tp: BASE + 600})[tp]
    assert found.offset == 600 and found.timestamp == BASE + 600, found
    c.seek(tp, found.offset)
    check("from a timestamp", take(c, 400), values(COUNT)[600:])
    c.close()

    # A simple consumer (assign, no membership) commits; a group member resumes there.
    committer = consumer(group_id=group)
    committer.assign([tp])
    fields = OffsetAndMetadata._fields
    commit = OffsetAndMetadata(500, "", -1) if "leader_epoch" in fields else OffsetAndMetadata(500, "")
    committer.commit({tp: commit})
    assert committer.committed(tp) == 500, committer.committed(tp)
    committer.close()
    member = consumer(group_id=group)
    member.subscribe([topic])
    check("from a committed offset", take(member, COUNT + LATE - 500),
          values(COUNT)[500:] + values(LATE, "late"))
    member.close()
    producer.close()


async def run_aiokafka():
    import aiokafka
    from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition

    print(f"aiokafka {aiokafka.__version__}")
    tp = TopicPartition(topic, 0)
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all")
    await producer.start()
    for i, value in enumerate(values(COUNT)):
        await producer.send(topic, value=value.encode(), timestamp_ms=BASE + i)
    await producer.flush()

    async def take(c, n):
        out = []
        async def read():
            async for message in c:
                out.append(message.value.decode())
                if len(out) == n:
                    return
        await asyncio.wait_for(read(), 15)
        return out

    c = AIOKafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False)
    await c.start()
    c.assign([tp])
    await c.seek_to_beginning(tp)
    check("from the beginning", await take(c, COUNT), values(COUNT))

    await c.seek_to_end(tp)
    assert await c.position(tp) == COUNT
    for value in values(LATE, "late"):
        await producer.send(topic, value=value.encode())
    await producer.flush()
    check("from the end", await take(c, LATE), values(LATE, "late"))

    found = (await c.offsets_for_times({tp: BASE + 600}))[tp]
    assert found.offset == 600 and found.timestamp == BASE + 600, found
    c.seek(tp, found.offset)
    check("from a timestamp", await take(c, 400), values(COUNT)[600:])
    await c.stop()

    committer = AIOKafkaConsumer(bootstrap_servers=bootstrap, group_id=group,
                                 enable_auto_commit=False)
    await committer.start()
    committer.assign([tp])
    await committer.commit({tp: 500})
    assert await committer.committed(tp) == 500
    await committer.stop()
    member = AIOKafkaConsumer(topic, bootstrap_servers=bootstrap, group_id=group,
                              enable_auto_commit=False)
    await member.start()
    check("from a committed offset", await take(member, COUNT + LATE - 500),
          values(COUNT)[500:] + values(LATE, "late"))
    await member.stop()
    await producer.stop()


def run_confluent_kafka():
    import confluent_kafka
    from confluent_kafka import OFFSET_BEGINNING, OFFSET_END, Consumer, Producer, TopicPartition

    print(f"confluent-kafka {confluent_kafka.__version__}, librdkafka {confluent_kafka.libversion()[0]}")
    producer = Producer({"bootstrap.servers": bootstrap, "acks": "all"})
    for i, value in enumerate(values(COUNT)):
        producer.produce(topic, value=value.encode(), timestamp=BASE + i)
    assert producer.flush(15) == 0

    def consumer(**config):
        return Consumer({"bootstrap.servers": bootstrap, "enable.auto.commit": False,
                         "group.id": config.pop("group", f"{topic}-unused"), **config})

    def take(c, n):
        out, deadline = [], time.time() + 15
        while len(out) < n and time.time() < deadline:
            message = c.poll(0.5)
            if message is None:
                continue
            assert message.error() is None, message.error()
            out.append(message.value().decode())
        return out

    c = consumer()
    c.assign([TopicPartition(topic, 0, OFFSET_BEGINNING)])
    check("from the beginning", take(c, COUNT), values(COUNT))

    c.assign([TopicPartition(topic, 0, OFFSET_END)])
    time.sleep(1)  # the assignment resolves the end offset before the late records arrive
    for value in values(LATE, "late"):
        producer.produce(topic, value=value.encode())
    assert producer.flush(15) == 0
    check("from the end", take(c, LATE), values(LATE, "late"))

    [found] = c.offsets_for_times([TopicPartition(topic, 0, BASE + 600)], timeout=10)
    assert found.offset == 600, found
    c.assign([found])
    check("from a timestamp", take(c, 400), values(COUNT)[600:])
    c.close()

    committer = consumer(group=group)
    committer.commit(offsets=[TopicPartition(topic, 0, 500)], asynchronous=False)
    [committed] = committer.committed([TopicPartition(topic, 0)], timeout=10)
    assert committed.offset == 500, committed
    committer.close()
    member = consumer(group=group)
    member.subscribe([topic])
    check("from a committed offset", take(member, COUNT + LATE - 500),
          values(COUNT)[500:] + values(LATE, "late"))
    member.close()


if client == "kafka-python":
    run_kafka_python()
elif client == "aiokafka":
    asyncio.run(run_aiokafka())
elif client == "confluent-kafka":
    run_confluent_kafka()
else:
    sys.exit(f"unknown client {client}")
print(f"{client}: all four ways in")
