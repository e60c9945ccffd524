// The Java client's producer (kafka-clients), idempotent or transactional, for bench/run:
// sends RECORDS records of SIZE bytes to TOPIC as fast as it can, with acks=all, committing
// every TXN_SIZE records when transactional, and prints one JSON line with the throughput.
// Usage: java ProducerBench BOOTSTRAP TOPIC RECORDS SIZE idempotent|transactional [TXN_SIZE]
import java.util.Properties;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArraySerializer;

public class ProducerBench {
    public static void main(String[] args) throws Exception {
        String bootstrap = args[0], topic = args[1];
        long records = Long.parseLong(args[2]);
        int size = Integer.parseInt(args[3]);
        boolean transactional = args[4].equals("transactional");
        long txnSize = args.length > 5 ? Long.parseLong(args[5]) : 1000;
        Properties p = new Properties();
        p.put("bootstrap.servers", bootstrap);
        p.put("key.serializer", ByteArraySerializer.class.getName());
        p.put("value.serializer", ByteArraySerializer.class.getName());
        p.put("acks", "all");
        p.put("enable.idempotence", "true");
        p.put("batch.size", "1048576");
        p.put("linger.ms", "5");
        p.put("buffer.memory", "268435456");
        p.put("max.request.size", "10485760");
        if (transactional) p.put("transactional.id", "bench-" + ProcessHandle.current().pid());
        byte[] value = new byte[size];
        try (KafkaProducer<byte[], byte[]> producer = new KafkaProducer<>(p)) {
            if (transactional) producer.initTransactions();
            // Warm the connection and metadata before the clock starts.
            producer.partitionsFor(topic);
            long started = System.nanoTime();
            if (transactional) producer.beginTransaction();
            for (long i = 0; i < records; i++) {
                producer.send(new ProducerRecord<>(topic, value));
                if (transactional && (i + 1) % txnSize == 0) {
                    producer.commitTransaction();
                    if (i + 1 < records) producer.beginTransaction();
                }
            }
            if (transactional && records % txnSize != 0) producer.commitTransaction();
            producer.flush();
            double seconds = (System.nanoTime() - started) / 1e9;
            double bytes = (double) records * size;
            System.out.printf("{\"mode\": \"%s\", \"records\": %d, \"bytes\": %.0f, \"seconds\": %.4f, "
                + "\"records_per_sec\": %.1f, \"mb_per_sec\": %.2f, \"transaction_size\": %d}%n",
                transactional ? "java-transactional" : "java-idempotent", records, bytes, seconds,
                records / seconds, bytes / seconds / 1e6, transactional ? txnSize : 0);
        }
    }
}
