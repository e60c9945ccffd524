// Drives Brook SQL with the ksqldb-client package (HTTP/2, as ksqlDB's clients speak it) and
// prints what it saw as one JSON object for crates/brook/tests/sql_node_client.rs to check.
// Usage: node ksqldb_client.js <host> <port>
const KsqldbClient = require("ksqldb-client");

const [host, port] = process.argv.slice(2);
const earliest = { properties: { "auto.offset.reset": "earliest" } };

(async () => {
  const client = new KsqldbClient({ host: `http://${host}`, port: Number(port) });
  await client.connect();
  const out = {};

  out.create = await client.executeStatement(
    "CREATE STREAM clicks (user VARCHAR KEY, page VARCHAR, ms BIGINT) " +
      "WITH (KAFKA_TOPIC='clicks', VALUE_FORMAT='JSON', PARTITIONS=1);"
  );
  out.inserts = [];
  for (const [user, page, ms] of [["ann", "/home", 1], ["bob", "/cart", 2], ["ann", "/pay", 3]]) {
    out.inserts.push(await client.insertInto("CLICKS", { USER: user, PAGE: page, MS: ms }));
  }

  const pushed = [];
  out.push = await client.streamQuery(
    "SELECT user, page FROM clicks EMIT CHANGES LIMIT 3;",
    (data) => { if (data.rows) pushed.push(...data.rows); },
    earliest
  );
  out.pushed = pushed;

  out.ctas = await client.executeStatement(
    "CREATE TABLE clicks_per_user AS SELECT user, COUNT(*) AS n FROM clicks GROUP BY user EMIT CHANGES;",
    { streamsProperties: { "auto.offset.reset": "earliest" } }
  );
  // The table fills within a commit interval.
  for (let i = 0; i < 50; i++) {
    out.pull = await client.query("SELECT * FROM clicks_per_user WHERE user = 'ann';");
    const rows = out.pull.data && out.pull.data.rows;
    if (rows && rows.length === 1 && rows[0].N === 2) break;
    await new Promise((r) => setTimeout(r, 300));
  }

  out.streams = await client.listStreams();
  out.queries = await client.listQueries();
  out.describe = await client.describeSource("CLICKS");

  // An unbounded push query, terminated by its id.
  let queryId = null;
  const running = client.streamQuery(
    "SELECT * FROM clicks EMIT CHANGES;",
    (data) => { if (data.metadata && data.metadata.queryId) queryId = data.metadata.queryId; },
    earliest
  );
  for (let i = 0; i < 100 && !queryId; i++) await new Promise((r) => setTimeout(r, 100));
  out.terminate = await client.terminatePushQuery(queryId);
  out.terminated = await Promise.race([
    running.then(() => true),
    new Promise((r) => setTimeout(() => r(false), 10000)),
  ]);

  await client.disconnect();
  console.log(JSON.stringify(out));
})().catch((e) => {
  console.error(e);
  process.exit(1);
});
