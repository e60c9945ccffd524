//! The local persistent copy of a task's stores, so that a restarted instance reads only the
//! tail of each changelog instead of all of it (Kafka Streams keeps RocksDB stores and a
//! `.checkpoint` file in `state.dir` for the same reason).
//!
//! One [redb](https://docs.rs/redb) database per task, at
//! `<state.dir>/<application.id>/<task id>/stores.redb`: one table per persistent store, and
//! a checkpoints table with, per store, the changelog offset its saved contents reach. The
//! contents and their checkpoint are written in one redb transaction, and only after the Kafka
//! commit that made them durable (the produced changelog records and the consumed offsets),
//! so the copy never holds anything the changelog does not: restoring from the checkpoint to
//! the changelog's end gives exactly the committed state, under at_least_once and
//! exactly_once_v2 alike. See `docs/decisions/0004-redb-for-local-state.md` for the choice.

use std::path::{Path, PathBuf};

use redb::{Database, ReadableDatabase, ReadableTable, TableDefinition};

use super::ChangelogEntry;

const CHECKPOINTS: TableDefinition<'_, &str, i64> = TableDefinition::new("brook-checkpoints");

/// A failure of the local copy; the runtime falls back to restoring from the changelog.
#[derive(Debug, thiserror::Error)]
#[error("local state in {path}: {message}")]
pub struct LocalStateError {
    path: PathBuf,
    message: String,
}

/// One task's persistent stores on disk.
pub struct LocalStores {
    db: Database,
    path: PathBuf,
}

/// A store's saved contents and the changelog offset they reach.
pub struct Saved {
    /// Key and value bytes.
    pub entries: Vec<(Vec<u8>, Vec<u8>)>,
    /// The changelog offset to restore from, when the contents are known to reach it.
    pub checkpoint: Option<i64>,
}

impl LocalStores {
    /// Opens (or creates) the task's database in `dir`. Fails when another process has it
    /// open (redb locks the file).
    pub fn open(dir: &Path) -> Result<Self, LocalStateError> {
        let path = dir.join("stores.redb");
        let error = |e: &dyn std::fmt::Display| LocalStateError {
            path: path.clone(),
            message: e.to_string(),
        };
        std::fs::create_dir_all(dir).map_err(|e| error(&e))?;
        let db = Database::create(&path).map_err(|e| error(&e))?;
        Ok(LocalStores { db, path })
    }

    fn error(&self, e: impl std::fmt::Display) -> LocalStateError {
        LocalStateError {
            path: self.path.clone(),
            message: e.to_string(),
        }
    }

    /// The saved contents of `store`.
    pub fn load(&self, store: &str) -> Result<Saved, LocalStateError> {
        let read = self.db.begin_read().map_err(|e| self.error(e))?;
        let checkpoint = match read.open_table(CHECKPOINTS) {
            Ok(table) => table
                .get(store)
                .map_err(|e| self.error(e))?
                .map(|v| v.value()),
            Err(redb::TableError::TableDoesNotExist(_)) => None,
            Err(e) => return Err(self.error(e)),
        };
        let mut entries = Vec::new();
        match read.open_table(table(store)) {
            Ok(table) => {
                for entry in table.iter().map_err(|e| self.error(e))? {
                    let (k, v) = entry.map_err(|e| self.error(e))?;
                    entries.push((k.value().to_vec(), v.value().to_vec()));
                }
            }
            Err(redb::TableError::TableDoesNotExist(_)) => {}
            Err(e) => return Err(self.error(e)),
        }
        Ok(Saved {
            entries,
            checkpoint,
        })
    }

    /// Writes each store's changed keys and its new checkpoint, all in one durable
    /// transaction.
    pub fn save(
        &self,
        stores: &[(String, Vec<ChangelogEntry>, i64)],
    ) -> Result<(), LocalStateError> {
        let write = self.db.begin_write().map_err(|e| self.error(e))?;
        {
            let mut checkpoints = write.open_table(CHECKPOINTS).map_err(|e| self.error(e))?;
            for (store, changes, checkpoint) in stores {
                let mut table = write.open_table(table(store)).map_err(|e| self.error(e))?;
                for (key, value) in changes {
                    match value {
                        Some(value) => table.insert(key.as_slice(), value.as_slice()),
                        None => table.remove(key.as_slice()).map(|_| None),
                    }
                    .map_err(|e| self.error(e))?;
                }
                checkpoints
                    .insert(store.as_str(), checkpoint)
                    .map_err(|e| self.error(e))?;
            }
        }
        write.commit().map_err(|e| self.error(e))
    }

    /// Forgets `store`'s saved contents (the changelog no longer matches them).
    pub fn wipe(&self, store: &str) -> Result<(), LocalStateError> {
        let write = self.db.begin_write().map_err(|e| self.error(e))?;
        write
            .delete_table(table(store))
            .map_err(|e| self.error(e))?;
        {
            let mut checkpoints = write.open_table(CHECKPOINTS).map_err(|e| self.error(e))?;
            checkpoints.remove(store).map_err(|e| self.error(e))?;
        }
        write.commit().map_err(|e| self.error(e))
    }
}

fn table(store: &str) -> TableDefinition<'_, &'static [u8], &'static [u8]> {
    TableDefinition::new(store)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn saved_contents_and_checkpoints_survive_reopening() {
        let dir = tempfile::tempdir().unwrap();
        {
            let local = LocalStores::open(dir.path()).unwrap();
            assert!(local.load("counts").unwrap().entries.is_empty());
            local
                .save(&[(
                    "counts".to_string(),
                    vec![
                        (b"a".to_vec(), Some(b"1".to_vec())),
                        (b"b".to_vec(), Some(b"2".to_vec())),
                    ],
                    17,
                )])
                .unwrap();
            local
                .save(&[("counts".to_string(), vec![(b"a".to_vec(), None)], 20)])
                .unwrap();
        }
        let local = LocalStores::open(dir.path()).unwrap();
        let saved = local.load("counts").unwrap();
        assert_eq!(saved.entries, vec![(b"b".to_vec(), b"2".to_vec())]);
        assert_eq!(saved.checkpoint, Some(20));
        local.wipe("counts").unwrap();
        let saved = local.load("counts").unwrap();
        assert!(saved.entries.is_empty());
        assert_eq!(saved.checkpoint, None);
    }
}
