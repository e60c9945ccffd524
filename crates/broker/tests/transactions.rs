//! Transactions with librdkafka (the `rdkafka` crate): a transactional producer committing and
//! aborting, read_committed and read_uncommitted consumers, fencing by a second producer with
//! the same transactional id, transactional offset commits (`send_offsets_to_transaction`)
//! visible only on commit, and a transaction left open across a broker restart that the
//! coordinator aborts when it times out.

mod common;

use std::collections::HashMap;
use std::time::Duration;

use common::kafka::{create_topic, read_to_end};

use brook_broker::{Broker, BrokerConfig};
use rdkafka::config::ClientConfig;
use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::error::KafkaError;
use rdkafka::producer::{BaseRecord, DefaultProducerContext, Producer, ThreadedProducer};
use rdkafka::{Offset, TopicPartitionList};

const TIMEOUT: Duration = Duration::from_secs(30);

fn producer(addr: &str, transactional_id: &str) -> ThreadedProducer<DefaultProducerContext> {
    ClientConfig::new()
        .set("bootstrap.servers", addr)
        .set("transactional.id", transactional_id)
        .set("transaction.timeout.ms", "60000")
        .set("linger.ms", "5")
        .create()
        .expect("producer")
}

#[tokio::test(flavor = "multi_thread")]
async fn committed_and_aborted_transactions_alternate() {
    let dir = tempfile::tempdir().unwrap();
    let broker = common::start(dir.path()).await;
    let addr = broker.local_addr().to_string();
    create_topic(&addr, "txn-rides", 3).await;

    let addr2 = addr.clone();
    let expected = tokio::task::spawn_blocking(move || {
        let producer = producer(&addr2, "alternating");
        producer.init_transactions(TIMEOUT).unwrap();
        let mut committed: HashMap<i32, Vec<String>> = HashMap::new();
        for txn in 0..200 {
            producer.begin_transaction().unwrap();
            for i in 0..100 {
                let partition = i % 3;
                let value = format!("t{txn}-r{i}");
                producer
                    .send(
                        BaseRecord::to("txn-rides")
                            .partition(partition)
                            .key("k")
                            .payload(&value),
                    )
                    .unwrap();
                if txn % 2 == 0 {
                    committed.entry(partition).or_default().push(value);
                }
            }
            if txn % 2 == 0 {
                producer.commit_transaction(TIMEOUT).unwrap();
            } else {
                // Delivered first, so that the aborted records are in the log (an abort purges
                // what is still queued).
                producer.flush(TIMEOUT).unwrap();
                producer.abort_transaction(TIMEOUT).unwrap();
            }
        }
        committed
    })
    .await
    .unwrap();

    let addr2 = addr.clone();
    let (committed_view, uncommitted_view) = tokio::task::spawn_blocking(move || {
        (
            read_to_end(&addr2, "txn-rides", 3, "read_committed"),
            read_to_end(&addr2, "txn-rides", 3, "read_uncommitted"),
        )
    })
    .await
    .unwrap();
    let mut want = Vec::new();
    for p in 0..3 {
        for v in &expected[&p] {
            want.push((p, v.clone()));
        }
    }
    assert_eq!(committed_view.len(), 100 * 100);
    assert_eq!(
        committed_view, want,
        "read_committed sees exactly the committed records, in order"
    );
    assert_eq!(uncommitted_view.len(), 200 * 100);
    broker.shutdown().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_second_producer_fences_the_first() {
    let dir = tempfile::tempdir().unwrap();
    let broker = common::start(dir.path()).await;
    let addr = broker.local_addr().to_string();
    create_topic(&addr, "fenced", 1).await;
    let addr2 = addr.clone();
    let (send_error, commit_error) = tokio::task::spawn_blocking(move || {
        let first = producer(&addr2, "shared-id");
        first.init_transactions(TIMEOUT).unwrap();
        first.begin_transaction().unwrap();
        first
            .send(BaseRecord::to("fenced").key("a").payload("from-first"))
            .unwrap();
        first.flush(TIMEOUT).unwrap();

        // The second producer's init aborts the first one's transaction and bumps the epoch.
        let second = producer(&addr2, "shared-id");
        second.init_transactions(TIMEOUT).unwrap();
        second.begin_transaction().unwrap();
        second
            .send(BaseRecord::to("fenced").key("b").payload("from-second"))
            .unwrap();
        second.commit_transaction(TIMEOUT).unwrap();

        let _ = first.send(BaseRecord::to("fenced").key("a").payload("late"));
        let send_error = first.flush(TIMEOUT).err();
        let commit_error = first.commit_transaction(TIMEOUT).err();
        (send_error, commit_error)
    })
    .await
    .unwrap();
    let commit_error = commit_error.expect("the fenced producer cannot commit");
    let text = format!("{send_error:?} {commit_error:?}");
    assert!(
        text.contains("fenced") || text.contains("Fenced") || text.contains("epoch"),
        "{text}"
    );
    if let KafkaError::Transaction(e) = &commit_error {
        assert!(e.is_fatal(), "fencing is fatal: {e:?}");
    }
    let addr2 = addr.clone();
    let seen =
        tokio::task::spawn_blocking(move || read_to_end(&addr2, "fenced", 1, "read_committed"))
            .await
            .unwrap();
    assert_eq!(seen, vec![(0, "from-second".to_string())]);
    broker.shutdown().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn offsets_sent_to_a_transaction_appear_on_commit_only() {
    let dir = tempfile::tempdir().unwrap();
    let broker = common::start(dir.path()).await;
    let addr = broker.local_addr().to_string();
    create_topic(&addr, "input", 1).await;
    let addr2 = addr.clone();
    tokio::task::spawn_blocking(move || {
        let group: BaseConsumer = ClientConfig::new()
            .set("bootstrap.servers", &addr2)
            .set("group.id", "copier")
            .set("isolation.level", "read_committed")
            .set("enable.auto.commit", "false")
            .create()
            .unwrap();
        let producer = producer(&addr2, "copier-1");
        producer.init_transactions(TIMEOUT).unwrap();
        let committed = |group: &BaseConsumer| {
            let mut tpl = TopicPartitionList::new();
            tpl.add_partition("input", 0);
            group
                .committed_offsets(tpl, TIMEOUT)
                .unwrap()
                .find_partition("input", 0)
                .unwrap()
                .offset()
        };
        let metadata = group.group_metadata().expect("group metadata");
        let offsets = |n: i64| {
            let mut tpl = TopicPartitionList::new();
            tpl.add_partition_offset("input", 0, Offset::Offset(n))
                .unwrap();
            tpl
        };
        // Aborted: the offset never appears.
        producer.begin_transaction().unwrap();
        producer
            .send_offsets_to_transaction(&offsets(5), &metadata, TIMEOUT)
            .unwrap();
        producer.abort_transaction(TIMEOUT).unwrap();
        assert_eq!(committed(&group), Offset::Invalid);
        // Committed: it appears.
        producer.begin_transaction().unwrap();
        producer
            .send_offsets_to_transaction(&offsets(7), &metadata, TIMEOUT)
            .unwrap();
        producer.commit_transaction(TIMEOUT).unwrap();
        assert_eq!(committed(&group), Offset::Offset(7));
    })
    .await
    .unwrap();
    broker.shutdown().await;
    // Loading the offsets topic replays the markers: 7 survives a restart.
    let broker = common::start(dir.path()).await;
    let addr = broker.local_addr().to_string();
    tokio::task::spawn_blocking(move || {
        let group: BaseConsumer = ClientConfig::new()
            .set("bootstrap.servers", &addr)
            .set("group.id", "copier")
            .create()
            .unwrap();
        let mut tpl = TopicPartitionList::new();
        tpl.add_partition("input", 0);
        let committed = group.committed_offsets(tpl, TIMEOUT).unwrap();
        assert_eq!(
            committed.find_partition("input", 0).unwrap().offset(),
            Offset::Offset(7)
        );
    })
    .await
    .unwrap();
    broker.shutdown().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn an_open_transaction_survives_a_restart_and_times_out() {
    let dir = tempfile::tempdir().unwrap();
    let config = |dir: &std::path::Path| {
        let mut config: BrokerConfig = common::test_config(dir);
        config.transactions.abort_interval = Duration::from_millis(200);
        config
    };
    let broker = Broker::start(config(dir.path())).await.unwrap();
    let addr = broker.local_addr().to_string();
    create_topic(&addr, "stuck", 1).await;
    let addr2 = addr.clone();
    tokio::task::spawn_blocking(move || {
        let producer: ThreadedProducer<DefaultProducerContext> = ClientConfig::new()
            .set("bootstrap.servers", &addr2)
            .set("transactional.id", "left-open")
            .set("transaction.timeout.ms", "3000")
            .create()
            .unwrap();
        producer.init_transactions(TIMEOUT).unwrap();
        producer.begin_transaction().unwrap();
        producer
            .send(BaseRecord::to("stuck").key("k").payload("never committed"))
            .unwrap();
        producer.flush(TIMEOUT).unwrap();
        // The producer goes away without ending its transaction.
        std::mem::forget(producer);
    })
    .await
    .unwrap();
    broker.shutdown().await;

    let broker = Broker::start(config(dir.path())).await.unwrap();
    let context = broker.context();
    let open = context.transactions.describe("left-open").unwrap();
    assert_eq!(
        open.state,
        brook_broker::transactions::records::TransactionState::Ongoing
    );
    let log = &context.topics.get("stuck").unwrap().partitions[0].log;
    assert_eq!(
        log.last_stable_offset(),
        0,
        "the open transaction holds the LSO"
    );
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    while context.transactions.describe("left-open").unwrap().state
        != brook_broker::transactions::records::TransactionState::CompleteAbort
    {
        assert!(std::time::Instant::now() < deadline, "never aborted");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(log.last_stable_offset(), log.high_watermark());
    let aborted = context.transactions.describe("left-open").unwrap();
    assert_eq!(aborted.producer_epoch, open.producer_epoch + 1, "fenced");
    let addr = broker.local_addr().to_string();
    let seen =
        tokio::task::spawn_blocking(move || read_to_end(&addr, "stuck", 1, "read_committed"))
            .await
            .unwrap();
    assert!(seen.is_empty(), "{seen:?}");
    broker.shutdown().await;
}
