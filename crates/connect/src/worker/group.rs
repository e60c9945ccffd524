//! The worker group: every worker with the same `group.id` joins a Kafka consumer group of
//! that name, subscribed to the single-partition config topic (the classic group protocol,
//! so any Kafka cluster hosts it; the partition is paused, no record is read through it).
//!
//! The group tells each worker two things. A rebalance begins (revoke): the worker stops
//! everything it runs before it rejoins, so when the next assignment is handed out no task
//! runs anywhere (Kafka Connect's eager protocol). A rebalance ends (assign): the member
//! that holds the partition is the leader; it describes the group, whose members' client
//! ids are the workers' ids, and writes that membership to the config topic, where every
//! worker reads it and deals the work the same way ([`super::config_log`]).
//!
//! A worker that stops leaves the group at once; one that dies is dropped after
//! `session.timeout.ms` (10 s, Kafka Connect's default), and its work moves at that rebalance.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use brook_client::ClusterSettings;
use rdkafka::ClientContext;
use rdkafka::consumer::{BaseConsumer, Consumer as _, ConsumerContext, Rebalance};

/// What a rebalance means for this worker.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum GroupEvent {
    /// A rebalance begins: stop everything now.
    Revoked,
    /// A rebalance ended; `leader` says whether this worker must publish the membership.
    Assigned { leader: bool },
}

type Handler = Arc<dyn Fn(GroupEvent) + Send + Sync>;

struct GroupContext(Handler);

impl ClientContext for GroupContext {}

impl ConsumerContext for GroupContext {
    fn pre_rebalance(&self, _consumer: &BaseConsumer<Self>, rebalance: &Rebalance<'_>) {
        if let Rebalance::Revoke(_) = rebalance {
            (self.0)(GroupEvent::Revoked);
        }
    }

    fn post_rebalance(&self, consumer: &BaseConsumer<Self>, rebalance: &Rebalance<'_>) {
        match rebalance {
            Rebalance::Assign(partitions) => {
                let leader = partitions.count() > 0;
                if leader {
                    let _ = consumer.pause(partitions);
                }
                (self.0)(GroupEvent::Assigned { leader });
            }
            Rebalance::Revoke(_) => {}
            Rebalance::Error(e) => {
                tracing::warn!(error = %e, "worker group rebalance failed");
                (self.0)(GroupEvent::Revoked);
            }
        }
    }
}

/// This worker's membership.
pub(crate) struct Membership {
    consumer: Arc<BaseConsumer<GroupContext>>,
    group: String,
    stop: Arc<AtomicBool>,
    poller: Mutex<Option<JoinHandle<()>>>,
}

impl Membership {
    /// Joins `group` as `worker_id`; `handler` is called from the group's thread, and a
    /// rebalance waits for it.
    pub(crate) fn join(
        cluster: &ClusterSettings,
        group: &str,
        config_topic: &str,
        worker_id: &str,
        handler: impl Fn(GroupEvent) + Send + Sync + 'static,
    ) -> Result<Membership, String> {
        let consumer: BaseConsumer<GroupContext> = cluster
            .config()
            .set("group.id", group)
            .set("client.id", worker_id)
            .set("enable.auto.commit", "false")
            .set("session.timeout.ms", "10000")
            .set("heartbeat.interval.ms", "1000")
            .set("partition.assignment.strategy", "range")
            .create_with_context(GroupContext(Arc::new(handler)))
            .map_err(|e| format!("cannot join the worker group {group}: {e}"))?;
        consumer
            .subscribe(&[config_topic])
            .map_err(|e| format!("cannot join the worker group {group}: {e}"))?;
        let consumer = Arc::new(consumer);
        let stop = Arc::new(AtomicBool::new(false));
        let poller = {
            let (consumer, stop) = (consumer.clone(), stop.clone());
            std::thread::Builder::new()
                .name("connect-group".into())
                .spawn(move || {
                    while !stop.load(Ordering::Acquire) {
                        // Drives joins, heartbeats and the rebalance callbacks.
                        let _ = consumer.poll(Duration::from_millis(100));
                    }
                })
                .map_err(|e| e.to_string())?
        };
        Ok(Membership {
            consumer,
            group: group.to_string(),
            stop,
            poller: Mutex::new(Some(poller)),
        })
    }

    /// The members' ids once the group is stable (None if it does not settle in `patience`:
    /// another rebalance is under way, and its leader will publish).
    pub(crate) fn members(&self, patience: Duration) -> Option<Vec<String>> {
        let deadline = Instant::now() + patience;
        while Instant::now() < deadline {
            if let Ok(list) = self
                .consumer
                .fetch_group_list(Some(&self.group), Duration::from_secs(2))
            {
                if let Some(g) = list.groups().iter().find(|g| g.name() == self.group) {
                    if g.state() == "Stable" {
                        let mut ids: Vec<String> = g
                            .members()
                            .iter()
                            .map(|m| m.client_id().to_string())
                            .collect();
                        ids.sort();
                        ids.dedup();
                        return Some(ids);
                    }
                }
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        None
    }

    /// Leaves the group (the others rebalance at once).
    pub(crate) fn leave(&self) {
        self.stop.store(true, Ordering::Release);
        if let Some(t) = self.poller.lock().unwrap_or_else(|p| p.into_inner()).take() {
            let _ = t.join();
        }
        self.consumer.unsubscribe();
        // Serves the revoke callback of the unsubscribe.
        let _ = self.consumer.poll(Duration::from_millis(100));
    }
}
