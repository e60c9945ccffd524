//! The broker configs DescribeConfigs lists for a broker resource, as a Kafka 4.x broker in
//! KRaft combined mode lists them: the ones Brook reads (with the value it runs with, as a
//! static broker config when it differs from Kafka's default) and the rest of Kafka's broker
//! configs at Kafka's defaults. Topic-config defaults (`log.retention.ms`, …) are added by
//! `api/describe_configs.rs` from the topic configs. All are read-only except those defaults,
//! as Brook cannot change its static settings at runtime.

use brook_log::config::ConfigKind;

use crate::config::BrokerConfig;

/// One broker config as DescribeConfigs reports it.
#[derive(Debug, Clone, PartialEq)]
pub struct BrokerConfigEntry {
    /// Kafka's name.
    pub name: &'static str,
    /// The value (`None`: unset, as Kafka reports null defaults).
    pub value: Option<String>,
    /// STATIC_BROKER_CONFIG (4) or DEFAULT_CONFIG (5).
    pub source: i8,
    /// Kafka's type.
    pub kind: ConfigKind,
}

const STATIC_BROKER_CONFIG: i8 = 4;
const DEFAULT_CONFIG: i8 = 5;

/// Kafka 4.x broker configs that Brook does not read, at Kafka's defaults (internal ones, such
/// as `unstable.api.versions.enable`, are not listed, as Kafka does not list them).
const KAFKA_DEFAULTS: &[(&str, Option<&str>, ConfigKind)] = &[
    (
        "auto.leader.rebalance.enable",
        Some("true"),
        ConfigKind::Boolean,
    ),
    ("background.threads", Some("10"), ConfigKind::Int),
    ("broker.rack", None, ConfigKind::String),
    (
        "controlled.shutdown.enable",
        Some("true"),
        ConfigKind::Boolean,
    ),
    ("controller.listener.names", None, ConfigKind::String),
    (
        "controller.quorum.bootstrap.servers",
        Some(""),
        ConfigKind::List,
    ),
    ("controller.quorum.voters", Some(""), ConfigKind::List),
    ("delete.topic.enable", Some("true"), ConfigKind::Boolean),
    ("fetch.max.bytes", Some("57671680"), ConfigKind::Int),
    (
        "group.consumer.max.heartbeat.interval.ms",
        Some("15000"),
        ConfigKind::Int,
    ),
    (
        "group.consumer.max.session.timeout.ms",
        Some("60000"),
        ConfigKind::Int,
    ),
    (
        "group.consumer.max.size",
        Some("2147483647"),
        ConfigKind::Int,
    ),
    (
        "group.consumer.min.heartbeat.interval.ms",
        Some("5000"),
        ConfigKind::Int,
    ),
    (
        "group.consumer.min.session.timeout.ms",
        Some("45000"),
        ConfigKind::Int,
    ),
    (
        "group.coordinator.rebalance.protocols",
        Some("classic,consumer"),
        ConfigKind::List,
    ),
    ("group.max.size", Some("2147483647"), ConfigKind::Int),
    ("inter.broker.listener.name", None, ConfigKind::String),
    (
        "leader.imbalance.check.interval.seconds",
        Some("300"),
        ConfigKind::Long,
    ),
    (
        "listener.security.protocol.map",
        Some("SASL_SSL:SASL_SSL,PLAINTEXT:PLAINTEXT,SSL:SSL,SASL_PLAINTEXT:SASL_PLAINTEXT"),
        ConfigKind::String,
    ),
    (
        "log.cleaner.dedupe.buffer.size",
        Some("134217728"),
        ConfigKind::Long,
    ),
    ("log.cleaner.enable", Some("true"), ConfigKind::Boolean),
    ("log.cleaner.threads", Some("1"), ConfigKind::Int),
    (
        "log.flush.offset.checkpoint.interval.ms",
        Some("60000"),
        ConfigKind::Int,
    ),
    ("max.connections", Some("2147483647"), ConfigKind::Int),
    (
        "max.connections.per.ip",
        Some("2147483647"),
        ConfigKind::Int,
    ),
    ("metadata.log.dir", None, ConfigKind::String),
    ("num.io.threads", Some("8"), ConfigKind::Int),
    ("num.network.threads", Some("3"), ConfigKind::Int),
    (
        "num.recovery.threads.per.data.dir",
        Some("2"),
        ConfigKind::Int,
    ),
    ("num.replica.fetchers", Some("1"), ConfigKind::Int),
    ("offset.metadata.max.bytes", Some("4096"), ConfigKind::Int),
    ("offsets.commit.timeout.ms", Some("5000"), ConfigKind::Int),
    ("offsets.load.buffer.size", Some("5242880"), ConfigKind::Int),
    (
        "offsets.retention.check.interval.ms",
        Some("600000"),
        ConfigKind::Long,
    ),
    (
        "offsets.topic.compression.codec",
        Some("0"),
        ConfigKind::Int,
    ),
    (
        "offsets.topic.replication.factor",
        Some("3"),
        ConfigKind::Short,
    ),
    (
        "offsets.topic.segment.bytes",
        Some("104857600"),
        ConfigKind::Int,
    ),
    ("queued.max.requests", Some("500"), ConfigKind::Int),
    (
        "remote.log.storage.system.enable",
        Some("false"),
        ConfigKind::Boolean,
    ),
    ("replica.fetch.max.bytes", Some("1048576"), ConfigKind::Int),
    ("replica.lag.time.max.ms", Some("30000"), ConfigKind::Long),
    ("request.timeout.ms", Some("30000"), ConfigKind::Int),
    ("sasl.enabled.mechanisms", Some("GSSAPI"), ConfigKind::List),
    (
        "security.inter.broker.protocol",
        Some("PLAINTEXT"),
        ConfigKind::String,
    ),
    (
        "socket.receive.buffer.bytes",
        Some("102400"),
        ConfigKind::Int,
    ),
    ("socket.send.buffer.bytes", Some("102400"), ConfigKind::Int),
    ("transaction.state.log.min.isr", Some("2"), ConfigKind::Int),
    (
        "transaction.state.log.replication.factor",
        Some("3"),
        ConfigKind::Short,
    ),
    (
        "transaction.state.log.segment.bytes",
        Some("104857600"),
        ConfigKind::Int,
    ),
    ("alter.config.policy.class.name", None, ConfigKind::Class),
    (
        "broker.heartbeat.interval.ms",
        Some("2000"),
        ConfigKind::Int,
    ),
    ("broker.session.timeout.ms", Some("9000"), ConfigKind::Int),
    ("connections.max.idle.ms", Some("600000"), ConfigKind::Long),
    ("connections.max.reauth.ms", Some("0"), ConfigKind::Long),
    (
        "controller.quorum.append.linger.ms",
        Some("25"),
        ConfigKind::Int,
    ),
    (
        "controller.quorum.election.backoff.max.ms",
        Some("1000"),
        ConfigKind::Int,
    ),
    (
        "controller.quorum.election.timeout.ms",
        Some("1000"),
        ConfigKind::Int,
    ),
    (
        "controller.quorum.fetch.timeout.ms",
        Some("2000"),
        ConfigKind::Int,
    ),
    (
        "controller.quorum.request.timeout.ms",
        Some("2000"),
        ConfigKind::Int,
    ),
    (
        "controller.quorum.retry.backoff.ms",
        Some("20"),
        ConfigKind::Int,
    ),
    ("create.topic.policy.class.name", None, ConfigKind::Class),
    (
        "delete.records.purgatory.purge.interval.requests",
        Some("1"),
        ConfigKind::Int,
    ),
    (
        "delegation.token.expiry.check.interval.ms",
        Some("3600000"),
        ConfigKind::Long,
    ),
    (
        "delegation.token.expiry.time.ms",
        Some("86400000"),
        ConfigKind::Long,
    ),
    (
        "delegation.token.max.lifetime.ms",
        Some("604800000"),
        ConfigKind::Long,
    ),
    (
        "fetch.purgatory.purge.interval.requests",
        Some("1000"),
        ConfigKind::Int,
    ),
    (
        "initial.broker.registration.timeout.ms",
        Some("60000"),
        ConfigKind::Int,
    ),
    (
        "leader.imbalance.per.broker.percentage",
        Some("10"),
        ConfigKind::Int,
    ),
    (
        "log.cleaner.io.buffer.load.factor",
        Some("0.9"),
        ConfigKind::Double,
    ),
    (
        "log.cleaner.io.buffer.size",
        Some("524288"),
        ConfigKind::Int,
    ),
    (
        "log.cleaner.io.max.bytes.per.second",
        Some("1.7976931348623157E308"),
        ConfigKind::Double,
    ),
    (
        "log.flush.start.offset.checkpoint.interval.ms",
        Some("60000"),
        ConfigKind::Int,
    ),
    ("log.retention.hours", Some("168"), ConfigKind::Int),
    ("log.retention.minutes", None, ConfigKind::Int),
    ("log.roll.hours", Some("168"), ConfigKind::Int),
    ("log.roll.jitter.hours", Some("0"), ConfigKind::Int),
    (
        "max.connection.creation.rate",
        Some("2147483647"),
        ConfigKind::Int,
    ),
    (
        "max.incremental.fetch.session.cache.slots",
        Some("1000"),
        ConfigKind::Int,
    ),
    (
        "metadata.log.segment.bytes",
        Some("1073741824"),
        ConfigKind::Int,
    ),
    (
        "metadata.log.segment.ms",
        Some("604800000"),
        ConfigKind::Long,
    ),
    (
        "metadata.max.idle.interval.ms",
        Some("500"),
        ConfigKind::Int,
    ),
    (
        "metadata.max.retention.bytes",
        Some("104857600"),
        ConfigKind::Long,
    ),
    (
        "metadata.max.retention.ms",
        Some("604800000"),
        ConfigKind::Long,
    ),
    (
        "metric.reporters",
        Some("org.apache.kafka.common.metrics.JmxReporter"),
        ConfigKind::List,
    ),
    ("metrics.num.samples", Some("2"), ConfigKind::Int),
    ("metrics.recording.level", Some("INFO"), ConfigKind::String),
    ("metrics.sample.window.ms", Some("30000"), ConfigKind::Long),
    ("num.replica.alter.log.dirs.threads", None, ConfigKind::Int),
    (
        "principal.builder.class",
        Some("org.apache.kafka.common.security.authenticator.DefaultKafkaPrincipalBuilder"),
        ConfigKind::Class,
    ),
    (
        "producer.id.expiration.check.interval.ms",
        Some("600000"),
        ConfigKind::Int,
    ),
    (
        "producer.id.expiration.ms",
        Some("86400000"),
        ConfigKind::Int,
    ),
    (
        "producer.purgatory.purge.interval.requests",
        Some("1000"),
        ConfigKind::Int,
    ),
    ("queued.max.request.bytes", Some("-1"), ConfigKind::Long),
    ("quota.window.num", Some("11"), ConfigKind::Int),
    ("quota.window.size.seconds", Some("1"), ConfigKind::Int),
    ("replica.fetch.backoff.ms", Some("1000"), ConfigKind::Int),
    ("replica.fetch.min.bytes", Some("1"), ConfigKind::Int),
    (
        "replica.fetch.response.max.bytes",
        Some("10485760"),
        ConfigKind::Int,
    ),
    ("replica.fetch.wait.max.ms", Some("500"), ConfigKind::Int),
    (
        "replica.high.watermark.checkpoint.interval.ms",
        Some("5000"),
        ConfigKind::Long,
    ),
    ("replica.selector.class", None, ConfigKind::String),
    (
        "replica.socket.receive.buffer.bytes",
        Some("65536"),
        ConfigKind::Int,
    ),
    ("replica.socket.timeout.ms", Some("30000"), ConfigKind::Int),
    ("replication.quota.window.num", Some("11"), ConfigKind::Int),
    (
        "replication.quota.window.size.seconds",
        Some("1"),
        ConfigKind::Int,
    ),
    (
        "sasl.mechanism.controller.protocol",
        Some("GSSAPI"),
        ConfigKind::String,
    ),
    (
        "sasl.mechanism.inter.broker.protocol",
        Some("GSSAPI"),
        ConfigKind::String,
    ),
    ("socket.listen.backlog.size", Some("50"), ConfigKind::Int),
    ("ssl.client.auth", Some("none"), ConfigKind::String),
    (
        "ssl.enabled.protocols",
        Some("TLSv1.2,TLSv1.3"),
        ConfigKind::List,
    ),
    (
        "ssl.endpoint.identification.algorithm",
        Some("https"),
        ConfigKind::String,
    ),
    ("ssl.keystore.type", Some("JKS"), ConfigKind::String),
    ("ssl.protocol", Some("TLSv1.3"), ConfigKind::String),
    ("ssl.truststore.type", Some("JKS"), ConfigKind::String),
    (
        "transaction.partition.verification.enable",
        Some("true"),
        ConfigKind::Boolean,
    ),
    ("authorizer.class.name", Some(""), ConfigKind::String),
    (
        "controlled.shutdown.max.retries",
        Some("3"),
        ConfigKind::Int,
    ),
    (
        "controlled.shutdown.retry.backoff.ms",
        Some("5000"),
        ConfigKind::Long,
    ),
    (
        "controller.socket.timeout.ms",
        Some("30000"),
        ConfigKind::Int,
    ),
    ("early.start.listeners", None, ConfigKind::String),
    (
        "socket.connection.setup.timeout.max.ms",
        Some("30000"),
        ConfigKind::Long,
    ),
    (
        "socket.connection.setup.timeout.ms",
        Some("10000"),
        ConfigKind::Long,
    ),
];

/// Every non-topic broker config, sorted by name.
pub fn static_configs(config: &BrokerConfig, listener: (String, u16)) -> Vec<BrokerConfigEntry> {
    let defaults = BrokerConfig::default();
    let entry = |name, value: String, is_default: bool, kind| BrokerConfigEntry {
        name,
        value: Some(value),
        source: if is_default {
            DEFAULT_CONFIG
        } else {
            STATIC_BROKER_CONFIG
        },
        kind,
    };
    let millis = |d: std::time::Duration| d.as_millis().to_string();
    let (host, port) = listener;
    let groups = &config.consumer_groups;
    let txns = &config.transactions;
    let mut out = vec![
        // What Brook runs with and always sets itself, as a KRaft node must.
        entry(
            "node.id",
            config.node_id.to_string(),
            false,
            ConfigKind::Int,
        ),
        entry(
            "broker.id",
            config.node_id.to_string(),
            false,
            ConfigKind::Int,
        ),
        entry(
            "process.roles",
            "broker,controller".to_string(),
            false,
            ConfigKind::List,
        ),
        // One node: internal topics have one replica whatever is asked; KIP-848's online
        // upgrade is not built (Kafka's answer with the policy disabled).
        entry(
            "default.replication.factor",
            "1".to_string(),
            true,
            ConfigKind::Int,
        ),
        entry(
            "group.consumer.migration.policy",
            "disabled".to_string(),
            false,
            ConfigKind::String,
        ),
        entry(
            "listeners",
            format!("PLAINTEXT://{}", config.listen),
            false,
            ConfigKind::String,
        ),
        entry(
            "advertised.listeners",
            format!("PLAINTEXT://{host}:{port}"),
            false,
            ConfigKind::String,
        ),
        entry(
            "log.dirs",
            config.data_dir.display().to_string(),
            false,
            ConfigKind::String,
        ),
        entry(
            "num.partitions",
            config.num_partitions.to_string(),
            config.num_partitions == defaults.num_partitions,
            ConfigKind::Int,
        ),
        entry(
            "auto.create.topics.enable",
            config.auto_create_topics.to_string(),
            config.auto_create_topics == defaults.auto_create_topics,
            ConfigKind::Boolean,
        ),
        entry(
            "socket.request.max.bytes",
            config.socket_request_max_bytes.to_string(),
            config.socket_request_max_bytes == defaults.socket_request_max_bytes,
            ConfigKind::Int,
        ),
        entry(
            "offsets.topic.num.partitions",
            config.offsets_topic_partitions.to_string(),
            config.offsets_topic_partitions == defaults.offsets_topic_partitions,
            ConfigKind::Int,
        ),
        entry(
            "offsets.retention.minutes",
            (config.offsets_retention.as_secs() / 60).to_string(),
            config.offsets_retention == defaults.offsets_retention,
            ConfigKind::Int,
        ),
        entry(
            "group.initial.rebalance.delay.ms",
            millis(config.group_initial_rebalance_delay),
            config.group_initial_rebalance_delay == defaults.group_initial_rebalance_delay,
            ConfigKind::Int,
        ),
        entry(
            "group.min.session.timeout.ms",
            millis(config.group_min_session_timeout),
            config.group_min_session_timeout == defaults.group_min_session_timeout,
            ConfigKind::Int,
        ),
        entry(
            "group.max.session.timeout.ms",
            millis(config.group_max_session_timeout),
            config.group_max_session_timeout == defaults.group_max_session_timeout,
            ConfigKind::Int,
        ),
        entry(
            "group.consumer.session.timeout.ms",
            millis(groups.session_timeout),
            groups.session_timeout == defaults.consumer_groups.session_timeout,
            ConfigKind::Int,
        ),
        entry(
            "group.consumer.heartbeat.interval.ms",
            millis(groups.heartbeat_interval),
            groups.heartbeat_interval == defaults.consumer_groups.heartbeat_interval,
            ConfigKind::Int,
        ),
        entry(
            "group.consumer.assignors",
            groups
                .assignors
                .iter()
                .map(|a| a.name())
                .collect::<Vec<_>>()
                .join(","),
            groups.assignors == defaults.consumer_groups.assignors,
            ConfigKind::List,
        ),
        entry(
            "log.retention.check.interval.ms",
            millis(config.retention_check_interval),
            config.retention_check_interval == defaults.retention_check_interval,
            ConfigKind::Long,
        ),
        entry(
            "log.cleaner.backoff.ms",
            millis(config.cleaner_backoff),
            config.cleaner_backoff == defaults.cleaner_backoff,
            ConfigKind::Long,
        ),
        entry(
            "transaction.state.log.num.partitions",
            txns.partitions.to_string(),
            txns.partitions == defaults.transactions.partitions,
            ConfigKind::Int,
        ),
        entry(
            "transaction.max.timeout.ms",
            txns.max_timeout_ms.to_string(),
            txns.max_timeout_ms == defaults.transactions.max_timeout_ms,
            ConfigKind::Int,
        ),
        entry(
            "transactional.id.expiration.ms",
            millis(txns.id_expiration),
            txns.id_expiration == defaults.transactions.id_expiration,
            ConfigKind::Int,
        ),
        entry(
            "transaction.abort.timed.out.transaction.cleanup.interval.ms",
            millis(txns.abort_interval),
            txns.abort_interval == defaults.transactions.abort_interval,
            ConfigKind::Int,
        ),
        entry(
            "transaction.remove.expired.transaction.cleanup.interval.ms",
            millis(txns.expiration_interval),
            txns.expiration_interval == defaults.transactions.expiration_interval,
            ConfigKind::Int,
        ),
        entry(
            "log.flush.scheduler.interval.ms",
            millis(config.flush_scheduler_interval),
            config.flush_scheduler_interval == defaults.flush_scheduler_interval,
            ConfigKind::Long,
        ),
    ];
    out.extend(
        KAFKA_DEFAULTS
            .iter()
            .map(|(name, value, kind)| BrokerConfigEntry {
                name,
                value: value.map(str::to_string),
                source: DEFAULT_CONFIG,
                kind: *kind,
            }),
    );
    out.sort_by_key(|e| e.name);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_unique_and_sorted_and_what_brook_sets_is_static() {
        let entries = static_configs(&BrokerConfig::default(), ("127.0.0.1".into(), 9092));
        for pair in entries.windows(2) {
            assert!(
                pair[0].name < pair[1].name,
                "{} twice or unsorted",
                pair[1].name
            );
        }
        let get = |name: &str| entries.iter().find(|e| e.name == name).unwrap().clone();
        assert_eq!(
            get("process.roles").value.as_deref(),
            Some("broker,controller")
        );
        assert_eq!(get("process.roles").source, STATIC_BROKER_CONFIG);
        assert_eq!(
            get("advertised.listeners").value.as_deref(),
            Some("PLAINTEXT://127.0.0.1:9092")
        );
        assert_eq!(get("num.partitions").source, DEFAULT_CONFIG);
        assert_eq!(get("broker.rack").value, None);
    }
}
