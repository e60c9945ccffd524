//! Arbitrary bytes as a request frame: the broker's decode path must return a request or a
//! reason to close the connection, never panic. Produce payloads are walked as batches too.
#![no_main]

use brook_broker::connection::{Decoded, decode_request};
use bytes::Bytes;
use kafka_protocol::messages::RequestKind;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(Decoded::Request { request: RequestKind::Produce(produce), .. }) =
        decode_request(Bytes::copy_from_slice(data))
    {
        for topic in produce.topic_data {
            for partition in topic.partition_data {
                for batch in brook_protocol::Batches::new(partition.records.unwrap_or_default()) {
                    let Ok(batch) = batch else { break };
                    let _ = batch.validate();
                }
            }
        }
    }
});
