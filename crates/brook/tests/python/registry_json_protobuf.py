"""confluent-kafka's JSON Schema and Protobuf serializers against Brook's registry and broker:
registration through the SchemaRegistryClient, evolution under BACKWARD and FORWARD, invalid
schemas, and JSONSerializer/JSONDeserializer and ProtobufSerializer/ProtobufDeserializer round
trips of records through a topic."""
import base64
import json
import sys

from confluent_kafka import Consumer, Producer
from confluent_kafka.schema_registry import Schema, SchemaRegistryClient
from confluent_kafka.schema_registry.error import SchemaRegistryError
from confluent_kafka.schema_registry.json_schema import JSONDeserializer, JSONSerializer
from confluent_kafka.schema_registry.protobuf import ProtobufDeserializer, ProtobufSerializer
from confluent_kafka.serialization import MessageField, SerializationContext
from google.protobuf import descriptor_pb2, descriptor_pool, message_factory

bootstrap, registry_url = sys.argv[1], sys.argv[2]
client = SchemaRegistryClient({"url": registry_url})


def refused(subject, schema, status, code=None):
    try:
        client.register_schema(subject, schema)
    except SchemaRegistryError as e:
        assert e.http_status_code == status, (e.http_status_code, e.error_code, e.error_message)
        if code is not None:
            assert e.error_code == code, (e.error_code, e.error_message)
        return e.error_message
    raise AssertionError(f"{subject}: the schema was registered")


def round_trip(topic, serialize, deserialize, records):
    """Produces `records` serialized, consumes them back; returns them and the schema ids seen
    in the frames."""
    producer = Producer({"bootstrap.servers": bootstrap})
    ctx = SerializationContext(topic, MessageField.VALUE)
    for record in records:
        producer.produce(topic, value=serialize(record, ctx))
    assert producer.flush(10) == 0
    consumer = Consumer({"bootstrap.servers": bootstrap, "group.id": topic + "-readers",
                         "auto.offset.reset": "earliest"})
    consumer.subscribe([topic])
    received, ids, empty = [], set(), 0
    while len(received) < len(records) and empty < 20:
        message = consumer.poll(1.0)
        if message is None:
            empty += 1
            continue
        assert message.error() is None, message.error()
        value = message.value()
        assert value[0] == 0, value[:6]
        ids.add(int.from_bytes(value[1:5], "big"))
        received.append(deserialize(value, ctx))
    consumer.close()
    return received, ids


# ---- JSON Schema -------------------------------------------------------------------------
def ride_json(extra_properties="", required='"vendor_id", "trip_distance"'):
    return f"""{{"$schema": "http://json-schema.org/draft-07/schema#", "title": "Ride",
      "type": "object", "additionalProperties": false,
      "properties": {{"vendor_id": {{"type": "integer"}},
                      "trip_distance": {{"type": "number"}}{extra_properties}}},
      "required": [{required}]}}"""


JSON_V1 = ride_json()
# Adds a property with a default to a closed object: BACKWARD compatible.
JSON_V2 = ride_json(', "tip_amount": {"type": "number", "default": 0}')

subject = "rides-json-value"
id1 = client.register_schema(subject, Schema(JSON_V1, "JSON"))
fetched = client.get_schema(id1)
assert fetched.schema_type == "JSON", fetched.schema_type
assert json.loads(fetched.schema_str) == json.loads(JSON_V1)
assert client.register_schema(subject, Schema(JSON_V1.replace("\n", " "), "JSON")) == id1
id2 = client.register_schema(subject, Schema(JSON_V2, "JSON"))
assert id2 != id1 and client.get_versions(subject) == [1, 2]
assert client.lookup_schema(subject, Schema(JSON_V1, "JSON")).version == 1
# An open object gaining a property is not BACKWARD compatible (old data may hold anything).
def opened(schema):
    return schema.replace('"additionalProperties": false', '"additionalProperties": true')


client.register_schema("rides-json-open-value", Schema(opened(JSON_V1), "JSON"))
assert client.test_compatibility("rides-json-open-value", Schema(opened(JSON_V2), "JSON")) is False
# FORWARD: removing a required property without a default breaks old readers.
client.set_compatibility("rides-json-forward-value", "FORWARD")
client.register_schema("rides-json-forward-value", Schema(JSON_V2, "JSON"))
message = refused("rides-json-forward-value",
                  Schema(ride_json(', "tip_amount": {"type": "number", "default": 0}'
                                   ).replace('"trip_distance": {"type": "number"},', "")
                         .replace('"vendor_id", "trip_distance"', '"vendor_id"'), "JSON"),
                  409)
assert "trip_distance" in message, message
refused("broken-json-value", Schema('{"type": "strin"}', "JSON"), 422, 42201)

rides = [{"vendor_id": i % 3, "trip_distance": i * 1.5, "tip_amount": float(i)} for i in range(50)]
serializer = JSONSerializer(JSON_V2, client)
deserializer = JSONDeserializer(None, schema_registry_client=client)
received, ids = round_trip("rides-json", serializer, deserializer, rides)
assert ids == {id2}, ids
assert sorted(received, key=lambda r: r["trip_distance"]) == rides, received[:3]
print("json schema: registration, evolution and JSONSerializer round trip work")


# ---- Protobuf ----------------------------------------------------------------------------
def ride_message(with_tip):
    """The Ride message class, built at run time (no protoc here), as protoc would make it."""
    file = descriptor_pb2.FileDescriptorProto(name="taxi/ride.proto", package="taxi",
                                              syntax="proto3")
    ride = file.message_type.add(name="Ride")
    fields = [("vendor_id", 1, descriptor_pb2.FieldDescriptorProto.TYPE_INT32),
              ("trip_distance", 2, descriptor_pb2.FieldDescriptorProto.TYPE_DOUBLE)]
    if with_tip:
        fields.append(("tip_amount", 3, descriptor_pb2.FieldDescriptorProto.TYPE_DOUBLE))
    for name, number, kind in fields:
        ride.field.add(name=name, number=number, type=kind,
                       label=descriptor_pb2.FieldDescriptorProto.LABEL_OPTIONAL)
    pool = descriptor_pool.DescriptorPool()
    pool.Add(file)
    return message_factory.GetMessageClass(pool.FindMessageTypeByName("taxi.Ride"))


RideV1, RideV2 = ride_message(False), ride_message(True)
topic = "rides-protobuf"
serializer = ProtobufSerializer(RideV1, client, {"use.deprecated.format": False})
deserializer = ProtobufDeserializer(RideV1, {"use.deprecated.format": False},
                                    schema_registry_client=client)
first = [RideV1(vendor_id=i % 3, trip_distance=i * 1.5) for i in range(50)]
received, ids = round_trip(topic, serializer, deserializer, first)
assert [(r.vendor_id, r.trip_distance) for r in received] == \
    [(r.vendor_id, r.trip_distance) for r in first], received[:3]
latest = client.get_latest_version(f"{topic}-value")
assert ids == {latest.schema_id}, (ids, latest.schema_id)
assert latest.schema.schema_type == "PROTOBUF", latest.schema.schema_type
# The serializer registered a descriptor; the registry shows it as .proto text, and hands it
# back as a descriptor when asked for the serialized form.
assert "message Ride {" in latest.schema.schema_str, latest.schema.schema_str
assert "double trip_distance = 2;" in latest.schema.schema_str, latest.schema.schema_str
serialized = client.get_schema(latest.schema_id, fmt="serialized")
descriptor = descriptor_pb2.FileDescriptorProto.FromString(
    base64.b64decode(serialized.schema_str))
assert [m.name for m in descriptor.message_type] == ["Ride"], descriptor

# Evolution: the serializer of the next version adds a field, which BACKWARD accepts.
serializer2 = ProtobufSerializer(RideV2, client, {"use.deprecated.format": False})
ctx = SerializationContext(topic, MessageField.VALUE)
framed = serializer2(RideV2(vendor_id=1, trip_distance=2.5, tip_amount=0.5), ctx)
assert client.get_versions(f"{topic}-value") == [1, 2]
# An old reader still decodes records of the new version (the unknown field is skipped).
old = deserializer(framed, ctx)
assert (old.vendor_id, old.trip_distance) == (1, 2.5), old
new = ProtobufDeserializer(RideV2, {"use.deprecated.format": False},
                           schema_registry_client=client)(framed, ctx)
assert new.tip_amount == 0.5, new

# Imports: a message using another file of its own (registered by the serializer as a
# reference, under the file's name) and a well-known type (built into the registry).
def trip_message():
    from google.protobuf import timestamp_pb2
    pool = descriptor_pool.DescriptorPool()
    pool.AddSerializedFile(timestamp_pb2.DESCRIPTOR.serialized_pb)
    zone = descriptor_pb2.FileDescriptorProto(name="taxi/zone.proto", package="taxi",
                                              syntax="proto3")
    zone.message_type.add(name="Zone").field.add(
        name="name", number=1, type=descriptor_pb2.FieldDescriptorProto.TYPE_STRING,
        label=descriptor_pb2.FieldDescriptorProto.LABEL_OPTIONAL)
    pool.Add(zone)
    trip = descriptor_pb2.FileDescriptorProto(
        name="taxi/trip.proto", package="taxi", syntax="proto3",
        dependency=["taxi/zone.proto", "google/protobuf/timestamp.proto"])
    message = trip.message_type.add(name="Trip")
    message.field.add(name="pickup", number=1, type=descriptor_pb2.FieldDescriptorProto.TYPE_MESSAGE,
                      type_name=".taxi.Zone",
                      label=descriptor_pb2.FieldDescriptorProto.LABEL_OPTIONAL)
    message.field.add(name="at", number=2, type=descriptor_pb2.FieldDescriptorProto.TYPE_MESSAGE,
                      type_name=".google.protobuf.Timestamp",
                      label=descriptor_pb2.FieldDescriptorProto.LABEL_OPTIONAL)
    pool.Add(trip)
    return message_factory.GetMessageClass(pool.FindMessageTypeByName("taxi.Trip"))


Trip = trip_message()
trips = [Trip(pickup={"name": f"zone-{i}"}, at={"seconds": 1_600_000_000 + i}) for i in range(20)]
received, ids = round_trip("trips-protobuf", ProtobufSerializer(Trip, client),
                           ProtobufDeserializer(Trip, {}, schema_registry_client=client), trips)
assert [(t.pickup.name, t.at.seconds) for t in received] == \
    [(t.pickup.name, t.at.seconds) for t in trips], received[:3]
trip_version = client.get_latest_version("trips-protobuf-value")
assert [(r.name, r.subject) for r in trip_version.schema.references] == \
    [("taxi/zone.proto", "taxi/zone.proto")], trip_version.schema.references
assert 'import "taxi/zone.proto";' in trip_version.schema.schema_str, trip_version.schema.schema_str
print("protobuf: a schema with a referenced import and a well-known type round trips")

# Confluent's and Google's common types are built into the registry: the serializer does not
# register them as references, and the registry compiles the schema that imports them.
def fare_message():
    from confluent_kafka.schema_registry.confluent.type import decimal_pb2
    from google.type import date_pb2
    pool = descriptor_pool.DescriptorPool()
    for module in (decimal_pb2, date_pb2):
        pool.AddSerializedFile(module.DESCRIPTOR.serialized_pb)
    fare = descriptor_pb2.FileDescriptorProto(
        name="taxi/fare.proto", package="taxi", syntax="proto3",
        dependency=["confluent/type/decimal.proto", "google/type/date.proto"])
    message = fare.message_type.add(name="Fare")
    for name, number, type_name in [("total", 1, ".confluent.type.Decimal"),
                                    ("day", 2, ".google.type.Date")]:
        message.field.add(name=name, number=number, type_name=type_name,
                          type=descriptor_pb2.FieldDescriptorProto.TYPE_MESSAGE,
                          label=descriptor_pb2.FieldDescriptorProto.LABEL_OPTIONAL)
    pool.Add(fare)
    return message_factory.GetMessageClass(pool.FindMessageTypeByName("taxi.Fare"))


Fare = fare_message()
fares = [Fare(total={"value": bytes([i]), "precision": 4, "scale": 2},
              day={"year": 2020, "month": 7, "day": i + 1}) for i in range(10)]
received, _ = round_trip("fares-protobuf", ProtobufSerializer(Fare, client),
                         ProtobufDeserializer(Fare, {}, schema_registry_client=client), fares)
assert [(f.total.value, f.day.day) for f in received] == \
    [(f.total.value, f.day.day) for f in fares], received[:3]
fare_version = client.get_latest_version("fares-protobuf-value")
assert fare_version.schema.references == [], fare_version.schema.references
assert 'import "confluent/type/decimal.proto";' in fare_version.schema.schema_str
print("protobuf: confluent/type and google/type imports are built in")

# .proto text works too; FORWARD refuses removing a proto2 required field (it has no default).
PROTO_V1 = """syntax = "proto2";
package taxi;
message Fare {
  required int32 vendor_id = 1;
  required double total = 2;
}
"""
PROTO_V2 = PROTO_V1.replace("  required double total = 2;\n", "")
client.set_compatibility("fares-value", "FORWARD")
fare_id = client.register_schema("fares-value", Schema(PROTO_V1, "PROTOBUF"))
assert client.get_schema(fare_id).schema_str == PROTO_V1
message = refused("fares-value", Schema(PROTO_V2, "PROTOBUF"), 409)
assert "#/Fare/2: REQUIRED_FIELD_ADDED" in message, message  # seen from the old reader
refused("broken-proto-value", Schema('syntax = "proto3"; message A { strin x = 1; }',
                                     "PROTOBUF"), 422, 42201)
assert set(client.get_subjects()) >= {subject, f"{topic}-value", "fares-value"}
print("protobuf: registration, evolution and ProtobufSerializer round trip work")
