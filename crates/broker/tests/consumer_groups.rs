//! Consumer groups with librdkafka, over the classic protocol (client-side assignors) and the
//! KIP-848 consumer protocol (server-side assignors): subscribe, rebalance across members, a
//! member leaving mid-stream, committed offsets, and a restart resuming from them.

mod common;

use std::collections::HashSet;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use brook_broker::{Broker, BrokerConfig};
use rdkafka::config::ClientConfig;
use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::message::Message;
use rdkafka::producer::{BaseProducer, BaseRecord, Producer};

async fn start(dir: &std::path::Path, port: u16) -> Broker {
    Broker::start(BrokerConfig {
        listen: format!("127.0.0.1:{port}").parse().unwrap(),
        group_initial_rebalance_delay: Duration::from_millis(300),
        consumer_groups: brook_broker::coordinator::consumer_groups::Settings {
            heartbeat_interval: Duration::from_millis(200),
            session_timeout: Duration::from_millis(6_000),
            ..Default::default()
        },
        ..common::test_config(dir)
    })
    .await
    .unwrap()
}

/// A broker with the six-partition topic `rides6` the group tests share.
async fn start_with_rides6(dir: &std::path::Path, port: u16) -> Broker {
    let broker = start(dir, port).await;
    broker
        .context()
        .topics
        .create("rides6", 6, Default::default(), false)
        .unwrap();
    broker
}

/// A loopback port that was free a moment ago (restarts reuse it).
fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn produce(bootstrap: &str, from: usize, to: usize) {
    let producer: BaseProducer = ClientConfig::new()
        .set("bootstrap.servers", bootstrap)
        .create()
        .unwrap();
    for i in from..to {
        let key = format!("vendor-{}", i % 7);
        let value = format!("ride-{i}");
        producer
            .send(BaseRecord::to("rides6").key(&key).payload(&value))
            .unwrap();
        producer.poll(Duration::ZERO);
    }
    producer.flush(Duration::from_secs(10)).unwrap();
}

/// A member polling in its own thread, recording every value it sees.
struct Member {
    stop: Arc<AtomicBool>,
    thread: std::thread::JoinHandle<usize>,
}

/// Which group protocol the members speak, and with which assignor.
#[derive(Clone, Copy)]
enum Protocol {
    /// JoinGroup/SyncGroup with a client-side assignor (`partition.assignment.strategy`).
    Classic(&'static str),
    /// KIP-848 ConsumerGroupHeartbeat with a server-side assignor (`group.remote.assignor`).
    Consumer(&'static str),
}

fn member(bootstrap: &str, seen: Arc<Mutex<Vec<String>>>, protocol: Protocol) -> Member {
    static_member(bootstrap, seen, protocol, None)
}

fn static_member(
    bootstrap: &str,
    seen: Arc<Mutex<Vec<String>>>,
    protocol: Protocol,
    instance: Option<&str>,
) -> Member {
    let mut config = ClientConfig::new();
    if let Some(instance) = instance {
        config.set("group.instance.id", instance);
    }
    match protocol {
        Protocol::Classic(strategy) => config
            .set("session.timeout.ms", "6000")
            .set("heartbeat.interval.ms", "200")
            .set("partition.assignment.strategy", strategy),
        Protocol::Consumer(assignor) => config
            .set("group.protocol", "consumer")
            .set("group.remote.assignor", assignor),
    };
    let consumer: BaseConsumer = config
        .set("bootstrap.servers", bootstrap)
        .set("group.id", "rides-group")
        .set("auto.offset.reset", "earliest")
        .set("enable.auto.commit", "true")
        .set("auto.commit.interval.ms", "100")
        .create()
        .unwrap();
    consumer.subscribe(&["rides6"]).unwrap();
    let stop = Arc::new(AtomicBool::new(false));
    let flag = stop.clone();
    let thread = std::thread::spawn(move || {
        let mut mine = 0;
        while !flag.load(Ordering::SeqCst) {
            if let Some(Ok(m)) = consumer.poll(Duration::from_millis(50)) {
                seen.lock()
                    .unwrap()
                    .push(String::from_utf8(m.payload().unwrap().to_vec()).unwrap());
                mine += 1;
            }
        }
        drop(consumer); // closing leaves the group (committing first)
        mine
    });
    Member { stop, thread }
}

impl Member {
    fn leave(self) -> usize {
        self.stop.store(true, Ordering::SeqCst);
        self.thread.join().unwrap()
    }
}

fn wait_for_all(seen: &Mutex<Vec<String>>, count: usize) -> HashSet<String> {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let unique: HashSet<String> = seen.lock().unwrap().iter().cloned().collect();
        if unique.len() >= count || Instant::now() > deadline {
            return unique;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// Waits until the group is Stable with `members` members that all hold partitions.
fn wait_stable(broker: &Broker, members: usize, protocol: Protocol) {
    let coordinator = &broker.context().coordinator;
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let (ready, state) = match protocol {
            Protocol::Classic(_) => {
                let group = coordinator.membership.describe("rides-group");
                let ready = group.as_ref().is_some_and(|group| {
                    group.state == brook_broker::coordinator::membership::GroupState::Stable
                        && group.members.len() == members
                        // at least one partition in each ConsumerProtocolAssignment
                        && group.members.iter().all(|m| m.assignment.len() >= 26)
                });
                (ready, format!("{:?}", group.map(|g| g.state)))
            }
            Protocol::Consumer(_) => {
                let group = coordinator.consumer_groups.describe("rides-group");
                let ready = group.as_ref().is_some_and(|group| {
                    group.state
                        == brook_broker::coordinator::consumer_groups::ConsumerGroupState::Stable
                        && group.members.len() == members
                        && group.members.iter().all(|m| !m.assignment.is_empty())
                });
                (ready, format!("{:?}", group.map(|g| g.state)))
            }
        };
        if ready {
            return;
        }
        assert!(Instant::now() < deadline, "group never settled: {state}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn run_group(protocol: Protocol) {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let tmp = tempfile::tempdir().unwrap();
    let port = free_port();
    let broker = runtime.block_on(start_with_rides6(tmp.path(), port));
    let bootstrap = broker.local_addr().to_string();

    let seen = Arc::new(Mutex::new(Vec::new()));
    let members: Vec<Member> = (0..3)
        .map(|_| member(&bootstrap, seen.clone(), protocol))
        .collect();
    wait_stable(&broker, 3, protocol);
    produce(&bootstrap, 0, 3000);
    let unique = wait_for_all(&seen, 3000);
    assert_eq!(unique.len(), 3000, "every record reached the group");

    // One member leaves, another joins, while the producer keeps going.
    let mut members = members.into_iter();
    let leaving = members.next().unwrap();
    let got = leaving.leave();
    let joining = member(&bootstrap, seen.clone(), protocol);
    wait_stable(&broker, 3, protocol);
    produce(&bootstrap, 3000, 6000);
    let unique = wait_for_all(&seen, 6000);
    assert_eq!(unique.len(), 6000, "no record lost across the rebalance");
    assert!(got > 0, "the leaving member had partitions");
    let rest: Vec<usize> = members
        .chain(std::iter::once(joining))
        .map(Member::leave)
        .collect();
    assert!(
        rest.iter().all(|n| *n > 0),
        "every member got a share: {rest:?}"
    );

    // Duplicates only within the uncommitted window: after a restart the group resumes from its
    // committed offsets, so nothing already committed comes back.
    let total_before = seen.lock().unwrap().len();
    let generation = broker
        .context()
        .coordinator
        .membership
        .generation("rides-group");
    runtime.block_on(broker.shutdown());
    let broker = runtime.block_on(start(tmp.path(), port));
    if let Protocol::Classic(_) = protocol {
        assert_eq!(
            broker
                .context()
                .coordinator
                .membership
                .generation("rides-group"),
            generation,
            "the group's generation was stored in __consumer_offsets and restored"
        );
    }
    let after = Arc::new(Mutex::new(Vec::new()));
    let resumed = member(&bootstrap, after.clone(), protocol);
    produce(&bootstrap, 6000, 6100);
    let fresh = wait_for_all(&after, 100);
    resumed.leave();
    assert!(fresh.contains("ride-6099"));
    assert!(
        !fresh
            .iter()
            .any(|v| v.trim_start_matches("ride-").parse::<usize>().unwrap() < 5000),
        "old records redelivered after restart: {} of them",
        fresh.len()
    );
    assert!(total_before >= 6000);
    runtime.block_on(broker.shutdown());
}

#[test]
fn eager_range_assignor_group() {
    run_group(Protocol::Classic("range"));
}

#[test]
fn cooperative_sticky_assignor_group() {
    run_group(Protocol::Classic("cooperative-sticky"));
}

#[test]
fn consumer_protocol_group_with_the_uniform_assignor() {
    run_group(Protocol::Consumer("uniform"));
}

#[test]
fn consumer_protocol_group_with_the_range_assignor() {
    run_group(Protocol::Consumer("range"));
}

#[test]
fn a_static_member_restarting_within_its_session_rejoins_without_a_rebalance() {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let tmp = tempfile::tempdir().unwrap();
    let broker = runtime.block_on(start_with_rides6(tmp.path(), 0));
    let bootstrap = broker.local_addr().to_string();
    let seen = Arc::new(Mutex::new(Vec::new()));
    let a = static_member(
        &bootstrap,
        seen.clone(),
        Protocol::Classic("range"),
        Some("member-a"),
    );
    let b = static_member(
        &bootstrap,
        seen.clone(),
        Protocol::Classic("range"),
        Some("member-b"),
    );
    wait_stable(&broker, 2, Protocol::Classic("range"));
    let membership = &broker.context().coordinator.membership;
    let generation = membership.generation("rides-group").unwrap();

    // Static members leave no group on close; the restart takes over the old place.
    a.leave();
    let a = static_member(
        &bootstrap,
        seen.clone(),
        Protocol::Classic("range"),
        Some("member-a"),
    );
    produce(&bootstrap, 0, 600);
    let unique = wait_for_all(&seen, 600);
    assert_eq!(unique.len(), 600);
    wait_stable(&broker, 2, Protocol::Classic("range"));
    assert_eq!(
        membership.generation("rides-group"),
        Some(generation),
        "no rebalance happened"
    );
    a.leave();
    b.leave();
    runtime.block_on(broker.shutdown());
}

#[test]
fn members_carry_on_across_a_broker_restart_without_a_rebalance() {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let tmp = tempfile::tempdir().unwrap();
    let port = free_port();
    let broker = runtime.block_on(start_with_rides6(tmp.path(), port));
    let bootstrap = broker.local_addr().to_string();
    let seen = Arc::new(Mutex::new(Vec::new()));
    let protocol = Protocol::Classic("range");
    let members = [
        member(&bootstrap, seen.clone(), protocol),
        member(&bootstrap, seen.clone(), protocol),
    ];
    wait_stable(&broker, 2, protocol);
    let membership = |broker: &Broker| {
        let coordinator = &broker.context().coordinator;
        let group = coordinator.membership.describe("rides-group").unwrap();
        let ids: Vec<String> = group.members.iter().map(|m| m.member_id.clone()).collect();
        (coordinator.membership.generation("rides-group"), ids)
    };
    let before = membership(&broker);

    runtime.block_on(broker.shutdown());
    let broker = runtime.block_on(start(tmp.path(), port));
    // The group came back from __consumer_offsets with its members and assignments.
    assert_eq!(membership(&broker), before);
    produce(&bootstrap, 0, 600);
    let unique = wait_for_all(&seen, 600);
    assert_eq!(unique.len(), 600, "the members consumed after the restart");
    wait_stable(&broker, 2, protocol);
    assert_eq!(
        membership(&broker),
        before,
        "same generation and member ids: no rebalance"
    );
    for m in members {
        m.leave();
    }
    runtime.block_on(broker.shutdown());
}

#[test]
fn offset_delete_refuses_topics_the_members_subscribe_to() {
    use brook_broker::coordinator::records::OffsetCommitValue;
    use kafka_protocol::messages::offset_delete_request::{
        OffsetDeleteRequestPartition, OffsetDeleteRequestTopic,
    };
    use kafka_protocol::messages::{GroupId, OffsetDeleteRequest, TopicName};
    use kafka_protocol::protocol::StrBytes;

    let runtime = tokio::runtime::Runtime::new().unwrap();
    let tmp = tempfile::tempdir().unwrap();
    let broker = runtime.block_on(start_with_rides6(tmp.path(), 0));
    let context = broker.context();
    context
        .topics
        .create("other", 1, Default::default(), false)
        .unwrap();
    let old = OffsetCommitValue {
        offset: 3,
        leader_epoch: -1,
        metadata: String::new(),
        commit_timestamp: 1,
    };
    context
        .coordinator
        .commit(
            "rides-group",
            vec![("other".into(), 0, old.clone()), ("rides6".into(), 0, old)],
        )
        .unwrap();
    let member = member(
        &broker.local_addr().to_string(),
        Arc::new(Mutex::new(Vec::new())),
        Protocol::Classic("range"),
    );
    wait_stable(&broker, 1, Protocol::Classic("range"));

    let topic = |name: &'static str| {
        OffsetDeleteRequestTopic::default()
            .with_name(TopicName(StrBytes::from_static_str(name)))
            .with_partitions(vec![
                OffsetDeleteRequestPartition::default().with_partition_index(0),
            ])
    };
    let request = OffsetDeleteRequest::default()
        .with_group_id(GroupId(StrBytes::from_static_str("rides-group")))
        .with_topics(vec![topic("rides6"), topic("other")]);
    let response = brook_broker::api::delete_groups::offset_delete(context, request);
    assert_eq!(response.error_code, 0);
    assert_eq!(
        response.topics[0].partitions[0].error_code, 86,
        "GROUP_SUBSCRIBED_TO_TOPIC"
    );
    assert_eq!(response.topics[1].partitions[0].error_code, 0);
    let committed = context.coordinator.committed("rides-group");
    assert!(committed.contains_key(&("rides6".to_string(), 0)));
    assert!(!committed.contains_key(&("other".to_string(), 0)));
    member.leave();
    runtime.block_on(broker.shutdown());
}
