//! Arbitrary bytes through the batch view: iteration, header parse, CRC check, record decoding
//! (with decompression) and the in-place patches. Nothing may panic.
#![no_main]

use brook_protocol::record_batch::patch;
use brook_protocol::{BatchHeader, Batches};
use bytes::Bytes;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = BatchHeader::parse(data);
    for batch in Batches::with_max_batch_size(Bytes::copy_from_slice(data), 1 << 24) {
        let Ok(batch) = batch else { break };
        let was_valid = batch.verify_crc().is_ok();
        let _ = batch.validate();
        let _ = batch.header();
        if let Ok(records) = batch.records() {
            for r in records {
                assert!(r.offset >= batch.base_offset());
            }
        }
        let mut copy = batch.as_bytes().to_vec();
        patch::set_base_offset(&mut copy, 7);
        patch::set_log_append_time(&mut copy, 1);
        let patched = brook_protocol::RecordBatch::new(Bytes::from(copy)).expect("patching keeps the shape");
        // The LogAppendTime patch recomputes the CRC unless it is a no-op (as in Kafka).
        assert!(patched.verify_crc().is_ok() || !was_valid);
    }
});
