//! The message browser: a page of a topic's messages — the newest, or from the start, an
//! offset or a time — for one partition or all, filtered on key, value and headers, decoded
//! for people. It never holds more than a page: it reads the offset ranges it needs with an
//! assigned consumer (no group), and answers with cursors from which the next page (older, or
//! newer for a live tail) is read.
//!
//! Paging is exact across partitions: partitions are merged by timestamp while each keeps its
//! offset order, so a partition's cursor is the first offset of it not yet shown.

use std::collections::{BTreeMap, HashSet, VecDeque};
use std::time::{Duration, Instant};

use brook_registry::client::RegistryClient;
use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::error::KafkaError;
use rdkafka::message::{Headers, Message};
use rdkafka::{Offset, TopicPartitionList};
use serde::Serialize;
use serde_json::Value;

use crate::cluster::ClusterError;

/// Where a page starts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Start {
    /// The newest messages, shown newest first; pages go back in time.
    Newest,
    /// The log start; pages go forward.
    Oldest,
    /// This offset in each partition; pages go forward.
    Offset(i64),
    /// The first message at or after this time (epoch ms); pages go forward.
    Timestamp(i64),
}

/// How keys and values are shown.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decode {
    /// Through the registry when framed in Confluent's wire format, else JSON when it parses
    /// as an object or array, else text when UTF-8, else hex.
    Auto,
    /// UTF-8 text (invalid bytes replaced).
    Text,
    /// JSON, or an error note when it does not parse.
    Json,
    /// Hex.
    Hex,
}

impl Decode {
    /// `auto`, `text`, `json`, `hex`.
    pub fn parse(text: &str) -> Result<Decode, ClusterError> {
        Ok(match text {
            "" | "auto" => Decode::Auto,
            "text" | "string" => Decode::Text,
            "json" => Decode::Json,
            "hex" => Decode::Hex,
            other => {
                return Err(ClusterError::bad_request(format!(
                    "unknown format '{other}': use auto, text, json or hex"
                )));
            }
        })
    }
}

/// Positions per partition (`0:120,1:98`): the next offset to read forward, or the offset
/// below which to read backward.
pub type Positions = BTreeMap<i32, i64>;

/// Reads `0:120,1:98`.
pub fn parse_positions(text: &str) -> Result<Positions, ClusterError> {
    text.split(',')
        .filter(|p| !p.is_empty())
        .map(|pair| {
            let (p, o) = pair.split_once(':').ok_or_else(|| {
                ClusterError::bad_request(format!("a position is partition:offset, not '{pair}'"))
            })?;
            let p = p.trim().parse().map_err(|_| {
                ClusterError::bad_request(format!("'{p}' is not a partition number"))
            })?;
            let o = o
                .trim()
                .parse()
                .map_err(|_| ClusterError::bad_request(format!("'{o}' is not an offset")))?;
            Ok((p, o))
        })
        .collect()
}

/// Writes `0:120,1:98`.
pub fn format_positions(positions: &Positions) -> String {
    positions
        .iter()
        .map(|(p, o)| format!("{p}:{o}"))
        .collect::<Vec<_>>()
        .join(",")
}

/// What to read.
#[derive(Debug, Clone)]
pub struct BrowseRequest {
    /// One partition, or every one.
    pub partition: Option<i32>,
    /// Where to start (ignored for partitions in `cursor`).
    pub start: Start,
    /// Positions from a previous page's `older` (with [`Start::Newest`]) or `newer` cursor.
    pub cursor: Option<Positions>,
    /// How many messages at most (1–1000).
    pub limit: usize,
    /// Substring of the shown key (case-insensitive).
    pub key: Option<String>,
    /// Substring of the shown value (case-insensitive).
    pub value: Option<String>,
    /// Substring of a header's name or value (case-insensitive).
    pub header: Option<String>,
    /// How keys and values are shown.
    pub decode: Decode,
}

/// A key or a value, shown.
#[derive(Debug, Clone, Serialize)]
pub struct Shown {
    /// `avro`, `json_schema`, `protobuf` (through the registry), `json`, `text` or `hex`.
    pub format: &'static str,
    /// The registry's schema id, for registry formats.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub schema_id: Option<i32>,
    /// The decoded form: JSON for the structured formats, a string otherwise.
    pub data: Value,
    /// Its size in bytes.
    pub size: usize,
    /// Whether `data` shows only the first [`SHOWN_BYTES`] bytes.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub truncated: bool,
    /// Why it could not be shown in the asked or detected format.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

/// A header.
#[derive(Debug, Clone, Serialize)]
pub struct ShownHeader {
    /// Its name.
    pub key: String,
    /// Its value as text (hex when not UTF-8), or null.
    pub value: Option<String>,
}

/// A message, shown.
#[derive(Debug, Clone, Serialize)]
pub struct ShownMessage {
    /// Partition.
    pub partition: i32,
    /// Offset.
    pub offset: i64,
    /// Timestamp, epoch ms.
    pub timestamp: Option<i64>,
    /// `CreateTime` or `LogAppendTime`.
    pub timestamp_type: &'static str,
    /// The key (null for none).
    pub key: Option<Shown>,
    /// The value (null for a tombstone).
    pub value: Option<Shown>,
    /// Headers in order.
    pub headers: Vec<ShownHeader>,
}

/// A page.
#[derive(Debug, Serialize)]
pub struct Page {
    /// The messages: newest first when reading the newest, else oldest first.
    pub messages: Vec<ShownMessage>,
    /// The cursor for older messages (reading the newest), null when there are none.
    pub older: Option<String>,
    /// The cursor for the messages after this page (reading forward), or the log end
    /// offsets when reading the newest: where a live tail continues.
    pub newer: String,
    /// How many messages were read to make this page (more than shown when filtering).
    pub scanned: u64,
    /// False when the search stopped at its budget before filling the page; the cursors then
    /// continue from where it stopped.
    pub complete: bool,
}

/// Most bytes of one key or value a page carries.
pub const SHOWN_BYTES: usize = 64 * 1024;
/// Most messages one request reads while filtering.
const SCAN_BUDGET: u64 = 200_000;
/// Most offsets of one partition a backward window reads.
const WINDOW_MAX: i64 = 20_000;
/// Longest one request reads before answering with what it has.
const TIME_BUDGET: Duration = Duration::from_secs(4);

/// Settings of the browser's consumers: no group membership, small prefetch.
pub const CONSUMER_SETTINGS: &[(&str, &str)] = &[
    ("group.id", "brook-console-browser"),
    ("enable.auto.commit", "false"),
    ("enable.auto.offset.store", "false"),
    ("enable.partition.eof", "true"),
    ("auto.offset.reset", "earliest"),
    ("fetch.wait.max.ms", "50"),
    ("queued.max.messages.kbytes", "4096"),
    ("max.partition.fetch.bytes", "1048576"),
    ("fetch.max.bytes", "4194304"),
];

/// Turns bytes into something to show.
pub struct Decoder<'a> {
    mode: Decode,
    registry: Option<&'a RegistryClient>,
    unknown_ids: HashSet<i32>,
}

impl<'a> Decoder<'a> {
    /// A decoder; `registry` decodes framed records in [`Decode::Auto`].
    pub fn new(mode: Decode, registry: Option<&'a RegistryClient>) -> Self {
        Decoder {
            mode,
            registry,
            unknown_ids: HashSet::new(),
        }
    }

    /// Shows `bytes`.
    pub fn show(&mut self, bytes: &[u8]) -> Shown {
        let size = bytes.len();
        let truncated = size > SHOWN_BYTES;
        let head = &bytes[..size.min(SHOWN_BYTES)];
        let shown = |format, data, note: Option<String>| Shown {
            format,
            schema_id: None,
            data,
            size,
            truncated,
            note,
        };
        let text = || Value::String(String::from_utf8_lossy(head).into_owned());
        match self.mode {
            Decode::Hex => shown("hex", Value::String(hex(head)), None),
            Decode::Text => shown("text", text(), None),
            Decode::Json => match serde_json::from_slice(bytes) {
                Ok(v) if !truncated => shown("json", v, None),
                Ok(_) => shown("text", text(), Some("too large to show as JSON".into())),
                Err(e) => shown("text", text(), Some(format!("not JSON: {e}"))),
            },
            Decode::Auto => {
                if let Some(found) = self.registry_form(bytes) {
                    return found;
                }
                if matches!(bytes.first(), Some(b'{' | b'['))
                    && !truncated
                    && let Ok(v) = serde_json::from_slice::<Value>(bytes)
                {
                    return shown("json", v, None);
                }
                match std::str::from_utf8(head) {
                    Ok(s) => shown("text", Value::String(s.to_string()), None),
                    // A long text cut inside a character is still text.
                    Err(e) if truncated && e.error_len().is_none() => shown("text", text(), None),
                    Err(_) => shown("hex", Value::String(hex(head)), None),
                }
            }
        }
    }

    fn registry_form(&mut self, bytes: &[u8]) -> Option<Shown> {
        let registry = self.registry?;
        let (id, payload) = brook_registry::wire::unframe(bytes).ok()?;
        if self.unknown_ids.contains(&id) {
            return None;
        }
        let decoded = registry.schema(id).ok().and_then(|parsed| {
            let format = match parsed.schema_type().name() {
                "AVRO" => "avro",
                "JSON" => "json_schema",
                _ => "protobuf",
            };
            parsed.decode_plain(payload).ok().map(|v| (format, v))
        });
        match decoded {
            Some((format, data)) => Some(Shown {
                format,
                schema_id: Some(id),
                data,
                size: bytes.len(),
                truncated: false,
                note: None,
            }),
            None => {
                self.unknown_ids.insert(id);
                None
            }
        }
    }
}

fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write as _;
    bytes
        .iter()
        .fold(String::with_capacity(bytes.len() * 2), |mut s, b| {
            let _ = write!(s, "{b:02x}");
            s
        })
}

/// The text a filter looks in.
fn searchable(shown: &Shown) -> String {
    match &shown.data {
        Value::String(s) => s.to_lowercase(),
        other => other.to_string().to_lowercase(),
    }
}

struct Filters {
    key: Option<String>,
    value: Option<String>,
    header: Option<String>,
}

impl Filters {
    fn new(request: &BrowseRequest) -> Self {
        let lower = |f: &Option<String>| {
            f.as_ref()
                .filter(|s| !s.is_empty())
                .map(|s| s.to_lowercase())
        };
        Filters {
            key: lower(&request.key),
            value: lower(&request.value),
            header: lower(&request.header),
        }
    }

    fn accept(&self, m: &ShownMessage) -> bool {
        let has = |shown: &Option<Shown>, needle: &Option<String>| match needle {
            None => true,
            Some(n) => shown.as_ref().is_some_and(|s| searchable(s).contains(n)),
        };
        has(&m.key, &self.key)
            && has(&m.value, &self.value)
            && self.header.as_ref().is_none_or(|n| {
                m.headers.iter().any(|h| {
                    h.key.to_lowercase().contains(n)
                        || h.value
                            .as_ref()
                            .is_some_and(|v| v.to_lowercase().contains(n))
                })
            })
    }
}

fn show_message<M: Message>(m: &M, decoder: &mut Decoder<'_>) -> ShownMessage {
    let (timestamp, timestamp_type) = match m.timestamp() {
        rdkafka::Timestamp::NotAvailable => (None, "NoTimestampType"),
        rdkafka::Timestamp::CreateTime(t) => (Some(t), "CreateTime"),
        rdkafka::Timestamp::LogAppendTime(t) => (Some(t), "LogAppendTime"),
    };
    let headers = m
        .headers()
        .map(|hs| {
            hs.iter()
                .map(|h| ShownHeader {
                    key: h.key.to_string(),
                    value: h.value.map(|v| match std::str::from_utf8(v) {
                        Ok(s) => s.to_string(),
                        Err(_) => hex(v),
                    }),
                })
                .collect()
        })
        .unwrap_or_default();
    ShownMessage {
        partition: m.partition(),
        offset: m.offset(),
        timestamp,
        timestamp_type,
        key: m.key().map(|k| decoder.show(k)),
        value: m.payload().map(|v| decoder.show(v)),
        headers,
    }
}

/// One partition's range to read: `[from, to)`.
struct Range {
    partition: i32,
    from: i64,
    to: i64,
}

/// Reads `ranges` of `topic` with `consumer`, handing each message to `take`, which answers
/// whether that partition wants more. Returns, per partition, the offset after the last
/// message read (the range's end once it was read to the end), and whether the deadline cut
/// the reading short. A cluster that sends nothing at all before the deadline is an error.
fn read_ranges(
    consumer: &BaseConsumer<brook_client::Quiet>,
    topic: &str,
    ranges: &[Range],
    deadline: Instant,
    mut take: impl FnMut(&rdkafka::message::BorrowedMessage<'_>) -> bool,
) -> Result<(BTreeMap<i32, i64>, bool), ClusterError> {
    let mut reached: BTreeMap<i32, i64> = ranges.iter().map(|r| (r.partition, r.from)).collect();
    let ends: BTreeMap<i32, i64> = ranges.iter().map(|r| (r.partition, r.to)).collect();
    let mut open: HashSet<i32> = ranges
        .iter()
        .filter(|r| r.from < r.to)
        .map(|r| r.partition)
        .collect();
    if open.is_empty() {
        return Ok((reached, false));
    }
    let mut assignment = TopicPartitionList::new();
    for r in ranges.iter().filter(|r| open.contains(&r.partition)) {
        assignment
            .add_partition_offset(topic, r.partition, Offset::Offset(r.from))
            .map_err(|e| ClusterError::bad_request(e.to_string()))?;
    }
    consumer
        .assign(&assignment)
        .map_err(|e| ClusterError::unreachable(format!("cannot read {topic}: {e}")))?;
    let mut heard = false;
    let mut stopped = false;
    while !open.is_empty() {
        let now = Instant::now();
        if now >= deadline {
            stopped = true;
            break;
        }
        match consumer.poll(deadline - now) {
            None => {}
            Some(Ok(m)) => {
                heard = true;
                let p = m.partition();
                if !open.contains(&p) {
                    continue;
                }
                let end = ends[&p];
                if m.offset() >= end {
                    reached.insert(p, end);
                    open.remove(&p);
                    continue;
                }
                reached.insert(p, m.offset() + 1);
                if !take(&m) || m.offset() + 1 >= end {
                    open.remove(&p);
                }
            }
            Some(Err(KafkaError::PartitionEOF(p))) => {
                heard = true;
                if open.remove(&p) {
                    reached.insert(p, ends[&p]);
                }
            }
            Some(Err(e)) => {
                let _ = consumer.unassign();
                return Err(ClusterError::unreachable(format!(
                    "cannot read {topic}: {e}"
                )));
            }
        }
    }
    let _ = consumer.unassign();
    if stopped && !heard {
        return Err(ClusterError::unreachable(format!(
            "no messages of {topic} arrived within {} s",
            TIME_BUDGET.as_secs()
        )));
    }
    Ok((reached, stopped))
}

/// Reads one page of `topic`. `ranges` are each partition's (log start, log end) now;
/// `times` the offsets found for [`Start::Timestamp`].
pub fn browse(
    consumer: &BaseConsumer<brook_client::Quiet>,
    registry: Option<&RegistryClient>,
    topic: &str,
    ranges: &BTreeMap<i32, (i64, i64)>,
    times: &BTreeMap<i32, i64>,
    request: &BrowseRequest,
) -> Result<Page, ClusterError> {
    let limit = request.limit.clamp(1, 1000);
    let filters = Filters::new(request);
    let mut decoder = Decoder::new(request.decode, registry);
    let started = Instant::now();
    let deadline = started + TIME_BUDGET;
    let mut scanned = 0u64;
    let newest = request.start == Start::Newest;
    // Per partition: matching messages in offset order.
    let mut found: BTreeMap<i32, VecDeque<ShownMessage>> = BTreeMap::new();
    let mut complete = true;
    // Per partition: reading forward, the next offset to read; reading back, the offset
    // below which nothing has been read yet.
    let scanned_to: BTreeMap<i32, i64>;
    if newest {
        // Windows going back from each partition's cursor, growing while a filter finds too
        // few, until each partition has `limit` matches or reaches its log start. A window
        // is used only once read whole, so the budget is checked between windows, which
        // stay small enough to read quickly.
        let mut below: BTreeMap<i32, i64> = ranges
            .iter()
            .map(|(p, (low, high))| {
                let at = request.cursor.as_ref().and_then(|c| c.get(p)).copied();
                (*p, at.unwrap_or(*high).clamp(*low, *high))
            })
            .collect();
        let mut window = limit as i64;
        loop {
            let wanted: Vec<Range> = below
                .iter()
                .filter(|(p, at)| {
                    **at > ranges[p].0 && found.get(p).map_or(0, VecDeque::len) < limit
                })
                .map(|(p, at)| Range {
                    partition: *p,
                    from: (*at - window).max(ranges[p].0),
                    to: *at,
                })
                .collect();
            if wanted.is_empty() {
                break;
            }
            if scanned > 0 && (scanned >= SCAN_BUDGET || Instant::now() >= deadline) {
                complete = false;
                break;
            }
            let mut batch: BTreeMap<i32, VecDeque<ShownMessage>> = BTreeMap::new();
            let (reached, _) = read_ranges(
                consumer,
                topic,
                &wanted,
                Instant::now() + 4 * TIME_BUDGET,
                |m| {
                    scanned += 1;
                    let shown = show_message(m, &mut decoder);
                    if filters.accept(&shown) {
                        batch.entry(shown.partition).or_default().push_back(shown);
                    }
                    true
                },
            )?;
            for r in &wanted {
                if reached.get(&r.partition).copied().unwrap_or(r.from) < r.to {
                    // Cut short: not used; the next page reads this window again.
                    complete = false;
                    continue;
                }
                // The newest `limit` of this window's matches, then what was found above.
                let above = found.entry(r.partition).or_default();
                let mut window_found = batch.remove(&r.partition).unwrap_or_default();
                window_found.append(above);
                while window_found.len() > limit {
                    window_found.pop_front();
                }
                *above = window_found;
                below.insert(r.partition, r.from);
            }
            if !complete {
                break;
            }
            window = window.saturating_mul(4).min(WINDOW_MAX);
        }
        scanned_to = below;
    } else {
        let wanted: Vec<Range> = ranges
            .iter()
            .map(|(p, (low, high))| {
                let start = match (
                    request.cursor.as_ref().and_then(|c| c.get(p)),
                    request.start,
                ) {
                    (Some(at), _) => *at,
                    (None, Start::Offset(o)) => o,
                    (None, Start::Timestamp(_)) => times.get(p).copied().unwrap_or(*high),
                    _ => *low,
                };
                Range {
                    partition: *p,
                    from: start.clamp(*low, *high),
                    to: *high,
                }
            })
            .collect();
        let mut out_of_budget = false;
        let (reached, stopped) = read_ranges(consumer, topic, &wanted, deadline, |m| {
            scanned += 1;
            let shown = show_message(m, &mut decoder);
            let list = found.entry(shown.partition).or_default();
            if filters.accept(&shown) {
                list.push_back(shown);
            }
            if scanned >= SCAN_BUDGET {
                out_of_budget = true;
            }
            list.len() < limit && !out_of_budget
        })?;
        complete = !stopped && !out_of_budget;
        scanned_to = reached;
    }
    // Merge by timestamp, each partition in offset order.
    let mut messages = Vec::with_capacity(limit);
    loop {
        if messages.len() >= limit {
            break;
        }
        let next = found
            .iter()
            .filter_map(|(p, list)| {
                let head = if newest { list.back() } else { list.front() };
                head.map(|m| (*p, m.timestamp.unwrap_or(0), m.offset))
            })
            .reduce(|a, b| {
                let better = if newest { b.1 > a.1 } else { b.1 < a.1 };
                if better { b } else { a }
            });
        let Some((p, _, _)) = next else { break };
        let list = found.get_mut(&p).expect("chosen from found");
        let m = if newest {
            list.pop_back()
        } else {
            list.pop_front()
        };
        messages.extend(m);
    }
    // Each partition's cursor: its first match not shown, else how far it was read.
    let mut cursor = Positions::new();
    for p in ranges.keys() {
        let left = found
            .get(p)
            .and_then(|l| if newest { l.back() } else { l.front() });
        let at = match left {
            Some(m) if newest => m.offset + 1,
            Some(m) => m.offset,
            None => scanned_to.get(p).copied().unwrap_or(ranges[p].1),
        };
        cursor.insert(*p, at);
    }
    if newest {
        let more = cursor.iter().any(|(p, at)| *at > ranges[p].0);
        let ends: Positions = ranges.iter().map(|(p, (_, high))| (*p, *high)).collect();
        Ok(Page {
            messages,
            older: more.then(|| format_positions(&cursor)),
            newer: format_positions(&ends),
            scanned,
            complete,
        })
    } else {
        Ok(Page {
            messages,
            older: None,
            newer: format_positions(&cursor),
            scanned,
            complete,
        })
    }
}
