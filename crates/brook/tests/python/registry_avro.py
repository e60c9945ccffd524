"""confluent-kafka's Schema Registry client and Avro serializers against Brook's registry and
broker: registration, lookups, config, evolution under BACKWARD and FORWARD, deletes, and
an Avro round trip of records through a topic."""
import sys

from confluent_kafka import Consumer, Producer
from confluent_kafka.schema_registry import Schema, SchemaRegistryClient
from confluent_kafka.schema_registry.avro import AvroDeserializer, AvroSerializer
from confluent_kafka.schema_registry.error import SchemaRegistryError
from confluent_kafka.serialization import MessageField, SerializationContext

bootstrap, registry_url = sys.argv[1], sys.argv[2]
client = SchemaRegistryClient({"url": registry_url})

RIDE_V1 = """{"type": "record", "name": "Ride", "namespace": "taxi", "fields": [
  {"name": "vendor_id", "type": "int"},
  {"name": "trip_distance", "type": "double"}]}"""
# Adds a field with a default: BACKWARD compatible.
RIDE_V2 = """{"type": "record", "name": "Ride", "namespace": "taxi", "fields": [
  {"name": "vendor_id", "type": "int"},
  {"name": "trip_distance", "type": "double"},
  {"name": "tip_amount", "type": "double", "default": 0.0}]}"""
# Adds a field without a default: not BACKWARD compatible.
RIDE_BAD = """{"type": "record", "name": "Ride", "namespace": "taxi", "fields": [
  {"name": "vendor_id", "type": "int"},
  {"name": "trip_distance", "type": "double"},
  {"name": "total", "type": "double"}]}"""

subject = "rides-value"
id1 = client.register_schema(subject, Schema(RIDE_V1, "AVRO"))
assert id1 >= 1, id1
# The same schema again (whitespace differs) gets the same id and no new version.
assert client.register_schema(subject, Schema(RIDE_V1.replace("\n", " "), "AVRO")) == id1
assert client.get_schema(id1).schema_str.startswith("{")
latest = client.get_latest_version(subject)
assert (latest.version, latest.schema_id) == (1, id1), latest
assert client.get_compatibility() == "BACKWARD" or client.get_compatibility().name == "BACKWARD"

id2 = client.register_schema(subject, Schema(RIDE_V2, "AVRO"))
assert id2 != id1
assert client.get_versions(subject) == [1, 2]
assert client.lookup_schema(subject, Schema(RIDE_V1, "AVRO")).version == 1
assert client.test_compatibility(subject, Schema(RIDE_BAD, "AVRO")) is False
try:
    client.register_schema(subject, Schema(RIDE_BAD, "AVRO"))
    raise AssertionError("an incompatible schema was registered")
except SchemaRegistryError as e:
    assert e.http_status_code == 409, (e.http_status_code, e.error_code, e.error_message)

# FORWARD: removing a field without a default breaks old readers.
forward_subject = "forward-value"
client.set_compatibility(forward_subject, "FORWARD")
client.register_schema(forward_subject, Schema(RIDE_V2, "AVRO"))
NO_DISTANCE = """{"type": "record", "name": "Ride", "namespace": "taxi", "fields": [
  {"name": "vendor_id", "type": "int"},
  {"name": "tip_amount", "type": "double", "default": 0.0}]}"""
try:
    client.register_schema(forward_subject, Schema(NO_DISTANCE, "AVRO"))
    raise AssertionError("FORWARD allowed removing a field without a default")
except SchemaRegistryError as e:
    assert e.http_status_code == 409, (e.http_status_code, e.error_code)

# Invalid schemas are refused with 42201.
try:
    client.register_schema("broken-value", Schema('{"type": "record", "name": "X"}', "AVRO"))
    raise AssertionError("an invalid schema was registered")
except SchemaRegistryError as e:
    assert (e.http_status_code, e.error_code) == (422, 42201), (e.http_status_code, e.error_code)

# An Avro round trip through the broker, registering through the serializer.
topic = "rides-avro"
serializer = AvroSerializer(client, RIDE_V2)
deserializer = AvroDeserializer(client)
producer = Producer({"bootstrap.servers": bootstrap})
rides = [{"vendor_id": i % 3, "trip_distance": i * 1.5, "tip_amount": float(i)} for i in range(100)]
for ride in rides:
    producer.produce(topic, key=str(ride["vendor_id"]),
                     value=serializer(ride, SerializationContext(topic, MessageField.VALUE)))
producer.flush(10)
consumer = Consumer({"bootstrap.servers": bootstrap, "group.id": "avro-readers",
                     "auto.offset.reset": "earliest"})
consumer.subscribe([topic])
received = []
empty = 0
while len(received) < len(rides) and empty < 20:
    message = consumer.poll(1.0)
    if message is None:
        empty += 1
        continue
    assert message.error() is None, message.error()
    value = message.value()
    assert value[0] == 0 and int.from_bytes(value[1:5], "big") == id2, value[:5]
    received.append(deserializer(value, SerializationContext(topic, MessageField.VALUE)))
consumer.close()
assert sorted(received, key=lambda r: r["trip_distance"]) == rides, received[:3]

# Deletes: soft, then permanent.
assert client.delete_version(subject, 2) == 2
assert client.get_versions(subject) == [1]
assert client.delete_subject(subject) == [1]
assert subject not in client.get_subjects()
assert client.get_subjects(deleted_only=True) == [subject]
assert client.get_subjects(deleted=True, limit=1) == sorted(client.get_subjects(deleted=True))[:1]
assert client.delete_subject(subject, permanent=True) == [1, 2]
# The global level, set and deleted (back to the default).
def level(value):
    return getattr(value, "value", value)


client.set_compatibility(level="FULL")
assert level(client.get_compatibility()) == "FULL"
assert level(client.delete_config().compatibility_level) == "FULL"
assert level(client.get_compatibility()) == "BACKWARD"
print("schema registry: confluent-kafka client and Avro serializers work")
