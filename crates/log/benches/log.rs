//! `log_append` and `log_read`, each beside a baseline of plain sequential file I/O on the same
//! bytes in the same run. Report the ratio (Brook / baseline), not absolute numbers: this
//! machine's disk and page cache set the absolute ones.
//!
//! Run: `cargo bench -p brook-log --bench log`

use std::fs::File;
use std::io::{Read, Write};
use std::time::{Duration, Instant};

use brook_log::{LogConfig, PartitionLog};
use brook_protocol::{Compression, RecordBatchBuilder};
use bytes::Bytes;
use criterion::{Criterion, Throughput, criterion_group, criterion_main};

/// A batch of 1 KiB records totalling about `size` bytes, as a producer would send it.
fn producer_batch(size: usize) -> Bytes {
    let mut builder = RecordBatchBuilder::new(Compression::None);
    let value = vec![b'r'; 1000];
    for i in 0..(size / 1024).max(1) {
        builder.append(
            1_700_000_000_000 + i as i64,
            Some(b"vendor-1"),
            Some(&value),
            &[],
        );
    }
    builder.build()
}

fn log_append(c: &mut Criterion) {
    let mut group = c.benchmark_group("log_append");
    group
        .sample_size(20)
        .measurement_time(Duration::from_secs(6))
        .warm_up_time(Duration::from_secs(1));
    for (label, size) in [("1MiB", 1 << 20), ("16KiB", 16 << 10)] {
        let batch = producer_batch(size);
        group.throughput(Throughput::Bytes(batch.len() as u64));
        group.bench_function(format!("brook_log/{label}"), |b| {
            b.iter_custom(|iters| {
                let dir = tempfile::tempdir().unwrap();
                let log =
                    PartitionLog::open(dir.path().join("bench-0"), LogConfig::default()).unwrap();
                let start = Instant::now();
                for _ in 0..iters {
                    log.append(&batch).unwrap();
                }
                start.elapsed()
            })
        });
        group.bench_function(format!("baseline_write_all/{label}"), |b| {
            b.iter_custom(|iters| {
                let dir = tempfile::tempdir().unwrap();
                let mut file = File::create(dir.path().join("baseline.log")).unwrap();
                let start = Instant::now();
                for _ in 0..iters {
                    file.write_all(&batch).unwrap();
                }
                start.elapsed()
            })
        });
    }
    group.finish();
}

fn log_read(c: &mut Criterion) {
    const TOTAL: usize = 256 << 20;
    const FETCH: usize = 1 << 20;
    let mut group = c.benchmark_group("log_read");
    group
        .sample_size(20)
        .measurement_time(Duration::from_secs(6))
        .warm_up_time(Duration::from_secs(1));
    let dir = tempfile::tempdir().unwrap();
    let log = PartitionLog::open(dir.path().join("bench-0"), LogConfig::default()).unwrap();
    let batch = producer_batch(16 << 10);
    let mut baseline = File::create(dir.path().join("baseline.log")).unwrap();
    let mut written = 0;
    while written < TOTAL {
        log.append(&batch).unwrap();
        baseline.write_all(&batch).unwrap();
        written += batch.len();
    }
    drop(baseline);
    group.throughput(Throughput::Bytes(written as u64));
    group.bench_function("brook_log/1MiB_fetches", |b| {
        b.iter(|| {
            let mut offset = 0;
            let mut bytes = 0;
            while offset < log.high_watermark() {
                let read = log.read(offset, FETCH).unwrap();
                let last = brook_protocol::Batches::new(read.records.clone())
                    .last()
                    .unwrap()
                    .unwrap();
                offset = last.next_offset();
                bytes += read.records.len();
            }
            assert_eq!(bytes, written);
        })
    });
    group.bench_function("baseline_read/1MiB_buffer", |b| {
        let mut buf = vec![0u8; FETCH];
        b.iter(|| {
            let mut file = File::open(dir.path().join("baseline.log")).unwrap();
            let mut bytes = 0;
            loop {
                let n = file.read(&mut buf).unwrap();
                if n == 0 {
                    break;
                }
                bytes += n;
            }
            assert_eq!(bytes, written);
        })
    });
    group.finish();
}

criterion_group!(benches, log_append, log_read);
criterion_main!(benches);
