//! Topic metadata survives a restart: the metadata log is replayed into the same topics, ids,
//! partition counts, overrides and dynamic broker defaults.

use std::collections::BTreeMap;

use brook_broker::{Broker, BrokerConfig};

async fn start(dir: &std::path::Path) -> Broker {
    Broker::start(BrokerConfig {
        listen: "127.0.0.1:0".parse().unwrap(),
        data_dir: dir.to_path_buf(),
        ..BrokerConfig::default()
    })
    .await
    .unwrap()
}

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
