// The Java client (kafka-clients, as bundled in a PyPI wheel) against Brook: produce 1,000
// records with known timestamps, then consume them from the beginning, from the end (only what
// arrives later), from an offset committed by an assign-only consumer and picked up by a group
// member, and from a timestamp; an admin client describes the cluster and the topic; a
// transactional producer commits and aborts, with offsets sent to its transaction, checked by
// a read_committed consumer. Usage: java ConsumeModes BOOTSTRAP
import java.time.Duration;
import java.util.*;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.*;
import org.apache.kafka.clients.consumer.*;
import org.apache.kafka.clients.producer.*;
import org.apache.kafka.common.KafkaException;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;

public class ConsumeModes {
    static final int COUNT = 1000;
    static final int LATE = 10;

    static void check(String label, List<String> got, List<String> want) {
        if (!got.equals(want)) {
            throw new AssertionError(label + ": got " + got.size() + " records " + got.subList(0, Math.min(3, got.size()))
                + ", want " + want.size() + " " + want.subList(0, Math.min(3, want.size())));
        }
        System.out.println("java: " + label + ": " + got.size() + " records");
    }

    static List<String> values(int n, String prefix) {
        List<String> out = new ArrayList<>();
        for (int i = 0; i < n; i++) out.add(prefix + "-" + i);
        return out;
    }

    static List<String> take(Consumer<String, String> c, int n) {
        List<String> out = new ArrayList<>();
        long deadline = System.currentTimeMillis() + 20_000;
        while (out.size() < n && System.currentTimeMillis() < deadline) {
            for (ConsumerRecord<String, String> r : c.poll(Duration.ofMillis(200))) out.add(r.value());
        }
        // A poll may return more than asked for; the rest is not part of this check.
        return out.size() > n ? out.subList(0, n) : out;
    }

    static Properties consumerProps(String bootstrap, String group) {
        Properties p = new Properties();
        p.put("bootstrap.servers", bootstrap);
        p.put("key.deserializer", StringDeserializer.class.getName());
        p.put("value.deserializer", StringDeserializer.class.getName());
        p.put("enable.auto.commit", "false");
        p.put("auto.offset.reset", "earliest");
        if (group != null) p.put("group.id", group);
        return p;
    }

    public static void main(String[] args) throws Exception {
        String bootstrap = args[0];
        String topic = "java-modes-" + UUID.randomUUID().toString().substring(0, 8);
        String group = topic + "-group";
        long base = System.currentTimeMillis() - 3_600_000;
        TopicPartition tp = new TopicPartition(topic, 0);
        System.out.println("java kafka-clients " + org.apache.kafka.common.utils.AppInfoParser.getVersion());

        Properties admin = new Properties();
        admin.put("bootstrap.servers", bootstrap);
        try (Admin a = Admin.create(admin)) {
            a.createTopics(List.of(new NewTopic(topic, 1, (short) 1))).all().get(10, TimeUnit.SECONDS);
            DescribeClusterResult cluster = a.describeCluster();
            System.out.println("java: cluster " + cluster.clusterId().get() + " with " + cluster.nodes().get().size() + " node(s)");
            TopicDescription described = a.describeTopics(List.of(topic)).allTopicNames().get().get(topic);
            if (described.partitions().size() != 1) throw new AssertionError("one partition: " + described);
        }

        Properties pp = new Properties();
        pp.put("bootstrap.servers", bootstrap);
        pp.put("key.serializer", StringSerializer.class.getName());
        pp.put("value.serializer", StringSerializer.class.getName());
        pp.put("acks", "all");
        try (Producer<String, String> producer = new KafkaProducer<>(pp)) {
            List<String> vs = values(COUNT, "r");
            for (int i = 0; i < COUNT; i++) producer.send(new ProducerRecord<>(topic, 0, base + i, null, vs.get(i)));
            producer.flush();

            try (Consumer<String, String> c = new KafkaConsumer<>(consumerProps(bootstrap, null))) {
                c.assign(List.of(tp));
                c.seekToBeginning(List.of(tp));
                check("from the beginning", take(c, COUNT), vs);

                c.seekToEnd(List.of(tp));
                if (c.position(tp) != COUNT) throw new AssertionError("end position " + c.position(tp));
                for (String v : values(LATE, "late")) producer.send(new ProducerRecord<>(topic, 0, null, v));
                producer.flush();
                check("from the end", take(c, LATE), values(LATE, "late"));

                OffsetAndTimestamp found = c.offsetsForTimes(Map.of(tp, base + 600)).get(tp);
                if (found.offset() != 600 || found.timestamp() != base + 600) throw new AssertionError("offsetsForTimes " + found);
                c.seek(tp, found.offset());
                check("from a timestamp", take(c, 400), vs.subList(600, COUNT));
            }

            try (Consumer<String, String> committer = new KafkaConsumer<>(consumerProps(bootstrap, group))) {
                committer.assign(List.of(tp));
                committer.commitSync(Map.of(tp, new OffsetAndMetadata(500)));
                long committed = committer.committed(Set.of(tp)).get(tp).offset();
                if (committed != 500) throw new AssertionError("committed " + committed);
            }
            try (Consumer<String, String> member = new KafkaConsumer<>(consumerProps(bootstrap, group))) {
                member.subscribe(List.of(topic));
                List<String> want = new ArrayList<>(vs.subList(500, COUNT));
                want.addAll(values(LATE, "late"));
                check("from a committed offset", take(member, COUNT + LATE - 500), want);
            }
        }

        // A transactional producer: 10 committed, 10 aborted, then offsets sent to a transaction.
        Properties tx = new Properties();
        tx.putAll(pp);
        tx.put("transactional.id", topic + "-txn");
        String txTopic = topic + "-txn";
        String txGroup = topic + "-txn-group";
        try (Producer<String, String> producer = new KafkaProducer<>(tx)) {
            producer.initTransactions();
            producer.beginTransaction();
            for (String v : values(10, "committed")) producer.send(new ProducerRecord<>(txTopic, 0, "k", v));
            producer.commitTransaction();
            producer.beginTransaction();
            for (String v : values(10, "aborted")) producer.send(new ProducerRecord<>(txTopic, 0, "k", v));
            producer.flush();
            producer.abortTransaction();
            producer.beginTransaction();
            producer.sendOffsetsToTransaction(Map.of(new TopicPartition(txTopic, 0), new OffsetAndMetadata(10)),
                new ConsumerGroupMetadata(txGroup));
            producer.commitTransaction();
        }
        Properties rc = consumerProps(bootstrap, null);
        rc.put("isolation.level", "read_committed");
        try (Consumer<String, String> reader = new KafkaConsumer<>(rc)) {
            TopicPartition txTp = new TopicPartition(txTopic, 0);
            reader.assign(List.of(txTp));
            reader.seekToBeginning(List.of(txTp));
            check("read_committed after commit and abort", take(reader, 10), values(10, "committed"));
            if (!reader.poll(Duration.ofMillis(1000)).isEmpty()) throw new AssertionError("aborted records seen");
        }
        try (Consumer<String, String> member = new KafkaConsumer<>(consumerProps(bootstrap, txGroup))) {
            long committed = member.committed(Set.of(new TopicPartition(txTopic, 0))).get(new TopicPartition(txTopic, 0)).offset();
            if (committed != 10) throw new AssertionError("transactional offset " + committed);
            System.out.println("java: transactional offset " + committed);
        }
        System.out.println("java: all four ways in");
    }
}
