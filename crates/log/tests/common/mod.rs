//! Helpers shared by the log's integration tests.
#![allow(dead_code)]

use brook_protocol::{Compression, RecordBatch, RecordBatchBuilder};
use bytes::Bytes;

/// A batch of `count` records; record `i` has key `k{key_base + i}`, value `v{seed}-{i}` padded
/// to `value_len`, timestamp `timestamp + i`.
pub fn batch(count: usize, timestamp: i64, seed: u64, value_len: usize) -> Bytes {
    batch_with(Compression::None, count, timestamp, seed, value_len, |i| {
        format!("k{seed}-{i}")
    })
}

/// Like [`batch`] with a codec and a key function.
pub fn batch_with(
    codec: Compression,
    count: usize,
    timestamp: i64,
    seed: u64,
    value_len: usize,
    key: impl Fn(usize) -> String,
) -> Bytes {
    let mut builder = RecordBatchBuilder::new(codec);
    for i in 0..count {
        let mut value = format!("v{seed}-{i}-").into_bytes();
        value.resize(value_len.max(value.len()), b'.');
        let key = key(i);
        builder.append(
            timestamp + i as i64,
            Some(key.as_bytes()),
            Some(&value),
            &[(b"h", Some(b"1"))],
        );
    }
    builder.build()
}

/// Splits read bytes into batches, checking every CRC.
pub fn batches(bytes: &Bytes) -> Vec<RecordBatch> {
    brook_protocol::Batches::new(bytes.clone())
        .map(|b| {
            let b = b.expect("whole batches");
            b.verify_crc().expect("crc");
            b
        })
        .collect()
}

/// The bytes a stored batch should have: the produced bytes with base offset and leader epoch
/// patched.
pub fn as_stored(produced: &Bytes, base_offset: i64, epoch: i32) -> Bytes {
    let mut bytes = produced.to_vec();
    brook_protocol::record_batch::patch::set_base_offset(&mut bytes, base_offset);
    brook_protocol::record_batch::patch::set_partition_leader_epoch(&mut bytes, epoch);
    Bytes::from(bytes)
}
