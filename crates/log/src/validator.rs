//! What Kafka's `LogValidator` does to appended batches beyond their header checks, for the
//! topics whose configs ask for it: records without a key are refused on compacted topics,
//! and batches are recompressed when `compression.type` names a codec other than theirs.
//! Both decode records, so topics without those configs never pay for them.

use brook_protocol::{RecordBatch, rebuild_batch};
use bytes::{Bytes, BytesMut};

use crate::config::Recompression;
use crate::error::AppendError;
use crate::partition_log::PartitionLog;

impl PartitionLog {
    /// Refuses records without a key (Kafka: INVALID_RECORD with one error per record, which
    /// names its index among the appended records).
    pub(crate) fn check_keys(&self, batches: &[RecordBatch]) -> Result<(), AppendError> {
        let mut keyless = Vec::new();
        let mut index = 0;
        for batch in batches.iter().filter(|b| !b.attributes().is_control()) {
            let records = batch.records().map_err(|e| AppendError::InvalidRecord {
                log: self.dir().to_path_buf(),
                reason: e.to_string(),
            })?;
            for record in records {
                if record.key.is_none() {
                    keyless.push(index);
                }
                index += 1;
            }
        }
        if keyless.is_empty() {
            return Ok(());
        }
        Err(AppendError::KeylessRecords {
            log: self.dir().to_path_buf(),
            record_indexes: keyless,
        })
    }

    /// The batches in `target`'s codec; `None` when every batch already is (control batches
    /// are never recompressed).
    pub(crate) fn recompress(
        &self,
        batches: &[RecordBatch],
        target: Recompression,
    ) -> Result<Option<Bytes>, AppendError> {
        let differs = |b: &RecordBatch| {
            !b.attributes().is_control() && b.attributes().compression() != Ok(target.codec)
        };
        if !batches.iter().any(differs) {
            return Ok(None);
        }
        let mut out = BytesMut::new();
        for batch in batches {
            if !differs(batch) {
                out.extend_from_slice(batch.as_bytes());
                continue;
            }
            let records = batch.records().map_err(|e| AppendError::InvalidRecord {
                log: self.dir().to_path_buf(),
                reason: e.to_string(),
            })?;
            out.extend_from_slice(&rebuild_batch(batch, &records, target.codec, target.level));
        }
        Ok(Some(out.freeze()))
    }
}
