"""The course's rides pipeline in Avro with confluent-kafka: all 10,000 rides of rides.csv as
Avro records through Brook's schema registry and broker, and back."""
import csv
import os
import sys

from confluent_kafka import Consumer, Producer
from confluent_kafka.schema_registry import SchemaRegistryClient
from confluent_kafka.schema_registry.avro import AvroDeserializer, AvroSerializer
from confluent_kafka.serialization import MessageField, SerializationContext, StringSerializer

bootstrap, registry_url, rides_csv, schema_path = sys.argv[1:5]
client = SchemaRegistryClient({"url": registry_url})
with open(schema_path) as f:
    schema = f.read()

NUMBERS = {"trip_distance", "fare_amount", "extra", "mta_tax", "tip_amount", "tolls_amount",
           "improvement_surcharge", "total_amount", "congestion_surcharge"}
LONGS = {"vendor_id", "passenger_count", "rate_code_id", "pu_location_id", "do_location_id"}
FIELDS = ["vendor_id", "tpep_pickup_datetime", "tpep_dropoff_datetime", "passenger_count",
          "trip_distance", "rate_code_id", "store_and_fwd_flag", "pu_location_id",
          "do_location_id", "payment_type", "fare_amount", "extra", "mta_tax", "tip_amount",
          "tolls_amount", "improvement_surcharge", "total_amount", "congestion_surcharge"]


def ride(row):
    out = {}
    for name, value in zip(FIELDS, row):
        out[name] = float(value) if name in NUMBERS else int(value) if name in LONGS else value
    return out


with open(rides_csv) as f:
    reader = csv.reader(f)
    next(reader)
    rides = [ride(row) for row in reader]
assert len(rides) == 10_000, len(rides)

topic = "rides_avro_py"
serialize = AvroSerializer(client, schema)
key = StringSerializer("utf_8")
producer = Producer({"bootstrap.servers": bootstrap})
for r in rides:
    producer.produce(topic, key=key(str(r["pu_location_id"])),
                     value=serialize(r, SerializationContext(topic, MessageField.VALUE)))
    producer.poll(0)
assert producer.flush(30) == 0

deserialize = AvroDeserializer(client)
consumer = Consumer({"bootstrap.servers": bootstrap, "group.id": "rides.avro.py",
                     "auto.offset.reset": "earliest"})
consumer.subscribe([topic])
received, empty = [], 0
while len(received) < len(rides) and empty < 30:
    message = consumer.poll(1.0)
    if message is None:
        empty += 1
        continue
    assert message.error() is None, message.error()
    received.append(deserialize(message.value(), SerializationContext(topic, MessageField.VALUE)))
consumer.close()
assert len(received) == 10_000, len(received)
order = lambda r: (r["tpep_pickup_datetime"], r["pu_location_id"], r["total_amount"], str(r))
assert sorted(received, key=order) == sorted(rides, key=order)
subject = client.get_latest_version(f"{topic}-value")
print(f"rides in Avro: 10,000 out and back, schema id {subject.schema_id}")
