"""Helpers shared by the client scripts."""
import time


def subscribed(consumer, topic, timeout=20):
    """`consumer` (confluent-kafka) subscribed to `topic`, once its group gave it partitions."""
    consumer.subscribe([topic])
    deadline = time.time() + timeout
    while not consumer.assignment() and time.time() < deadline:
        consumer.poll(0.2)
    assert consumer.assignment(), f"no partitions of {topic} within {timeout} s"
    return consumer
