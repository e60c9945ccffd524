//! The course's rides through Brook SQL, as JSON, as DELIMITED and as AVRO (columns from
//! the schema registry): rides per zone and hour
//! (a windowed aggregation, compared with a reference computed here), a pull query on one
//! zone's windows, a stream–table join with a zone table and a stream–stream join WITHIN 1
//! HOUR.

mod common;

use std::collections::BTreeMap;
use std::time::Duration;

use brook_registry::client::RegistryClient;
use brook_registry::format::SchemaType;
use common::{Stack, eventually};
use rdkafka::ClientConfig;
use rdkafka::Message;
use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::producer::{BaseProducer, BaseRecord, Producer};
use serde_json::json;

const HOUR: i64 = 3_600_000;

struct Ride {
    line: String,
    fields: Vec<String>,
}

impl Ride {
    fn get(&self, header: &[String], name: &str) -> String {
        self.fields[header.iter().position(|h| h == name).unwrap()].clone()
    }
}

fn rides() -> (Vec<String>, Vec<Ride>) {
    let text = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../tests/data/rides.csv"
    ))
    .unwrap();
    let mut lines = text.lines();
    let header: Vec<String> = lines
        .next()
        .unwrap()
        .split(',')
        .map(str::to_string)
        .collect();
    let rides = lines
        .filter(|l| !l.is_empty())
        .map(|l| Ride {
            line: l.to_string(),
            fields: l.split(',').map(str::to_string).collect(),
        })
        .collect();
    (header, rides)
}

fn millis(text: &str) -> i64 {
    brook_sql::time::parse_millis(text, "yyyy-MM-dd HH:mm:ss", None).unwrap()
}

fn produce(bootstrap: &str, topic: &str, records: impl Iterator<Item = (String, String)>) {
    produce_bytes(bootstrap, topic, records.map(|(k, v)| (k, v.into_bytes())));
}

fn produce_bytes(
    bootstrap: &str,
    topic: &str,
    records: impl IntoIterator<Item = (String, Vec<u8>)>,
) {
    let producer: BaseProducer = ClientConfig::new()
        .set("bootstrap.servers", bootstrap)
        .set("linger.ms", "5")
        .create()
        .unwrap();
    for (key, value) in records {
        loop {
            match producer.send(BaseRecord::to(topic).key(&key).payload(&value)) {
                Ok(()) => break,
                Err((_, _)) => producer.poll(Duration::from_millis(10)),
            };
        }
        producer.poll(Duration::ZERO);
    }
    producer.flush(Duration::from_secs(30)).unwrap();
}

/// The latest value per key of a topic, read until `done` holds.
fn read_latest(
    bootstrap: &str,
    topic: &str,
    done: impl Fn(&BTreeMap<Vec<u8>, Vec<u8>>) -> bool,
) -> BTreeMap<Vec<u8>, Vec<u8>> {
    let consumer: BaseConsumer = ClientConfig::new()
        .set("bootstrap.servers", bootstrap)
        .set("group.id", format!("reader-{topic}-{}", std::process::id()))
        .set("auto.offset.reset", "earliest")
        .create()
        .unwrap();
    consumer.subscribe(&[topic]).unwrap();
    let mut latest = BTreeMap::new();
    let deadline = std::time::Instant::now() + Duration::from_secs(120);
    while !done(&latest) {
        assert!(
            std::time::Instant::now() < deadline,
            "timed out reading {topic}: {} keys",
            latest.len()
        );
        if let Some(Ok(m)) = consumer.poll(Duration::from_millis(100)) {
            latest.insert(
                m.key().unwrap_or_default().to_vec(),
                m.payload().unwrap_or_default().to_vec(),
            );
        }
    }
    latest
}

/// (zone, window start) → (rides, total_amount) over the rides.
fn reference(header: &[String], rides: &[Ride]) -> BTreeMap<(i32, i64), (i64, f64)> {
    let mut out: BTreeMap<(i32, i64), (i64, f64)> = BTreeMap::new();
    for r in rides {
        let zone: i32 = r.get(header, "PULocationID").parse().unwrap();
        let start = millis(&r.get(header, "tpep_pickup_datetime")).div_euclid(HOUR) * HOUR;
        let e = out.entry((zone, start)).or_default();
        e.0 += 1;
        e.1 += r.get(header, "total_amount").parse::<f64>().unwrap();
    }
    out
}

/// The windowed aggregation's output topic as (zone, window start) → (rides, total): JSON
/// objects, Avro records through the registry, or DELIMITED lines.
fn windowed_counts(
    latest: &BTreeMap<Vec<u8>, Vec<u8>>,
    registry: &RegistryClient,
) -> BTreeMap<(i32, i64), (i64, f64)> {
    latest
        .iter()
        .map(|(k, v)| {
            assert_eq!(k.len(), 12, "an INT key and the window start");
            let zone = i32::from_be_bytes(k[..4].try_into().unwrap());
            let start = i64::from_be_bytes(k[4..].try_into().unwrap());
            // Each query's value format is its source's (inherited, as in ksqlDB).
            let counts = if v.first() == Some(&0) {
                let v = registry.deserialize(v).unwrap();
                let (rides, total) = (&v["RIDES"], &v["TOTAL"]);
                // Nullable fields may come as Avro JSON unions ({"long": n}).
                (
                    rides
                        .as_i64()
                        .or(rides["long"].as_i64())
                        .unwrap_or_else(|| panic!("{v}")),
                    total
                        .as_f64()
                        .or(total["double"].as_f64())
                        .unwrap_or_else(|| panic!("{v}")),
                )
            } else {
                let text = std::str::from_utf8(v).unwrap();
                match text.strip_prefix('{') {
                    Some(_) => {
                        let v: serde_json::Value = serde_json::from_str(text).unwrap();
                        (v["RIDES"].as_i64().unwrap(), v["TOTAL"].as_f64().unwrap())
                    }
                    None => {
                        let (n, total) = text.split_once(',').unwrap();
                        (n.parse().unwrap(), total.parse().unwrap())
                    }
                }
            };
            ((zone, start), counts)
        })
        .collect()
}

fn assert_same(got: &BTreeMap<(i32, i64), (i64, f64)>, want: &BTreeMap<(i32, i64), (i64, f64)>) {
    assert_eq!(got.len(), want.len(), "windows");
    for (k, (n, total)) in want {
        let (gn, gt) = got[k];
        assert_eq!(gn, *n, "rides of {k:?}");
        assert!((gt - total).abs() < 1e-6, "total of {k:?}: {gt} vs {total}");
    }
}

#[test]
fn rides_per_zone_and_hour_as_json_and_delimited_joins_and_pull_queries() {
    let stack = Stack::start();
    let (header, rides) = rides();
    let want = reference(&header, &rides);
    let bootstrap = stack.bootstrap.clone();

    // The rides as JSON objects (with a ride id) and as the CSV lines, keyed by vendor.
    stack.ksql_ok(
        "CREATE STREAM rides_json (VendorID STRING KEY, ride_id INT, tpep_pickup_datetime STRING,
            PULocationID INT, total_amount DOUBLE, tip_amount DOUBLE)
         WITH (KAFKA_TOPIC='rides_json', VALUE_FORMAT='JSON', PARTITIONS=1,
               TIMESTAMP='tpep_pickup_datetime', TIMESTAMP_FORMAT='yyyy-MM-dd HH:mm:ss');",
    );
    let columns: Vec<String> = header
        .iter()
        .map(|h| {
            let ty = match h.as_str() {
                "tpep_pickup_datetime" | "tpep_dropoff_datetime" | "store_and_fwd_flag" => "STRING",
                "VendorID" | "passenger_count" | "RatecodeID" | "PULocationID" | "DOLocationID"
                | "payment_type" => "INT",
                _ => "DOUBLE",
            };
            format!("{h} {ty}")
        })
        .collect();
    stack.ksql_ok(&format!(
        "CREATE STREAM rides_csv (vendor STRING KEY, {}) WITH (KAFKA_TOPIC='rides_csv', VALUE_FORMAT='DELIMITED',
         PARTITIONS=1, TIMESTAMP='tpep_pickup_datetime', TIMESTAMP_FORMAT='yyyy-MM-dd HH:mm:ss');",
        columns.join(", ")
    ));
    // Avro rides as the course's Avro producer writes them, the columns from their schema.
    let registry = RegistryClient::new(&stack.registry_url);
    let avro_schema = r#"{"type": "record", "name": "Ride", "namespace": "rides", "fields": [
        {"name": "VendorID", "type": "int"}, {"name": "tpep_pickup_datetime", "type": "string"},
        {"name": "PULocationID", "type": "int"}, {"name": "total_amount", "type": "double"}]}"#;
    let avro_rides: Vec<(String, Vec<u8>)> = rides
        .iter()
        .map(|r| {
            let value = json!({
                "VendorID": r.get(&header, "VendorID").parse::<i32>().unwrap(),
                "tpep_pickup_datetime": r.get(&header, "tpep_pickup_datetime"),
                "PULocationID": r.get(&header, "PULocationID").parse::<i32>().unwrap(),
                "total_amount": r.get(&header, "total_amount").parse::<f64>().unwrap(),
            });
            let bytes = registry
                .serialize(
                    "rides_avro-value",
                    SchemaType::Avro,
                    avro_schema,
                    None,
                    &value,
                )
                .unwrap();
            (r.get(&header, "VendorID"), bytes)
        })
        .collect();
    stack.ksql_ok("CREATE STREAM rides_avro WITH (KAFKA_TOPIC='rides_avro', VALUE_FORMAT='AVRO', PARTITIONS=1,
         TIMESTAMP='tpep_pickup_datetime', TIMESTAMP_FORMAT='yyyy-MM-dd HH:mm:ss');");
    let described = stack.ksql_ok("DESCRIBE rides_avro;");
    let fields: Vec<(String, String)> = described[0]["sourceDescription"]["fields"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            (
                f["name"].as_str().unwrap().to_string(),
                f["schema"]["type"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    assert_eq!(
        fields,
        [
            ("VENDORID", "INTEGER"),
            ("TPEP_PICKUP_DATETIME", "STRING"),
            ("PULOCATIONID", "INTEGER"),
            ("TOTAL_AMOUNT", "DOUBLE")
        ]
        .map(|(n, t)| (n.to_string(), t.to_string()))
    );
    stack.ksql_ok("CREATE TABLE zones (LocationID INT PRIMARY KEY, zone STRING) WITH (KAFKA_TOPIC='zones', VALUE_FORMAT='JSON', PARTITIONS=1);");
    let zones: BTreeMap<i32, String> = [
        (142, "Lincoln Square East"),
        (138, "LaGuardia Airport"),
        (161, "Midtown Center"),
        (236, "Upper East Side North"),
    ]
    .into_iter()
    .map(|(id, z)| (id, z.to_string()))
    .collect();
    for (id, zone) in &zones {
        stack.ksql_ok(&format!(
            "INSERT INTO zones (LocationID, zone) VALUES ({id}, '{zone}');"
        ));
    }

    // The persistent queries, from the beginning of their topics.
    for q in [
        "CREATE TABLE rides_per_zone AS SELECT PULocationID, COUNT(*) AS rides, SUM(total_amount) AS total
         FROM rides_json WINDOW TUMBLING (SIZE 1 HOUR, RETENTION 7 DAYS) GROUP BY PULocationID EMIT CHANGES;",
        "CREATE TABLE rides_per_zone_csv AS SELECT PULocationID, COUNT(*) AS rides, SUM(total_amount) AS total
         FROM rides_csv WINDOW TUMBLING (SIZE 1 HOUR) GROUP BY PULocationID EMIT CHANGES;",
        "CREATE TABLE rides_per_zone_avro AS SELECT PULocationID, COUNT(*) AS rides, SUM(total_amount) AS total
         FROM rides_avro WINDOW TUMBLING (SIZE 1 HOUR) GROUP BY PULocationID EMIT CHANGES;",
        "CREATE STREAM rides_enriched AS SELECT r.PULocationID AS zone_id, z.zone AS zone, r.total_amount AS total_amount
         FROM rides_json r JOIN zones z ON r.PULocationID = z.LocationID EMIT CHANGES;",
        "CREATE TABLE zones_queryable AS SELECT * FROM zones WHERE LocationID <> 236 EMIT CHANGES;",
        "CREATE STREAM tips AS SELECT ride_id, tip_amount FROM rides_json WHERE tip_amount > 0 PARTITION BY ride_id EMIT CHANGES;",
        "CREATE STREAM tipped_rides AS SELECT r.ride_id AS ride_id, r.total_amount AS total_amount, t.tip_amount AS tip
         FROM rides_json r JOIN tips t WITHIN 1 HOUR GRACE PERIOD 7 DAYS ON r.ride_id = t.ride_id EMIT CHANGES;",
    ] {
        stack.ksql_ok(q);
    }
    // The zone table is read before the rides arrive.
    std::thread::sleep(Duration::from_secs(2));

    produce(
        &bootstrap,
        "rides_json",
        rides.iter().enumerate().map(|(i, r)| {
            let value = json!({
                "VendorID": r.get(&header, "VendorID"),
                "ride_id": i,
                "tpep_pickup_datetime": r.get(&header, "tpep_pickup_datetime"),
                "PULocationID": r.get(&header, "PULocationID").parse::<i32>().unwrap(),
                "total_amount": r.get(&header, "total_amount").parse::<f64>().unwrap(),
                "tip_amount": r.get(&header, "tip_amount").parse::<f64>().unwrap(),
            });
            (r.get(&header, "VendorID"), value.to_string())
        }),
    );
    produce(
        &bootstrap,
        "rides_csv",
        rides
            .iter()
            .map(|r| (r.get(&header, "VendorID"), r.line.clone())),
    );
    produce_bytes(&bootstrap, "rides_avro", avro_rides);

    // The windowed counts equal the reference, for both formats.
    for topic in [
        "RIDES_PER_ZONE",
        "RIDES_PER_ZONE_CSV",
        "RIDES_PER_ZONE_AVRO",
    ] {
        let latest = read_latest(&bootstrap, topic, |l| {
            let got = windowed_counts(l, &registry);
            got.len() == want.len()
                && want
                    .iter()
                    .all(|(k, (n, _))| got.get(k).is_some_and(|(g, _)| g == n))
        });
        assert_same(&windowed_counts(&latest, &registry), &want);
    }

    // A pull query: one zone's windows (all of them: the rides span three days and the
    // table keeps seven), then a range of them.
    let zone_windows: Vec<(i64, (i64, f64))> = want
        .iter()
        .filter(|((z, _), _)| *z == 142)
        .map(|((_, s), v)| (*s, *v))
        .collect();
    assert!(zone_windows.len() > 10);
    let pulled = eventually(30, || {
        let (status, body) = stack.post(
            "/query-stream",
            &json!({"sql": "SELECT * FROM rides_per_zone WHERE PULocationID = 142;"}),
        );
        assert_eq!(status, 200, "{body}");
        let text = body
            .as_str()
            .map(str::to_string)
            .unwrap_or_else(|| body.to_string());
        let lines: Vec<serde_json::Value> = text
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        (lines.len() - 1 == zone_windows.len()).then_some(lines)
    });
    assert_eq!(
        pulled[0]["columnNames"],
        json!(["PULOCATIONID", "WINDOWSTART", "WINDOWEND", "RIDES", "TOTAL"])
    );
    for (row, (start, (n, total))) in pulled[1..].iter().zip(&zone_windows) {
        assert_eq!(row[0], 142);
        assert_eq!(row[1], *start);
        assert_eq!(row[2], start + HOUR);
        assert_eq!(row[3], *n);
        assert!((row[4].as_f64().unwrap() - total).abs() < 1e-6);
    }
    let (from, to) = (zone_windows[2].0, zone_windows[5].0);
    let (_, body) = stack.post(
        "/query",
        &json!({"ksql": format!("SELECT WINDOWSTART, RIDES FROM rides_per_zone WHERE PULocationID = 142 AND WINDOWSTART >= {from} AND WINDOWSTART <= {to};")}),
    );
    let elements = body.as_array().unwrap();
    assert_eq!(
        elements.len(),
        1 + 4,
        "a header and the rows, nothing after the last row: {body}"
    );
    let rows: Vec<i64> = elements
        .iter()
        .filter_map(|r| r["row"]["columns"][0].as_i64())
        .collect();
    assert_eq!(
        rows,
        zone_windows[2..=5]
            .iter()
            .map(|(s, _)| *s)
            .collect::<Vec<_>>()
    );

    // A table that does not aggregate is queryable once a query materializes it: a key
    // lookup and a scan (236 filtered out by the query's WHERE).
    let (status, body) = stack.post(
        "/query",
        &json!({"ksql": "SELECT * FROM zones WHERE LocationID = 161;"}),
    );
    assert_eq!(status, 400, "{body}");
    assert!(
        body["message"]
            .as_str()
            .unwrap()
            .contains("CREATE TABLE QUERYABLE_ZONES AS SELECT * FROM ZONES"),
        "{body}"
    );
    let pull_rows = |sql: &str| -> Vec<serde_json::Value> {
        let (status, body) = stack.post("/query", &json!({ "ksql": sql }));
        assert_eq!(status, 200, "{body}");
        body.as_array().unwrap()[1..]
            .iter()
            .map(|r| r["row"]["columns"].clone())
            .collect()
    };
    let scanned = eventually(30, || {
        let rows = pull_rows("SELECT LocationID, zone FROM zones_queryable;");
        (rows.len() == 3).then_some(rows)
    });
    let want_zones: Vec<serde_json::Value> = zones
        .iter()
        .filter(|(id, _)| **id != 236)
        .map(|(id, z)| json!([id, z]))
        .collect();
    assert_eq!(scanned, want_zones);
    assert_eq!(
        pull_rows("SELECT zone FROM zones_queryable WHERE LocationID = 161;"),
        vec![json!(["Midtown Center"])]
    );

    // The stream–table join: every ride of a zone in the table, with its zone's name.
    let joined_want: usize = rides
        .iter()
        .filter(|r| zones.contains_key(&r.get(&header, "PULocationID").parse::<i32>().unwrap()))
        .count();
    let mut lines = stack.query_stream(
        &format!("SELECT zone_id, zone FROM rides_enriched EMIT CHANGES LIMIT {joined_want};"),
        json!({"auto.offset.reset": "earliest"}),
    );
    lines.next_json().unwrap();
    let mut joined = 0;
    while let Some(row) = lines.next_json() {
        let id = row[0].as_i64().unwrap() as i32;
        assert_eq!(row[1].as_str().unwrap(), zones[&id]);
        joined += 1;
    }
    assert_eq!(joined, joined_want);

    // The stream–stream join: each tipped ride meets its tip. The tips come from another
    // query and arrive after the rides; Brook processes a task's records in arrival order
    // (not by timestamp, as Kafka Streams does), so the stream time of the join is days ahead
    // when they come: the grace period keeps the rides buffered for them.
    let tipped_want = rides
        .iter()
        .filter(|r| r.get(&header, "tip_amount").parse::<f64>().unwrap() > 0.0)
        .count();
    let latest = read_latest(&bootstrap, "TIPPED_RIDES", |l| l.len() >= tipped_want);
    assert_eq!(latest.len(), tipped_want);
    for (k, v) in &latest {
        let id = i32::from_be_bytes(k[..].try_into().unwrap()) as usize;
        let v: serde_json::Value = serde_json::from_slice(v).unwrap();
        let r = &rides[id];
        assert_eq!(
            v["TIP"].as_f64().unwrap(),
            r.get(&header, "tip_amount").parse::<f64>().unwrap()
        );
        assert_eq!(
            v["TOTAL_AMOUNT"].as_f64().unwrap(),
            r.get(&header, "total_amount").parse::<f64>().unwrap()
        );
    }
}
