//! `brook dump-log` against a log written by brook-log: exact output.

use std::process::Command;

use brook_log::{LogConfig, PartitionLog};
use brook_protocol::{Compression, RecordBatchBuilder};

fn brook(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_brook"))
        .args(args)
        .output()
        .unwrap()
}

#[test]
fn dumps_batches_records_and_indexes_like_kafka_dump_log() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("rides-0");
    let config = LogConfig {
        index_interval_bytes: 0,
        ..LogConfig::default()
    };
    let log = PartitionLog::open(&dir, config).unwrap();
    let mut b = RecordBatchBuilder::new(Compression::None);
    b.append(
        1_600_000_000_000,
        Some(b"1"),
        Some(b"1,2020-07-01,3.5"),
        &[(b"src", Some(b"csv"))],
    );
    b.append(1_600_000_000_005, Some(b"2"), None, &[]);
    log.append(&b.build()).unwrap();
    let mut b = RecordBatchBuilder::new(Compression::Gzip);
    b.append(1_600_000_000_009, None, Some(b"x"), &[]);
    log.append(&b.build()).unwrap();
    log.close().unwrap();

    let segment = dir.join("00000000000000000000.log");
    let out = brook(&["dump-log", segment.to_str().unwrap(), "--print-records"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8(out.stdout).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines[0], format!("Dumping {}", segment.display()));
    assert!(
        lines[1].starts_with(
            "baseOffset: 0 lastOffset: 1 count: 2 baseSequence: -1 lastSequence: -1 producerId: -1 \
         producerEpoch: -1 partitionLeaderEpoch: 0 isTransactional: false isControl: false \
         position: 0 CreateTime: 1600000000005 size: "
        ),
        "{}",
        lines[1]
    );
    assert!(
        lines[1].contains(" magic: 2 compresscodec: none crc: ")
            && lines[1].ends_with(" isvalid: true"),
        "{}",
        lines[1]
    );
    assert_eq!(
        lines[2],
        "| offset: 0 CreateTime: 1600000000000 keySize: 1 valueSize: 16 headers: src:csv key: 1 payload: 1,2020-07-01,3.5"
    );
    assert_eq!(
        lines[3],
        "| offset: 1 CreateTime: 1600000000005 keySize: 1 valueSize: -1 headers:  key: 2 payload: null"
    );
    assert!(
        lines[4].starts_with("baseOffset: 2 lastOffset: 2 count: 1"),
        "{}",
        lines[4]
    );
    assert!(
        lines[4].contains("compresscodec: gzip") && lines[4].ends_with("isvalid: true"),
        "{}",
        lines[4]
    );
    assert_eq!(lines.len(), 6);

    let index = dir.join("00000000000000000000.index");
    let out = brook(&["dump-log", index.to_str().unwrap()]);
    let text = String::from_utf8(out.stdout).unwrap();
    // Interval 0: the second batch (last offset 2) got an entry at its position.
    let first_size = lines[1]
        .split("size: ")
        .nth(1)
        .unwrap()
        .split(' ')
        .next()
        .unwrap();
    assert_eq!(
        text.lines().nth(1).unwrap(),
        format!("offset: 2 position: {first_size}")
    );
}

#[test]
fn bad_input_gets_one_clear_error_and_a_nonzero_exit() {
    let tmp = tempfile::tempdir().unwrap();
    let missing = tmp.path().join("nope.log");
    let out = brook(&["dump-log", missing.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8(out.stderr).unwrap();
    assert!(
        err.starts_with("error: cannot read") && err.lines().count() == 1,
        "{err}"
    );

    let garbage = tmp.path().join("00000000000000000000.log");
    std::fs::write(&garbage, [0xffu8; 100]).unwrap();
    let out = brook(&["dump-log", garbage.to_str().unwrap()]);
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(
        text.contains("Found 100 invalid bytes at position 0"),
        "{text}"
    );
}
