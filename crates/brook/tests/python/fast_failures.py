"""What Brook does not do yet fails at once with a clear, non-retriable error — never a client
retrying until its timeout: a share consumer (confluent-kafka), group configs (config resource type 32),
ACLs (SECURITY_DISABLED: there is no authorizer) and the SCRAM admin APIs (not advertised, so
admin clients refuse locally)."""
import sys
import time

import confluent_kafka
from confluent_kafka import KafkaException
from confluent_kafka.admin import (AclBinding, AclBindingFilter, AclOperation, AclPermissionType,
                                   AdminClient, ResourcePatternType, ResourceType)

bootstrap = sys.argv[1]
LIMIT = 5.0


def fails_fast(label, action, check):
    started = time.time()
    try:
        action()
    except Exception as error:  # noqa: BLE001 - each client raises its own type
        elapsed = time.time() - started
        assert elapsed < LIMIT, f"{label}: failed only after {elapsed:.1f} s"
        check(error)
        print(f"{label}: failed after {elapsed:.2f} s: {error!r}")
        return
    raise AssertionError(f"{label}: did not fail")


def librdkafka_fatal(code, text):
    def check(error):
        assert isinstance(error, KafkaException), repr(error)
        err = error.args[0]
        assert err.code() == code, err
        assert err.fatal() and not err.retriable(), err
        assert text in err.str(), err.str()
    return check


# librdkafka's share consumer (KIP-932).
def share_consumer():
    consumer = confluent_kafka.ShareConsumer({"bootstrap.servers": bootstrap, "group.id": "shared"})
    consumer.subscribe(["anything"])
    deadline = time.time() + 30
    while time.time() < deadline:
        consumer.poll(0.5)


fails_fast("librdkafka share consumer", share_consumer,
           librdkafka_fatal(confluent_kafka.KafkaError.UNSUPPORTED_VERSION, "ShareGroupHeartbeat"))

# SCRAM credentials: not advertised, refused by the admin client itself.
admin = AdminClient({"bootstrap.servers": bootstrap})
acl_filter = AclBindingFilter(ResourceType.ANY, None, ResourcePatternType.ANY, None, None,
                              AclOperation.ANY, AclPermissionType.ANY)


def unsupported(error):
    text = str(error)
    assert "not supported" in text.lower() or "unsupported" in text.lower(), text


def security_disabled(error):
    assert isinstance(error, KafkaException), repr(error)
    assert error.args[0].code() == confluent_kafka.KafkaError.SECURITY_DISABLED, error


# ACLs: no authorizer, so SECURITY_DISABLED, as Kafka without one answers. confluent-kafka
# lists no ACLs for it (as against Kafka) and refuses creations; kafka-python raises.
assert admin.describe_acls(acl_filter).result(30) == []
binding = AclBinding(ResourceType.TOPIC, "rides", ResourcePatternType.LITERAL, "User:alice", "*",
                     AclOperation.READ, AclPermissionType.ALLOW)
fails_fast("create_acls", lambda: admin.create_acls([binding])[binding].result(30),
           security_disabled)
from kafka.admin import ACLFilter, ACLOperation, ACLPermissionType, ACLResourcePatternType  # noqa: E402
from kafka.admin import KafkaAdminClient, ResourcePatternFilter  # noqa: E402
from kafka.admin import ResourceType as KResourceType  # noqa: E402
from kafka.errors import SecurityDisabledError  # noqa: E402

kadmin = KafkaAdminClient(bootstrap_servers=bootstrap)
kfilter = ACLFilter(principal=None, host="*", operation=ACLOperation.ANY,
                    permission_type=ACLPermissionType.ANY,
                    resource_pattern=ResourcePatternFilter(KResourceType.ANY, None,
                                                           ACLResourcePatternType.ANY))


def kafka_python_security_disabled(error):
    assert isinstance(error, SecurityDisabledError), repr(error)


fails_fast("kafka-python describe_acls", lambda: kadmin.describe_acls(kfilter),
           kafka_python_security_disabled)
fails_fast("describe_user_scram_credentials",
           lambda: admin.describe_user_scram_credentials().result(30), unsupported)

# Group configs (config resource type 32): refused at once with INVALID_REQUEST and a message.
from confluent_kafka.admin import ConfigResource, ResourceType  # noqa: E402


def group_configs():
    [future] = admin.describe_configs([ConfigResource(ResourceType.GROUP, "g")]).values()
    future.result(30)


def group_configs_refused(error):
    assert isinstance(error, KafkaException), repr(error)
    err = error.args[0]
    assert err.code() == confluent_kafka.KafkaError.INVALID_REQUEST, err
    assert "group configs" in err.str(), err.str()


fails_fast("group configs (resource type 32)", group_configs, group_configs_refused)
print("all refused fast")
