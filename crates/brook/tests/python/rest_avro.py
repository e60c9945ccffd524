"""Avro rides produced through the REST proxy (API v2, inline value_schema) and read back with
confluent-kafka's Consumer and AvroDeserializer, as a Python service would."""
import json
import sys
import urllib.request

from confluent_kafka import Consumer
from confluent_kafka.schema_registry import SchemaRegistryClient
from confluent_kafka.schema_registry.avro import AvroDeserializer
from confluent_kafka.serialization import MessageField, SerializationContext

bootstrap, registry_url, rest_url = sys.argv[1], sys.argv[2], sys.argv[3]
SCHEMA = """{"type": "record", "name": "Ride", "namespace": "com.datatalksclub.taxi",
  "fields": [{"name": "vendor_id", "type": "int"}, {"name": "passenger_count", "type": "int"},
             {"name": "trip_distance", "type": "double"},
             {"name": "total_amount", "type": "double"}]}"""
rides = [{"vendor_id": 1 + i % 2, "passenger_count": 1 + i % 4,
          "trip_distance": 0.5 + i, "total_amount": 10.0 + i} for i in range(200)]
request = urllib.request.Request(
    f"{rest_url}/topics/rides_avro", method="POST",
    data=json.dumps({"value_schema": SCHEMA,
                     "records": [{"value": r} for r in rides]}).encode(),
    headers={"Content-Type": "application/vnd.kafka.avro.v2+json",
             "Accept": "application/vnd.kafka.v2+json"})
with urllib.request.urlopen(request) as response:
    answer = json.loads(response.read())
assert answer["value_schema_id"] >= 1, answer
assert all(o["error_code"] is None for o in answer["offsets"]), answer

deserializer = AvroDeserializer(SchemaRegistryClient({"url": registry_url}))
consumer = Consumer({"bootstrap.servers": bootstrap, "group.id": "rest-avro-check",
                     "auto.offset.reset": "earliest"})
consumer.subscribe(["rides_avro"])
seen = []
while len(seen) < len(rides):
    message = consumer.poll(10)
    assert message is not None, f"only {len(seen)} rides arrived"
    assert message.error() is None, message.error()
    seen.append(deserializer(message.value(),
                             SerializationContext("rides_avro", MessageField.VALUE)))
consumer.close()
assert seen == rides, (seen[:3], rides[:3])
print(f"{len(seen)} rides decoded by AvroDeserializer")
