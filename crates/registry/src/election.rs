//! One writer among the registry instances on a cluster, elected through a Kafka consumer
//! group: every instance joins the group `schema-registry` (Confluent's default group id)
//! subscribed to the single-partition schemas topic, so the group's assignor gives that
//! partition to exactly one member, which is the leader. Each member's `client.id` is its URL,
//! so followers find the leader by describing the group, and forward writes to it
//! ([`crate::forward`]); the consumer leaves the group when the election is dropped. The partition is paused as soon as it is assigned: the election reads
//! no records.
//!
//! Any Kafka-compatible cluster elects this way (classic group protocol). A leader that stops
//! leaves the group and another instance takes over at the next rebalance; one that crashes
//! is replaced after `session.timeout.ms` (10 s, as Confluent's registry uses).

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use brook_client::ClusterSettings;
use rdkafka::ClientContext;
use rdkafka::consumer::{BaseConsumer, Consumer as _, ConsumerContext, Rebalance};

use crate::error::RegistryError;

/// The group the registry instances elect their leader in.
pub const GROUP_ID: &str = "schema-registry";

/// Who handles writes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Leader {
    /// This instance.
    Me,
    /// Another instance, by URL.
    Other(String),
}

#[derive(Default)]
struct Flags {
    leader: AtomicBool,
    /// Set when leadership is won; cleared once this instance has read all earlier writes.
    must_catch_up: AtomicBool,
}

struct ElectionContext(Arc<Flags>);

impl ClientContext for ElectionContext {}

impl ConsumerContext for ElectionContext {
    fn post_rebalance(&self, consumer: &BaseConsumer<Self>, rebalance: &Rebalance<'_>) {
        match rebalance {
            Rebalance::Assign(partitions) => {
                let won = partitions.count() > 0;
                if won {
                    // The election needs the assignment, not the records.
                    let _ = consumer.pause(partitions);
                    if !self.0.leader.swap(true, Ordering::SeqCst) {
                        self.0.must_catch_up.store(true, Ordering::SeqCst);
                        tracing::info!("this schema registry is the leader");
                    }
                } else {
                    self.0.leader.store(false, Ordering::SeqCst);
                }
            }
            Rebalance::Revoke(_) | Rebalance::Error(_) => {
                self.0.leader.store(false, Ordering::SeqCst);
            }
        }
    }
}

/// This instance's membership in the election group.
pub struct Election {
    flags: Arc<Flags>,
    consumer: Arc<BaseConsumer<ElectionContext>>,
    url: String,
    stop: Arc<AtomicBool>,
    poller: std::sync::Mutex<Option<std::thread::JoinHandle<()>>>,
}

impl std::fmt::Debug for Election {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Election").field("url", &self.url).finish()
    }
}

/// The partitions a classic `ConsumerProtocol` assignment holds.
fn assigned_partitions(assignment: &[u8]) -> usize {
    fn take<const N: usize>(bytes: &mut &[u8]) -> Option<[u8; N]> {
        let (head, rest) = bytes.split_first_chunk::<N>()?;
        *bytes = rest;
        Some(*head)
    }
    fn count(mut bytes: &[u8]) -> Option<usize> {
        take::<2>(&mut bytes)?; // version
        let topics = i32::from_be_bytes(take::<4>(&mut bytes)?);
        let mut partitions = 0usize;
        for _ in 0..topics.max(0) {
            let name_len = i16::from_be_bytes(take::<2>(&mut bytes)?);
            bytes = bytes.get(usize::try_from(name_len).ok()?..)?;
            let n = usize::try_from(i32::from_be_bytes(take::<4>(&mut bytes)?)).ok()?;
            bytes = bytes.get(n.checked_mul(4)?..)?;
            partitions += n;
        }
        Some(partitions)
    }
    count(assignment).unwrap_or(0)
}

impl Election {
    /// Joins the election for `topic` on `bootstrap` as the instance reachable at `url`.
    pub fn join(
        cluster: &ClusterSettings,
        topic: &str,
        url: &str,
    ) -> Result<Election, RegistryError> {
        let flags = Arc::new(Flags::default());
        let consumer: BaseConsumer<ElectionContext> = cluster
            .config()
            .set("group.id", GROUP_ID)
            .set("client.id", url)
            .set("enable.auto.commit", "false")
            .set("session.timeout.ms", "10000")
            .set("heartbeat.interval.ms", "3000")
            .set("partition.assignment.strategy", "range")
            .create_with_context(ElectionContext(flags.clone()))
            .map_err(|e| RegistryError::Store(format!("cannot join the election: {e}")))?;
        consumer
            .subscribe(&[topic])
            .map_err(|e| RegistryError::Store(format!("cannot join the election: {e}")))?;
        let consumer = Arc::new(consumer);
        let stop = Arc::new(AtomicBool::new(false));
        let poller = {
            let (consumer, stop) = (consumer.clone(), stop.clone());
            std::thread::Builder::new()
                .name("registry-election".into())
                .spawn(move || {
                    while !stop.load(Ordering::Relaxed) {
                        // Drives joins, heartbeats and rebalances; the partition is paused.
                        let _ = consumer.poll(Duration::from_millis(100));
                    }
                })
                .map_err(|e| RegistryError::Store(format!("cannot start the election: {e}")))?
        };
        Ok(Election {
            flags,
            consumer,
            url: url.to_string(),
            stop,
            poller: std::sync::Mutex::new(Some(poller)),
        })
    }

    /// Whether this instance leads now.
    pub fn is_leader(&self) -> bool {
        self.flags.leader.load(Ordering::SeqCst)
    }

    /// True once after leadership is won: the new leader must read all earlier writes first.
    pub fn take_catch_up(&self) -> bool {
        self.flags.must_catch_up.swap(false, Ordering::SeqCst)
    }

    /// Asks for another catch-up (the last one failed).
    pub fn catch_up_again(&self) {
        self.flags.must_catch_up.store(true, Ordering::SeqCst);
    }

    /// The leader, waiting up to `patience` while the group settles.
    pub fn leader(&self, patience: Duration) -> Result<Leader, RegistryError> {
        let deadline = Instant::now() + patience;
        loop {
            if self.is_leader() {
                return Ok(Leader::Me);
            }
            if let Some(url) = self.leader_url() {
                if url == self.url {
                    // The group already counts us as the leader; the callback is on its way.
                    if self.is_leader() {
                        return Ok(Leader::Me);
                    }
                } else {
                    return Ok(Leader::Other(url));
                }
            }
            if Instant::now() >= deadline {
                return Err(RegistryError::UnknownLeader);
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// The URL of the member holding the partition, from the group's description.
    fn leader_url(&self) -> Option<String> {
        let groups = self
            .consumer
            .fetch_group_list(Some(GROUP_ID), Duration::from_secs(2))
            .ok()?;
        let group = groups.groups().iter().find(|g| g.name() == GROUP_ID)?;
        group
            .members()
            .iter()
            .find(|m| m.assignment().is_some_and(|a| assigned_partitions(a) > 0))
            .map(|m| m.client_id().to_string())
    }
}

impl Election {
    /// Leaves the group, so another instance takes over at once. Blocks for up to ~0.5 s.
    pub fn leave(&self) {
        self.stop.store(true, Ordering::Relaxed);
        let poller = self.poller.lock().unwrap_or_else(|p| p.into_inner()).take();
        let Some(poller) = poller else {
            return;
        };
        let _ = poller.join();
        self.flags.leader.store(false, Ordering::SeqCst);
        self.consumer.unsubscribe();
        // Serve the revocation so the consumer leaves cleanly.
        for _ in 0..5 {
            let _ = self.consumer.poll(Duration::from_millis(100));
        }
    }
}

impl Drop for Election {
    fn drop(&mut self) {
        self.leave();
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn assignments_count_their_partitions() {
        // Version 0, one topic "_schemas" with partition 0, no user data.
        let mut bytes = vec![0, 0, 0, 0, 0, 1, 0, 8];
        bytes.extend_from_slice(b"_schemas");
        bytes.extend_from_slice(&[0, 0, 0, 1, 0, 0, 0, 0, 0xff, 0xff, 0xff, 0xff]);
        assert_eq!(super::assigned_partitions(&bytes), 1);
        // The same topic with no partitions, and garbage.
        let mut empty = vec![0, 0, 0, 0, 0, 1, 0, 8];
        empty.extend_from_slice(b"_schemas");
        empty.extend_from_slice(&[0, 0, 0, 0]);
        assert_eq!(super::assigned_partitions(&empty), 0);
        assert_eq!(super::assigned_partitions(&[0, 0, 0xff]), 0);
        assert_eq!(super::assigned_partitions(&[]), 0);
    }
}
