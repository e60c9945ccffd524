//! The metadata log: every change to topics (creation with id, partition count and config
//! overrides; deletion) as one JSON record per line in `<data dir>/__cluster_metadata/
//! metadata.log`, fsynced before the change is acknowledged and replayed at start. These are
//! the records a Raft quorum will replicate once Brook becomes a cluster.

use std::collections::BTreeMap;
use std::fs::{self, File, OpenOptions};
use std::io::{self, BufRead, Write};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

/// One metadata change.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum MetadataRecord {
    /// A topic came into being.
    Topic {
        /// Topic name.
        name: String,
        /// Topic id (UUID).
        id: uuid::Uuid,
        /// Number of partitions.
        partitions: i32,
        /// Config overrides by Kafka name.
        configs: BTreeMap<String, String>,
    },
    /// A topic's config overrides were replaced.
    TopicConfig {
        /// Topic id.
        id: uuid::Uuid,
        /// The complete new set of overrides.
        configs: BTreeMap<String, String>,
    },
    /// A topic grew to `count` partitions.
    Partitions {
        /// Topic id.
        id: uuid::Uuid,
        /// New partition count.
        count: i32,
    },
    /// The dynamic broker-level defaults (Kafka names such as `log.retention.ms`) were replaced.
    BrokerConfig {
        /// The complete new set.
        configs: BTreeMap<String, String>,
    },
    /// A topic was deleted.
    RemoveTopic {
        /// Topic id.
        id: uuid::Uuid,
    },
}

/// Appends and replays metadata records. Owned by the topic registry behind a mutex.
#[derive(Debug)]
pub struct MetadataLog {
    path: PathBuf,
    file: File,
    records: i64,
}

impl MetadataLog {
    /// Opens the log, returning it with every intact record in order. A torn last line (crash
    /// mid-write) is dropped with a warning and cut off.
    pub fn open(data_dir: &Path) -> io::Result<(Self, Vec<MetadataRecord>)> {
        let dir = data_dir.join("__cluster_metadata");
        fs::create_dir_all(&dir)?;
        let path = dir.join("metadata.log");
        let mut records = Vec::new();
        let mut valid_len = 0u64;
        if let Ok(file) = File::open(&path) {
            for line in io::BufReader::new(file).split(b'\n') {
                let line = line?;
                match serde_json::from_slice::<MetadataRecord>(&line) {
                    Ok(record) => {
                        records.push(record);
                        valid_len += line.len() as u64 + 1;
                    }
                    Err(e) => {
                        tracing::warn!(path = %path.display(), position = valid_len, error = %e,
                            "dropping damaged tail of the metadata log");
                        break;
                    }
                }
            }
        }
        let file = OpenOptions::new().create(true).append(true).open(&path)?;
        if file.metadata()?.len() > valid_len {
            file.set_len(valid_len)?;
        }
        let count = records.len() as i64;
        Ok((
            MetadataLog {
                path,
                file,
                records: count,
            },
            records,
        ))
    }

    /// Appends a record durably.
    pub fn append(&mut self, record: &MetadataRecord) -> io::Result<()> {
        let mut line = serde_json::to_vec(record).map_err(io::Error::other)?;
        line.push(b'\n');
        self.file.write_all(&line)?;
        self.file.sync_data()?;
        self.records += 1;
        Ok(())
    }

    /// Records in the log: its end offset, as DescribeQuorum reports the metadata log's.
    pub fn end_offset(&self) -> i64 {
        self.records
    }

    /// Where the log lives.
    pub fn path(&self) -> &Path {
        &self.path
    }
}
