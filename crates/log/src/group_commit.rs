//! Group commit: many appenders waiting for durability share one fsync.
//!
//! The first appender that needs its data durable becomes the leader and runs the sync; the
//! ones arriving meanwhile wait, and when the leader finishes, every waiter whose offset the
//! sync covered returns without an fsync of its own. The rest elect the next leader.

use std::io;
use std::sync::{Condvar, Mutex};

#[derive(Debug)]
struct State {
    /// Every offset below this is durable.
    durable_end: i64,
    syncing: bool,
}

/// Tracks how far the log is durable and serializes syncs. `Sync`; shared by the log's
/// appenders.
#[derive(Debug)]
pub(crate) struct GroupCommit {
    state: Mutex<State>,
    synced: Condvar,
}

impl GroupCommit {
    pub fn new(durable_end: i64) -> Self {
        GroupCommit {
            state: Mutex::new(State {
                durable_end,
                syncing: false,
            }),
            synced: Condvar::new(),
        }
    }

    pub fn durable_end(&self) -> i64 {
        self.lock().durable_end
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Returns once every offset below `end` is durable. `sync` makes the log durable and
    /// returns the offset it covered up to; it runs on at most one thread at a time.
    pub fn wait_durable(&self, end: i64, sync: impl Fn() -> io::Result<i64>) -> io::Result<()> {
        let mut state = self.lock();
        loop {
            if state.durable_end >= end {
                return Ok(());
            }
            if state.syncing {
                state = self.synced.wait(state).unwrap_or_else(|p| p.into_inner());
                continue;
            }
            state.syncing = true;
            drop(state);
            let result = sync();
            state = self.lock();
            state.syncing = false;
            self.synced.notify_all();
            match result {
                Ok(covered) => state.durable_end = state.durable_end.max(covered),
                Err(e) => return Err(e),
            }
        }
    }

    /// Records durability reached by other means (a flush on roll or close).
    pub fn mark_durable(&self, end: i64) {
        let mut state = self.lock();
        state.durable_end = state.durable_end.max(end);
        self.synced.notify_all();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;
    use std::sync::atomic::{AtomicI64, AtomicUsize, Ordering};

    #[test]
    fn concurrent_waiters_share_syncs() {
        let commit = Arc::new(GroupCommit::new(0));
        let written = Arc::new(AtomicI64::new(0));
        let syncs = Arc::new(AtomicUsize::new(0));
        let threads: Vec<_> = (0..8)
            .map(|_| {
                let (commit, written, syncs) = (commit.clone(), written.clone(), syncs.clone());
                std::thread::spawn(move || {
                    for _ in 0..50 {
                        let end = written.fetch_add(1, Ordering::SeqCst) + 1;
                        commit
                            .wait_durable(end, || {
                                syncs.fetch_add(1, Ordering::SeqCst);
                                let covered = written.load(Ordering::SeqCst);
                                std::thread::sleep(std::time::Duration::from_millis(1));
                                Ok(covered)
                            })
                            .unwrap();
                        assert!(commit.durable_end() >= end);
                    }
                })
            })
            .collect();
        for t in threads {
            t.join().unwrap();
        }
        let syncs = syncs.load(Ordering::SeqCst);
        assert!(syncs < 400, "400 durable appends needed {syncs} syncs");
        assert_eq!(commit.durable_end(), 400);
    }

    #[test]
    fn a_failed_sync_is_reported_to_its_leader_and_retried_by_the_next() {
        let commit = GroupCommit::new(0);
        let err = commit
            .wait_durable(5, || Err(io::Error::other("disk gone")))
            .unwrap_err();
        assert_eq!(err.to_string(), "disk gone");
        commit.wait_durable(5, || Ok(5)).unwrap();
        commit.mark_durable(9);
        commit
            .wait_durable(9, || panic!("already durable"))
            .unwrap();
    }
}
