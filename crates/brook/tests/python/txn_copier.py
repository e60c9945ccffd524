"""A consume-transform-produce copier with exactly-once semantics, as users write it with
confluent-kafka: read `source` in a group (a static member, read_committed), write each record
to `sink` and send the consumed offsets to the same transaction. Exits when it has copied
everything (its positions reach the source's end); a test kills it at random meanwhile.
Usage: txn_copier.py BOOTSTRAP SOURCE SINK GROUP TRANSACTIONAL_ID [RECORDS_PER_TRANSACTION]"""
import sys

from confluent_kafka import Consumer, Producer

bootstrap, source, sink, group, transactional_id = sys.argv[1:6]
per_transaction = int(sys.argv[6]) if len(sys.argv) > 6 else 500

producer = Producer({"bootstrap.servers": bootstrap, "transactional.id": transactional_id,
                     "linger.ms": 5})
# Fences a previous incarnation and aborts its open transaction before anything is read.
producer.init_transactions(60)
consumer = Consumer({"bootstrap.servers": bootstrap, "group.id": group,
                     "group.instance.id": transactional_id, "session.timeout.ms": 6000,
                     "isolation.level": "read_committed", "auto.offset.reset": "earliest",
                     "enable.auto.commit": False})
consumer.subscribe([source])
idle = 0
copied = 0
while True:
    messages = [m for m in consumer.consume(num_messages=per_transaction, timeout=1.0) if not m.error()]
    if not messages:
        # Caught up when the group's committed offsets reach the source's end (a position is
        # unknown until something is read, so a copier restarted at the end uses these).
        assignment = consumer.assignment()
        committed = consumer.committed(assignment, timeout=30) if assignment else []
        ends = [consumer.get_watermark_offsets(tp, timeout=10)[1] for tp in assignment]
        caught_up = bool(assignment) and all(c.offset >= end for c, end in zip(committed, ends))
        idle = idle + 1 if caught_up else 0
        if idle >= 3:
            break
        continue
    idle = 0
    producer.begin_transaction()
    for m in messages:
        producer.produce(sink, key=m.key(), value=m.value())
    offsets = [tp for tp in consumer.position(consumer.assignment()) if tp.offset >= 0]
    producer.send_offsets_to_transaction(offsets, consumer.consumer_group_metadata(), 60)
    producer.commit_transaction(60)
    copied += len(messages)
    print(f"copied {copied}", flush=True)
consumer.close()
print(f"done after {copied}", flush=True)
