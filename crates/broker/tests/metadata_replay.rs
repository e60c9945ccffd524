//! Topic metadata survives a restart: the metadata log is replayed into the same topics, ids,
//! partition counts, overrides and dynamic broker defaults.

mod common;

use common::start;
use std::collections::BTreeMap;

fn map(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

#[tokio::test]
async fn topics_configs_and_broker_defaults_are_replayed() {
    let tmp = tempfile::tempdir().unwrap();
    let broker = start(tmp.path()).await;
    let topics = &broker.context().topics;
    let kept = topics
        .create("kept", 2, map(&[("retention.ms", "1000")]), false)
        .unwrap();
    topics.create("dropped", 1, BTreeMap::new(), false).unwrap();
    topics
        .alter_configs("kept", map(&[("cleanup.policy", "compact")]), false)
        .unwrap();
    topics.create_partitions("kept", 4, false).unwrap();
    topics
        .alter_broker_defaults(map(&[("log.segment.bytes", "2097152")]), false)
        .unwrap();
    topics.delete("dropped").unwrap();
    assert!(
        topics
            .alter_broker_defaults(map(&[("num.partitions", "3")]), false)
            .is_err(),
        "not dynamic"
    );
    let id = kept.id;
    broker.shutdown().await;

    let broker = start(tmp.path()).await;
    let topics = &broker.context().topics;
    let kept = topics.get("kept").expect("replayed");
    assert_eq!(kept.id, id);
    assert_eq!(kept.partitions.len(), 4);
    assert_eq!(kept.overrides, map(&[("cleanup.policy", "compact")]));
    assert!(topics.get("dropped").is_none());
    assert!(!tmp.path().join("dropped-0").exists());
    let config = kept.partitions[3].log.config();
    assert_eq!(config.segment_bytes, 2_097_152, "dynamic broker default");
    assert_eq!(config.cleanup_policy, brook_log::CleanupPolicy::Compact);
    assert_eq!(
        config.retention_ms,
        brook_log::LogConfig::default().retention_ms,
        "replaced override"
    );
    broker.shutdown().await;
}

#[tokio::test]
async fn committed_offsets_of_groups_without_members_expire() {
    use brook_broker::coordinator::records::OffsetCommitValue;
    let tmp = tempfile::tempdir().unwrap();
    let broker = start(tmp.path()).await;
    let coordinator = &broker.context().coordinator;
    let old = OffsetCommitValue {
        offset: 5,
        leader_epoch: -1,
        metadata: String::new(),
        commit_timestamp: 1_000,
    };
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64;
    let fresh = OffsetCommitValue {
        commit_timestamp: now,
        ..old.clone()
    };
    coordinator
        .commit("stale-group", vec![("t".into(), 0, old.clone())])
        .unwrap();
    coordinator
        .commit("live-offsets", vec![("t".into(), 0, fresh)])
        .unwrap();
    // KIP-211: a group that emptied a minute ago keeps even old offsets; one that emptied
    // long ago loses them.
    for (group, emptied_at) in [("just-emptied", now - 60_000), ("long-empty", 2_000)] {
        let stored = brook_broker::coordinator::records::GroupMetadataValue {
            protocol_type: "consumer".into(),
            generation: 4,
            current_state_timestamp: emptied_at,
            ..Default::default()
        };
        coordinator.membership.restore(group, stored);
        coordinator
            .commit(group, vec![("t".into(), 0, old.clone())])
            .unwrap();
    }
    assert_eq!(
        coordinator.expire_offsets(std::time::Duration::from_secs(3600)),
        2
    );
    assert!(coordinator.committed("stale-group").is_empty());
    assert!(coordinator.committed("long-empty").is_empty());
    assert_eq!(coordinator.committed("just-emptied").len(), 1);
    assert_eq!(coordinator.committed("live-offsets").len(), 1);
    broker.shutdown().await;
    // The expiry is durable: tombstones in __consumer_offsets.
    let broker = start(tmp.path()).await;
    assert!(
        broker
            .context()
            .coordinator
            .committed("stale-group")
            .is_empty()
    );
    assert_eq!(
        broker.context().coordinator.committed("live-offsets").len(),
        1
    );
    broker.shutdown().await;
}
