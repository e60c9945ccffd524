//! Live numbers for the charts: a sampler thread that, every [`INTERVAL`], reads the
//! brokers' Prometheus endpoints (bytes and records in and out, produce latency, disk used)
//! and every partition's log end offset (records per second per topic, on any Kafka
//! cluster), and every [`GROUP_INTERVAL`] each consumer group's total lag. It keeps the last
//! [`KEPT`] samples; the pages draw them.

use std::collections::{BTreeMap, VecDeque};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use serde::Serialize;

use crate::cluster::Cluster;

/// Time between samples.
pub const INTERVAL: Duration = Duration::from_secs(2);
/// Time between samples of the groups' lag.
pub const GROUP_INTERVAL: Duration = Duration::from_secs(5);
/// Samples kept (ten minutes).
pub const KEPT: usize = 300;
/// Samples kept per topic (five minutes).
pub const TOPIC_KEPT: usize = 150;
/// Groups whose lag is followed.
const GROUPS_FOLLOWED: usize = 100;

/// The cluster over one interval.
#[derive(Debug, Clone, Serialize)]
pub struct Sample {
    /// When it was taken, epoch ms.
    pub time: i64,
    /// Records written per second (from the log end offsets).
    pub records_in_per_sec: f64,
    /// Record-batch bytes written per second (from the brokers' metrics).
    pub bytes_in_per_sec: Option<f64>,
    /// Record-batch bytes fetched per second.
    pub bytes_out_per_sec: Option<f64>,
    /// Records fetched per second.
    pub records_out_per_sec: Option<f64>,
    /// Mean produce latency over the interval, ms.
    pub produce_latency_ms: Option<f64>,
    /// Requests handled per second (every API).
    pub requests_per_sec: Option<f64>,
    /// Bytes on disk, every partition.
    pub disk_bytes: Option<f64>,
}

/// A topic's latest rates and size.
#[derive(Debug, Clone, Default, Serialize)]
pub struct TopicRates {
    /// Records written per second.
    pub records_per_sec: f64,
    /// Bytes written per second (from the brokers' metrics).
    pub bytes_per_sec: Option<f64>,
    /// Bytes on disk.
    pub size_bytes: Option<f64>,
}

/// What `/api/metrics` answers.
#[derive(Debug, Clone, Serialize)]
pub struct Metrics {
    /// Milliseconds between samples.
    pub interval_ms: u64,
    /// Whether the brokers' metrics are read (else only offsets).
    pub broker_metrics: bool,
    /// Oldest first.
    pub samples: Vec<Sample>,
    /// Per topic, from the latest interval.
    pub topics: BTreeMap<String, TopicRates>,
}

/// Counters read at one instant.
#[derive(Debug, Default, Clone)]
struct Reading {
    at: Option<Instant>,
    end_offsets: BTreeMap<String, i64>,
    prometheus: Option<Scrape>,
}

/// Sums of the brokers' series.
#[derive(Debug, Default, Clone)]
struct Scrape {
    bytes_in: f64,
    bytes_out: f64,
    records_out: f64,
    requests: f64,
    produce_count: f64,
    produce_seconds: f64,
    disk: f64,
    topic_bytes_in: BTreeMap<String, f64>,
    topic_disk: BTreeMap<String, f64>,
}

#[derive(Default)]
struct History {
    samples: VecDeque<Sample>,
    topics: BTreeMap<String, TopicRates>,
    /// Per topic: (epoch ms, records / s, bytes / s) over the last [`TOPIC_KEPT`] samples.
    topic_series: BTreeMap<String, VecDeque<(i64, f64, Option<f64>)>>,
    lags: BTreeMap<String, VecDeque<(i64, i64)>>,
}

/// The sampler thread and what it has seen.
pub struct Sampler {
    history: Arc<Mutex<History>>,
    stop: Arc<AtomicBool>,
    thread: Option<std::thread::JoinHandle<()>>,
    broker_metrics: bool,
}

fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64)
}

/// Reads the series Brook's broker exports (`brook_bytes_in_total{topic=…}`, …) from the text
/// exposition format, summed over labels.
fn parse_prometheus(text: &str, into: &mut Scrape) {
    for line in text.lines() {
        if line.starts_with('#') || line.is_empty() {
            continue;
        }
        let (series, value) = match line.rsplit_once(' ') {
            Some((s, v)) => (s, v.parse::<f64>().unwrap_or(0.0)),
            None => continue,
        };
        let (name, labels) = match series.split_once('{') {
            Some((n, l)) => (n, l.trim_end_matches('}')),
            None => (series, ""),
        };
        let label = |key: &str| {
            labels.split(',').find_map(|pair| {
                let (k, v) = pair.split_once('=')?;
                (k == key).then(|| v.trim_matches('"').to_string())
            })
        };
        match name.strip_prefix("brook_").unwrap_or(name) {
            "bytes_in_total" => {
                into.bytes_in += value;
                if let Some(t) = label("topic") {
                    *into.topic_bytes_in.entry(t).or_default() += value;
                }
            }
            "bytes_out_total" => into.bytes_out += value,
            "records_out_total" => into.records_out += value,
            "requests_total" => into.requests += value,
            "request_duration_seconds_count" if label("api").as_deref() == Some("Produce") => {
                into.produce_count += value;
            }
            "request_duration_seconds_sum" if label("api").as_deref() == Some("Produce") => {
                into.produce_seconds += value;
            }
            "partition_size_bytes" => {
                into.disk += value;
                if let Some(t) = label("topic") {
                    *into.topic_disk.entry(t).or_default() += value;
                }
            }
            _ => {}
        }
    }
}

fn scrape(agent: &ureq::Agent, urls: &[String]) -> Option<Scrape> {
    if urls.is_empty() {
        return None;
    }
    let mut scrape = Scrape::default();
    for url in urls {
        let text = agent
            .get(url)
            .call()
            .ok()?
            .body_mut()
            .read_to_string()
            .ok()?;
        parse_prometheus(&text, &mut scrape);
    }
    Some(scrape)
}

impl Sampler {
    /// Starts sampling `cluster` (and `metrics_urls`, the brokers' Prometheus endpoints).
    pub fn start(cluster: Arc<Cluster>, metrics_urls: Vec<String>) -> Sampler {
        let history = Arc::new(Mutex::new(History::default()));
        let stop = Arc::new(AtomicBool::new(false));
        let broker_metrics = !metrics_urls.is_empty();
        let thread = {
            let history = history.clone();
            let stop = stop.clone();
            std::thread::Builder::new()
                .name("console-sampler".into())
                .spawn(move || run(&cluster, &metrics_urls, &history, &stop))
                .ok()
        };
        Sampler {
            history,
            stop,
            thread,
            broker_metrics,
        }
    }

    /// The samples so far and the topics' latest rates.
    pub fn metrics(&self) -> Metrics {
        let history = self.history.lock().unwrap_or_else(|p| p.into_inner());
        Metrics {
            interval_ms: INTERVAL.as_millis() as u64,
            broker_metrics: self.broker_metrics,
            samples: history.samples.iter().cloned().collect(),
            topics: history.topics.clone(),
        }
    }

    /// `topic`'s (epoch ms, records / s, bytes / s), oldest first.
    pub fn topic_history(&self, topic: &str) -> Vec<(i64, f64, Option<f64>)> {
        let history = self.history.lock().unwrap_or_else(|p| p.into_inner());
        history
            .topic_series
            .get(topic)
            .map(|l| l.iter().copied().collect())
            .unwrap_or_default()
    }

    /// `group`'s total lag over time: (epoch ms, lag), oldest first.
    pub fn lag_history(&self, group: &str) -> Vec<(i64, i64)> {
        let history = self.history.lock().unwrap_or_else(|p| p.into_inner());
        history
            .lags
            .get(group)
            .map(|l| l.iter().copied().collect())
            .unwrap_or_default()
    }

    /// Asks the thread to stop (it ends within 100 ms, or after a sample under way).
    pub fn halt(&self) {
        self.stop.store(true, Ordering::Release);
    }
}

impl Drop for Sampler {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Release);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

fn sleep_unless_stopped(stop: &AtomicBool, time: Duration) -> bool {
    let until = Instant::now() + time;
    while Instant::now() < until {
        if stop.load(Ordering::Acquire) {
            return false;
        }
        std::thread::sleep(Duration::from_millis(100).min(until - Instant::now()));
    }
    !stop.load(Ordering::Acquire)
}

fn run(cluster: &Cluster, urls: &[String], history: &Mutex<History>, stop: &AtomicBool) {
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .timeout_global(Some(Duration::from_secs(2)))
        .build()
        .into();
    let mut last = Reading::default();
    let mut last_groups: Option<Instant> = None;
    loop {
        let reading = Reading {
            at: Some(Instant::now()),
            end_offsets: cluster.end_offsets_by_topic().unwrap_or_default(),
            prometheus: scrape(&agent, urls),
        };
        if let Some(before) = last.at {
            let seconds = before.elapsed().as_secs_f64().max(0.001);
            let (sample, topics) = difference(&last, &reading, seconds);
            let mut h = history.lock().unwrap_or_else(|p| p.into_inner());
            h.samples.push_back(sample);
            while h.samples.len() > KEPT {
                h.samples.pop_front();
            }
            let time = h.samples.back().map_or(0, |s| s.time);
            h.topic_series.retain(|t, _| topics.contains_key(t));
            for (topic, rates) in &topics {
                let series = h.topic_series.entry(topic.clone()).or_default();
                series.push_back((time, rates.records_per_sec, rates.bytes_per_sec));
                while series.len() > TOPIC_KEPT {
                    series.pop_front();
                }
            }
            h.topics = topics;
        }
        last = reading;
        if last_groups.is_none_or(|t| t.elapsed() >= GROUP_INTERVAL) {
            last_groups = Some(Instant::now());
            if let Ok(groups) = cluster.groups_lag(GROUPS_FOLLOWED) {
                let time = now_ms();
                let mut h = history.lock().unwrap_or_else(|p| p.into_inner());
                h.lags.retain(|g, _| groups.contains_key(g));
                for (group, lag) in groups {
                    let series = h.lags.entry(group).or_default();
                    series.push_back((time, lag));
                    while series.len() > KEPT {
                        series.pop_front();
                    }
                }
            }
        }
        if !sleep_unless_stopped(stop, INTERVAL) {
            return;
        }
    }
}

/// Rates between two readings `seconds` apart.
fn difference(
    before: &Reading,
    now: &Reading,
    seconds: f64,
) -> (Sample, BTreeMap<String, TopicRates>) {
    let rate = |a: f64, b: f64| ((b - a) / seconds).max(0.0);
    let mut topics = BTreeMap::new();
    let mut records_in = 0.0;
    for (topic, end) in &now.end_offsets {
        let r = before
            .end_offsets
            .get(topic)
            .map_or(0.0, |b| rate(*b as f64, *end as f64));
        records_in += r;
        topics.insert(
            topic.clone(),
            TopicRates {
                records_per_sec: r,
                ..TopicRates::default()
            },
        );
    }
    let both = before.prometheus.as_ref().zip(now.prometheus.as_ref());
    if let Some((a, b)) = both {
        for (topic, rates) in &mut topics {
            rates.bytes_per_sec = Some(rate(
                a.topic_bytes_in.get(topic).copied().unwrap_or(0.0),
                b.topic_bytes_in.get(topic).copied().unwrap_or(0.0),
            ));
            rates.size_bytes = b.topic_disk.get(topic).copied();
        }
    }
    let sample = Sample {
        time: now_ms(),
        records_in_per_sec: records_in,
        bytes_in_per_sec: both.map(|(a, b)| rate(a.bytes_in, b.bytes_in)),
        bytes_out_per_sec: both.map(|(a, b)| rate(a.bytes_out, b.bytes_out)),
        records_out_per_sec: both.map(|(a, b)| rate(a.records_out, b.records_out)),
        produce_latency_ms: both.and_then(|(a, b)| {
            let count = b.produce_count - a.produce_count;
            (count > 0.0).then(|| (b.produce_seconds - a.produce_seconds) / count * 1000.0)
        }),
        requests_per_sec: both.map(|(a, b)| rate(a.requests, b.requests)),
        disk_bytes: now.prometheus.as_ref().map(|p| p.disk),
    };
    (sample, topics)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn brooks_exposition_is_summed_over_labels() {
        let text = "# HELP bytes_in Record-batch bytes appended.\n\
            # TYPE bytes_in counter\n\
            brook_bytes_in_total{topic=\"rides\"} 1000\n\
            brook_bytes_in_total{topic=\"orders\"} 500\n\
            brook_request_duration_seconds_sum{api=\"Produce\"} 0.5\n\
            brook_request_duration_seconds_count{api=\"Produce\"} 100\n\
            brook_request_duration_seconds_count{api=\"Fetch\"} 7\n\
            brook_request_duration_seconds_bucket{le=\"0.1\",api=\"Produce\"} 100\n\
            brook_partition_size_bytes{topic=\"rides\",partition=\"0\"} 4096\n\
            brook_partition_size_bytes{topic=\"rides\",partition=\"1\"} 4096\n";
        let mut s = Scrape::default();
        parse_prometheus(text, &mut s);
        assert_eq!(s.bytes_in, 1500.0);
        assert_eq!(s.topic_bytes_in["rides"], 1000.0);
        assert_eq!(s.produce_count, 100.0);
        assert_eq!(s.produce_seconds, 0.5);
        assert_eq!(s.disk, 8192.0);
        assert_eq!(s.topic_disk["rides"], 8192.0);
    }

    #[test]
    fn rates_come_from_differences() {
        let before = Reading {
            at: None,
            end_offsets: [("rides".to_string(), 100)].into(),
            prometheus: Some(Scrape {
                bytes_in: 1000.0,
                produce_count: 10.0,
                produce_seconds: 0.01,
                ..Scrape::default()
            }),
        };
        let now = Reading {
            at: None,
            end_offsets: [("rides".to_string(), 300)].into(),
            prometheus: Some(Scrape {
                bytes_in: 5000.0,
                produce_count: 20.0,
                produce_seconds: 0.03,
                disk: 42.0,
                ..Scrape::default()
            }),
        };
        let (sample, topics) = difference(&before, &now, 2.0);
        assert_eq!(sample.records_in_per_sec, 100.0);
        assert_eq!(sample.bytes_in_per_sec, Some(2000.0));
        assert!((sample.produce_latency_ms.unwrap() - 2.0).abs() < 1e-9);
        assert_eq!(sample.disk_bytes, Some(42.0));
        assert_eq!(topics["rides"].records_per_sec, 100.0);
    }
}
