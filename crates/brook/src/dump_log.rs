//! `brook dump-log`: a reader of segment and index files that prints what Kafka's
//! `kafka-dump-log.sh --files … [--print-data-log]` prints, so Brook's files can be compared
//! with Kafka's line by line.

use std::io::{self, Write};
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use brook_protocol::{BatchHeader, Batches, RecordBatch, TimestampType};
use bytes::Bytes;

#[derive(clap::Args)]
pub struct Args {
    /// Segment (.log), offset index (.index) or time index (.timeindex) files.
    #[arg(required = true)]
    files: Vec<PathBuf>,
    /// Also print every record: offset, timestamp, key, value and headers.
    #[arg(long, alias = "print-data-log")]
    print_records: bool,
}

pub fn run(args: &Args) -> Result<()> {
    let stdout = io::stdout();
    let mut out = io::BufWriter::new(stdout.lock());
    for file in &args.files {
        let result = dump_file(file, args.print_records, &mut out);
        match result {
            Err(e) if is_broken_pipe(&e) => return Ok(()),
            other => other?,
        }
    }
    match out.flush() {
        Err(e) if e.kind() == io::ErrorKind::BrokenPipe => Ok(()),
        other => Ok(other?),
    }
}

fn is_broken_pipe(e: &anyhow::Error) -> bool {
    e.downcast_ref::<io::Error>()
        .is_some_and(|e| e.kind() == io::ErrorKind::BrokenPipe)
}

fn dump_file(path: &Path, print_records: bool, out: &mut impl Write) -> Result<()> {
    let bytes = std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))?;
    writeln!(out, "Dumping {}", path.display())?;
    let base_offset = path
        .file_name()
        .and_then(|n| n.to_str())
        .and_then(brook_log::naming::parse_segment_file_name)
        .map_or(0, |(base, _)| base);
    match path.extension().and_then(|e| e.to_str()) {
        Some("log") => dump_segment(Bytes::from(bytes), print_records, out),
        Some("index") => dump_entries::<8>(path, &bytes, out, |e| {
            let relative = u32::from_be_bytes(e[..4].try_into().expect("4 bytes"));
            let position = u32::from_be_bytes(e[4..].try_into().expect("4 bytes"));
            format!(
                "offset: {} position: {position}",
                base_offset + i64::from(relative)
            )
        }),
        Some("timeindex") => dump_entries::<12>(path, &bytes, out, |e| {
            let timestamp = i64::from_be_bytes(e[..8].try_into().expect("8 bytes"));
            let relative = u32::from_be_bytes(e[8..].try_into().expect("4 bytes"));
            format!(
                "timestamp: {timestamp} offset: {}",
                base_offset + i64::from(relative)
            )
        }),
        _ => bail!(
            "{}: expected a .log, .index or .timeindex file",
            path.display()
        ),
    }
}

/// Prints each fixed-size index entry with `describe`; a partial trailing entry is an error.
fn dump_entries<const N: usize>(
    path: &Path,
    bytes: &[u8],
    out: &mut impl Write,
    describe: impl Fn(&[u8; N]) -> String,
) -> Result<()> {
    for entry in bytes.chunks(N) {
        let Ok(entry) = <&[u8; N]>::try_from(entry) else {
            bail!("{} ends in a partial entry", path.display());
        };
        writeln!(out, "{}", describe(entry))?;
    }
    Ok(())
}

fn dump_segment(bytes: Bytes, print_records: bool, out: &mut impl Write) -> Result<()> {
    let total = bytes.len();
    let mut position = 0usize;
    for batch in Batches::new(bytes) {
        let batch = match batch {
            Ok(batch) => batch,
            Err(e) => {
                writeln!(
                    out,
                    "Found {} invalid bytes at position {position}: {e}",
                    total - position
                )?;
                return Ok(());
            }
        };
        write_batch(&batch, position, out)?;
        if print_records {
            write_records(&batch, out)?;
        }
        position += batch.size();
    }
    Ok(())
}

fn write_batch(batch: &RecordBatch, position: usize, out: &mut impl Write) -> io::Result<()> {
    let h: BatchHeader = batch.header();
    let last_sequence = if h.base_sequence < 0 {
        -1
    } else {
        h.base_sequence + h.last_offset_delta
    };
    let time_label = match h.attributes.timestamp_type() {
        TimestampType::CreateTime => "CreateTime",
        TimestampType::LogAppendTime => "LogAppendTime",
    };
    let codec = h.attributes.compression().map_or("unknown", |c| c.name());
    writeln!(
        out,
        "baseOffset: {} lastOffset: {} count: {} baseSequence: {} lastSequence: {last_sequence} \
         producerId: {} producerEpoch: {} partitionLeaderEpoch: {} isTransactional: {} \
         isControl: {} position: {position} {time_label}: {} size: {} magic: 2 \
         compresscodec: {codec} crc: {} isvalid: {}",
        h.base_offset,
        h.last_offset(),
        h.records_count,
        h.base_sequence,
        h.producer_id,
        h.producer_epoch,
        h.partition_leader_epoch,
        h.attributes.is_transactional(),
        h.attributes.is_control(),
        h.max_timestamp,
        batch.size(),
        h.crc,
        batch.verify_crc().is_ok(),
    )
}

fn write_records(batch: &RecordBatch, out: &mut impl Write) -> io::Result<()> {
    let records = match batch.records() {
        Ok(records) => records,
        Err(e) => return writeln!(out, "| cannot decode records: {e}"),
    };
    let show = |b: &Option<Bytes>| {
        b.as_ref().map_or("null".to_string(), |b| {
            String::from_utf8_lossy(b).into_owned()
        })
    };
    for r in records {
        let headers: Vec<String> = r
            .headers
            .iter()
            .map(|h| format!("{}:{}", String::from_utf8_lossy(&h.key), show(&h.value)))
            .collect();
        writeln!(
            out,
            "| offset: {} CreateTime: {} keySize: {} valueSize: {} headers: {} key: {} payload: {}",
            r.offset,
            r.timestamp,
            r.key.as_ref().map_or(-1, |k| k.len() as i64),
            r.value.as_ref().map_or(-1, |v| v.len() as i64),
            headers.join(","),
            show(&r.key),
            show(&r.value),
        )?;
    }
    Ok(())
}
