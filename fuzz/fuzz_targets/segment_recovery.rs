//! Arbitrary bytes as the segment file of an uncleanly shut down log (and, split off the
//! front, as its offset index): opening must recover without panicking, keep only whole
//! CRC-valid batches, and leave a log that reads back and accepts appends.
#![no_main]

use brook_log::{LogConfig, PartitionLog};
use brook_protocol::{Batches, Compression, RecordBatchBuilder};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((&first, rest)) = data.split_first() else { return };
    let (index, log_bytes) = rest.split_at((first as usize * 8).min(rest.len()));
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("fuzz-0");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("00000000000000000000.log"), log_bytes).unwrap();
    std::fs::write(dir.join("00000000000000000000.index"), index).unwrap();
    let config = LogConfig { index_interval_bytes: 64, ..LogConfig::default() };
    let log = PartitionLog::open(&dir, config).expect("recovery never fails on bad bytes");
    let mut offset = log.log_start_offset();
    while offset < log.high_watermark() {
        let read = log.read(offset, 1 << 16).expect("recovered log reads");
        assert!(!read.records.is_empty());
        for batch in Batches::new(read.records) {
            let batch = batch.expect("only whole batches survive");
            batch.verify_crc().expect("only CRC-valid batches survive");
            offset = batch.next_offset();
        }
    }
    let mut builder = RecordBatchBuilder::new(Compression::None);
    builder.append(0, None, Some(b"after recovery"), &[]);
    assert_eq!(log.append(&builder.build()).unwrap().base_offset, log.log_end_offset() - 1);
});
