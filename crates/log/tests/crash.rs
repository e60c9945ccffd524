//! Crash test: a child process appends with `flush.messages=1` (fsync every append, group
//! commit) and is killed with SIGKILL at random moments. After every kill the log reopens with
//! every acknowledged append readable byte-identical, contiguous offsets and no partial batch.
//!
//! The child is this same test binary, re-run with `--exact crash_child` and an environment
//! variable naming the log directory.

mod common;

use std::io::{BufRead, BufReader, Write};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;

use brook_log::{LogConfig, PartitionLog};
use bytes::Bytes;
use common::{as_stored, batch, batches};
use rand::{RngExt, SeedableRng};

const CHILD_DIR_ENV: &str = "BROOK_CRASH_CHILD_DIR";
const CHILD_CYCLE_ENV: &str = "BROOK_CRASH_CHILD_CYCLE";
const CYCLES: u64 = 60;

fn config() -> LogConfig {
    // Small segments so that kills also land around rolls.
    LogConfig {
        flush_messages: 1,
        segment_bytes: 64 * 1024,
        index_interval_bytes: 1024,
        ..LogConfig::default()
    }
}

/// The batch a child appends as its `i`-th in `cycle`; sizes vary from ~200 B to ~15 KiB.
fn payload(seed: u64) -> Bytes {
    let i = seed % 100_000;
    batch(
        1 + (i % 5) as usize,
        seed as i64,
        seed,
        100 + ((i * 997) % 3000) as usize,
    )
}

/// Not a test on its own: the body of the child process.
#[test]
fn crash_child() {
    let Ok(dir) = std::env::var(CHILD_DIR_ENV) else {
        return;
    };
    let cycle: u64 = std::env::var(CHILD_CYCLE_ENV).unwrap().parse().unwrap();
    let log = PartitionLog::open(&dir, config()).unwrap();
    let mut out = std::io::stdout().lock();
    for i in 0.. {
        let seed = cycle * 100_000 + i;
        let info = log.append(&payload(seed)).unwrap();
        // Acknowledged only once append returned: the line is the acknowledgement.
        writeln!(out, "ACK {seed} {}", info.base_offset).unwrap();
        out.flush().unwrap();
    }
}

#[test]
fn sigkill_at_random_moments_loses_no_acknowledged_append() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("crash-0");
    let exe = std::env::current_exe().unwrap();
    let mut rng = rand::rngs::StdRng::seed_from_u64(0x5eed);
    let mut acked: Vec<(u64, i64)> = Vec::new();
    let mut truncations = 0;
    for cycle in 0..CYCLES {
        let mut child = Command::new(&exe)
            .args(["--exact", "crash_child", "--nocapture", "--test-threads=1"])
            .env(CHILD_DIR_ENV, &dir)
            .env(CHILD_CYCLE_ENV, cycle.to_string())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        std::thread::sleep(Duration::from_millis(rng.random_range(5..80)));
        child.kill().unwrap(); // SIGKILL
        child.wait().unwrap();
        for line in BufReader::new(child.stdout.take().unwrap()).lines() {
            let line = line.unwrap();
            if let Some(rest) = line.strip_prefix("ACK ") {
                let (seed, base) = rest.split_once(' ').unwrap();
                acked.push((seed.parse().unwrap(), base.parse().unwrap()));
            }
        }
        let log = PartitionLog::open(&dir, config()).unwrap();
        truncations += log.recovery_report().truncations.len();
        verify(&log, &acked, &dir);
    }
    eprintln!(
        "{CYCLES} kills, {} acknowledged appends, {truncations} torn tails truncated",
        acked.len()
    );
    assert!(
        acked.len() as u64 > CYCLES,
        "too few appends were acknowledged to mean anything"
    );
}

/// Walks the whole log: contiguous offsets, whole CRC-valid batches that are each some child's
/// payload, and every acknowledged append present at its acknowledged offset.
fn verify(log: &PartitionLog, acked: &[(u64, i64)], dir: &Path) {
    let mut stored = std::collections::HashMap::new();
    let mut offset = 0;
    while offset < log.high_watermark() {
        let read = log.read(offset, 1 << 20).unwrap();
        assert!(
            !read.records.is_empty(),
            "gap at offset {offset} in {}",
            dir.display()
        );
        for b in batches(&read.records) {
            assert_eq!(b.base_offset(), offset, "offsets are contiguous");
            let first = b.records().unwrap().remove(0);
            let value = String::from_utf8(first.value.unwrap().to_vec()).unwrap();
            let seed: u64 = value[1..value.find('-').unwrap()].parse().unwrap();
            assert_eq!(
                b.as_bytes(),
                &as_stored(&payload(seed), offset, 0),
                "batch at {offset} is whole"
            );
            stored.insert(seed, offset);
            offset = b.next_offset();
        }
    }
    assert_eq!(offset, log.log_end_offset());
    for (seed, base) in acked {
        assert_eq!(
            stored.get(seed),
            Some(base),
            "acknowledged append {seed} at offset {base} is missing"
        );
    }
}
