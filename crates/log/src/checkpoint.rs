//! Small per-partition state files: the checkpoint (log start offset and recovery point) and
//! the clean-shutdown marker.
//!
//! `brook.checkpoint` is text, one `key value` per line after a version line, written to a
//! temporary file, fsynced and renamed over the old one, so it is always whole.

use std::fs::{self, File};
use std::io::{self, Write};
use std::path::Path;

/// Name of the checkpoint file in a partition directory.
pub const CHECKPOINT_FILE: &str = "brook.checkpoint";
/// Name of the marker written by a clean close and removed at open.
pub const CLEAN_SHUTDOWN_FILE: &str = ".brook-clean-shutdown";

const VERSION_LINE: &str = "brook-partition-checkpoint v1";

/// Offsets that must survive restarts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Checkpoint {
    /// First offset readable (moved by retention and delete-records).
    pub log_start_offset: i64,
    /// Everything below this offset is known to be fsynced; recovery starts at the segment
    /// holding it.
    pub recovery_point: i64,
}

impl Checkpoint {
    /// Reads the checkpoint; `Ok(None)` when there is none.
    pub fn read(dir: &Path) -> Result<Option<Self>, String> {
        let text = match fs::read_to_string(dir.join(CHECKPOINT_FILE)) {
            Ok(text) => text,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(e.to_string()),
        };
        let mut lines = text.lines();
        if lines.next() != Some(VERSION_LINE) {
            return Err("unknown version line".into());
        }
        let mut checkpoint = Checkpoint::default();
        for line in lines {
            let (key, value) = line
                .split_once(' ')
                .ok_or_else(|| format!("bad line '{line}'"))?;
            let value: i64 = value
                .parse()
                .map_err(|_| format!("bad number in '{line}'"))?;
            match key {
                "log_start_offset" => checkpoint.log_start_offset = value,
                "recovery_point" => checkpoint.recovery_point = value,
                _ => return Err(format!("unknown key '{key}'")),
            }
        }
        Ok(Some(checkpoint))
    }

    /// Writes the checkpoint atomically and durably.
    pub fn write(&self, dir: &Path) -> io::Result<()> {
        let tmp = dir.join(format!("{CHECKPOINT_FILE}.tmp"));
        let mut file = File::create(&tmp)?;
        writeln!(file, "{VERSION_LINE}")?;
        writeln!(file, "log_start_offset {}", self.log_start_offset)?;
        writeln!(file, "recovery_point {}", self.recovery_point)?;
        file.sync_all()?;
        fs::rename(&tmp, dir.join(CHECKPOINT_FILE))?;
        sync_dir(dir)
    }
}

/// fsyncs a directory so that creations, renames and removals in it are durable.
pub fn sync_dir(dir: &Path) -> io::Result<()> {
    File::open(dir)?.sync_all()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn checkpoint_file_bytes_and_round_trip() {
        let dir = tempfile::tempdir().unwrap();
        assert_eq!(Checkpoint::read(dir.path()), Ok(None));
        let cp = Checkpoint {
            log_start_offset: 42,
            recovery_point: 1000,
        };
        cp.write(dir.path()).unwrap();
        assert_eq!(
            fs::read_to_string(dir.path().join(CHECKPOINT_FILE)).unwrap(),
            "brook-partition-checkpoint v1\nlog_start_offset 42\nrecovery_point 1000\n"
        );
        assert_eq!(Checkpoint::read(dir.path()), Ok(Some(cp)));
        fs::write(dir.path().join(CHECKPOINT_FILE), "garbage").unwrap();
        assert!(Checkpoint::read(dir.path()).is_err());
    }
}
