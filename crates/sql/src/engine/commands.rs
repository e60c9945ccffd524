//! The command topic: every statement that changes the metastore or starts or stops a
//! persistent query is written to `_confluent-ksql-<service id>_command_topic` and applied by
//! each server as it reads it back, in order — at start (replay), and while running (the
//! statements other servers with the same service id accept). A server answers a statement
//! once it has applied it itself.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};

use brook_client::Quiet;
use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::{Message, Offset, TopicPartitionList};
use serde::{Deserialize, Serialize};

use crate::error::{Result, SqlError};

/// One command: a statement and the properties it was run with.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Command {
    /// The statement's text.
    pub statement: String,
    /// `streamsProperties` in force (auto.offset.reset, processing.guarantee, …).
    #[serde(rename = "streamsProperties", default)]
    pub properties: std::collections::BTreeMap<String, String>,
}

/// The outcome of applying a command: a message and a query id, or an error.
pub type Outcome = Result<(String, Option<String>)>;

/// Commands applied so far and their outcomes, for the server waiting on them.
#[derive(Default)]
pub struct Progress {
    /// The offset after the last applied command.
    pub next: i64,
    /// Outcomes not yet collected, by offset.
    pub outcomes: HashMap<i64, Outcome>,
    /// Whether the commands that existed at start have all been applied.
    pub caught_up: bool,
}

/// Shared between the runner thread and the servers submitting.
#[derive(Default)]
pub struct CommandLog {
    /// Progress, guarded.
    pub progress: Mutex<Progress>,
    /// Signalled after each applied command.
    pub applied: Condvar,
    /// Tells the runner to stop.
    pub stop: AtomicBool,
}

impl CommandLog {
    /// Waits until `ready` gives an answer from the progress, for at most `timeout`.
    fn wait_until<T>(
        &self,
        timeout: Duration,
        mut ready: impl FnMut(&mut Progress) -> Option<T>,
    ) -> Option<T> {
        let deadline = Instant::now() + timeout;
        let mut progress = self.progress.lock().unwrap_or_else(|p| p.into_inner());
        loop {
            if let Some(answer) = ready(&mut progress) {
                return Some(answer);
            }
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return None;
            }
            progress = self
                .applied
                .wait_timeout(progress, left)
                .unwrap_or_else(|p| p.into_inner())
                .0;
        }
    }

    /// Waits until the command at `offset` is applied, and takes its outcome.
    pub fn wait_for(&self, offset: i64, timeout: Duration) -> Outcome {
        self.wait_until(timeout, |progress| {
            (progress.next > offset).then(|| {
                progress
                    .outcomes
                    .remove(&offset)
                    .unwrap_or_else(|| Ok(("Applied".into(), None)))
            })
        })
        .unwrap_or_else(|| {
            Err(SqlError {
                code: 50301,
                message: format!(
                    "Timed out waiting for the command at offset {offset} of the command topic to be applied"
                ),
            })
        })
    }

    /// Waits until the commands that existed at start are applied.
    pub fn wait_caught_up(&self, timeout: Duration) -> bool {
        self.wait_until(timeout, |progress| progress.caught_up.then_some(()))
            .is_some()
    }
}

/// Reads the command topic from the beginning and hands each command to `apply`, until
/// stopped.
pub fn run(
    log: Arc<CommandLog>,
    consumer: BaseConsumer<Quiet>,
    topic: String,
    apply: impl Fn(i64, Command) -> Outcome,
) {
    let mut assignment = TopicPartitionList::new();
    if let Err(e) = assignment.add_partition_offset(&topic, 0, Offset::Beginning) {
        tracing::error!(%e, "cannot read the command topic");
        return;
    }
    if let Err(e) = consumer.assign(&assignment) {
        tracing::error!(%e, "cannot read the command topic");
        return;
    }
    let end_at_start = consumer
        .fetch_watermarks(&topic, 0, Duration::from_secs(10))
        .map(|(_, high)| high)
        .unwrap_or(0);
    let mark_caught_up = |next: i64| {
        if next >= end_at_start {
            let mut p = log.progress.lock().unwrap_or_else(|p| p.into_inner());
            if !p.caught_up {
                p.caught_up = true;
                log.applied.notify_all();
            }
        }
    };
    mark_caught_up(0);
    while !log.stop.load(Ordering::Acquire) {
        let Some(message) = consumer.poll(Duration::from_millis(100)) else {
            continue;
        };
        let message = match message {
            Ok(m) => m,
            Err(e) => {
                tracing::warn!(%e, "reading the command topic");
                continue;
            }
        };
        let offset = message.offset();
        let outcome = match message.payload().map(serde_json::from_slice::<Command>) {
            // A statement must not stop the runner, whatever it does.
            Some(Ok(command)) => std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                apply(offset, command)
            }))
            .unwrap_or_else(|_| {
                Err(SqlError::server(
                    "applying the command failed inside the server (a bug: please report it)",
                ))
            }),
            Some(Err(e)) => Err(SqlError::server(format!("a command is not readable: {e}"))),
            None => Ok(("Skipped".into(), None)),
        };
        if let Err(e) = &outcome {
            tracing::warn!(offset, error = %e.message, "a command failed");
        }
        let mut progress = log.progress.lock().unwrap_or_else(|p| p.into_inner());
        progress.next = offset + 1;
        progress.outcomes.insert(offset, outcome);
        // Outcomes nobody waits for (replayed or other servers' commands) are dropped.
        progress.outcomes.retain(|o, _| *o + 1000 > offset);
        drop(progress);
        log.applied.notify_all();
        mark_caught_up(offset + 1);
    }
}
