//! The course's Kafka Streams examples as Brook Streams topologies, on the JSON rides the
//! course's producers write to `rides_json`:
//! - [`rides_per_location`]: rides counted per pickup location (`PULocationID`);
//! - [`rides_enriched`]: rides joined with a table of pickup zones keyed by location id;
//! - [`rides_per_location_hourly`]: rides counted per pickup location in one-hour tumbling
//!   windows on the pickup time;
//! - [`hourly_totals`]: rides counted and `total_amount` summed per pickup location in one-hour
//!   windows, from rides keyed by pickup location (no repartition) — the benchmark's topology
//!   (`bench/streams`).

use brook_streams::dsl::{
    Consumed, Grouped, KStream, Materialized, Produced, Repartitioned, StreamsBuilder, TimeWindows,
};
use brook_streams::serdes::{Serde, SerdeError, Serdes};
use brook_streams::topology::Topology;
use brook_streams::windowed::TimeWindowedSerde;
use serde::{Deserialize, Serialize};

use crate::Ride;

/// The input topic.
pub const RIDES: &str = "rides_json";
/// The pickup zones, keyed by location id (8-byte big-endian, Kafka's `LongSerde`).
pub const LOCATIONS: &str = "locations";
/// Output of [`rides_per_location`].
pub const RIDES_PER_LOCATION: &str = "rides-per-location";
/// Output of [`rides_enriched`].
pub const RIDES_ENRICHED: &str = "rides-enriched";
/// Output of [`rides_per_location_hourly`].
pub const RIDES_PER_LOCATION_HOURLY: &str = "rides-per-location-hourly";
/// Output of [`hourly_totals`].
pub const HOURLY_TOTALS: &str = "rides-hourly-totals";
/// One hour in milliseconds.
pub const HOUR: i64 = 3_600_000;
/// How late a ride may arrive for its hourly window (a week).
pub const GRACE: i64 = 7 * 24 * HOUR;

/// A ride with its pickup zone.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EnrichedRide {
    /// Pickup location id.
    pub pu_location_id: i64,
    /// Its zone.
    pub zone: String,
    /// The ride's total.
    pub total_amount: String,
    /// Pickup time.
    pub tpep_pickup_datetime: String,
}

/// `YYYY-MM-DD HH:MM:SS` (UTC) in milliseconds since the epoch; `None` when malformed.
pub fn pickup_millis(text: &str) -> Option<i64> {
    // The fixed-width form every ride has, read without splitting.
    let b = text.as_bytes();
    if b.len() == 19
        && (b[4], b[7], b[10], b[13], b[16]) == (b'-', b'-', b' ', b':', b':')
        && [0, 1, 2, 3, 5, 6, 8, 9, 11, 12, 14, 15, 17, 18]
            .iter()
            .all(|&i| b[i].is_ascii_digit())
    {
        let n = |from: usize, to: usize| {
            b[from..to]
                .iter()
                .fold(0_i64, |n, d| n * 10 + i64::from(d - b'0'))
        };
        return civil_millis(n(0, 4), n(5, 7), n(8, 10), n(11, 13), n(14, 16), n(17, 19));
    }
    let (date, time) = text.trim().split_once(' ')?;
    let mut d = date.split('-').map(|p| p.parse::<i64>().ok());
    let (y, m, day) = (d.next()??, d.next()??, d.next()??);
    let mut t = time.split(':').map(|p| p.parse::<i64>().ok());
    let (h, min, s) = (t.next()??, t.next()??, t.next()??);
    civil_millis(y, m, day, h, min, s)
}

/// A UTC date and time in milliseconds since the epoch; `None` out of range.
fn civil_millis(y: i64, m: i64, day: i64, h: i64, min: i64, s: i64) -> Option<i64> {
    if !(1..=12).contains(&m) || !(1..=31).contains(&day) || h > 23 || min > 59 || s > 60 {
        return None;
    }
    // Days from 1970-01-01 (Howard Hinnant's civil-from-days, inverted).
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    Some(((days * 24 + h) * 60 + min) * 60_000 + s * 1000)
}

fn rides(builder: &StreamsBuilder, event_time: bool) -> KStream<Option<String>, Ride> {
    let consumed = Consumed::with(Serdes::optional(Serdes::string()), Serdes::json::<Ride>());
    let consumed = if event_time {
        consumed.with_timestamp_extractor(|_, ride, stored| {
            pickup_millis(&ride.tpep_pickup_datetime).unwrap_or(stored)
        })
    } else {
        consumed
    };
    builder.stream(RIDES, consumed)
}

/// (a) Rides per pickup location, each update written to `rides-per-location`.
pub fn rides_per_location() -> Topology {
    let builder = StreamsBuilder::new();
    rides(&builder, false)
        .group_by(
            |_, ride| ride.pu_location_id,
            Grouped::with(Serdes::i64(), Serdes::json::<Ride>()).named("rides-by-location"),
        )
        .count(Materialized::with(Serdes::i64(), Serdes::i64()).named("rides-per-location"))
        .to_stream()
        .to(
            RIDES_PER_LOCATION,
            Produced::with(Serdes::i64(), Serdes::i64()),
        );
    builder.build()
}

/// (b) Rides joined with their pickup zone, written to `rides-enriched`; rides whose zone is
/// unknown are dropped.
pub fn rides_enriched() -> Topology {
    let builder = StreamsBuilder::new();
    let zones = builder.table(
        LOCATIONS,
        Consumed::with(Serdes::i64(), Serdes::string()),
        Materialized::with(Serdes::i64(), Serdes::string()).named("zones"),
    );
    rides(&builder, false)
        .select_key(|_, ride| ride.pu_location_id)
        .repartition(
            Repartitioned::with(Serdes::i64(), Serdes::json::<Ride>()).named("rides-by-location"),
        )
        .join(&zones, |ride, zone| EnrichedRide {
            pu_location_id: ride.pu_location_id,
            zone: zone.clone(),
            total_amount: ride.total_amount.clone(),
            tpep_pickup_datetime: ride.tpep_pickup_datetime.clone(),
        })
        .to(
            RIDES_ENRICHED,
            Produced::with(Serdes::i64(), Serdes::json::<EnrichedRide>()),
        );
    builder.build()
}

/// (c) Rides per pickup location per hour of pickup time, written to
/// `rides-per-location-hourly` with Kafka Streams' windowed keys.
pub fn rides_per_location_hourly() -> Topology {
    let builder = StreamsBuilder::new();
    rides(&builder, true)
        .group_by(
            |_, ride| ride.pu_location_id,
            Grouped::with(Serdes::i64(), Serdes::json::<Ride>()).named("rides-by-location"),
        )
        // Records reach a task interleaved from several upstream partitions (the course's 10,000
        // rides span three days), so late records are expected: a week of grace keeps them.
        .windowed_by(TimeWindows::of_size_and_grace(HOUR, GRACE))
        .count(Materialized::with(Serdes::i64(), Serdes::i64()).named("rides-per-location-hourly"))
        .to_stream()
        .to(
            RIDES_PER_LOCATION_HOURLY,
            Produced::with(TimeWindowedSerde::new(Serdes::i64(), HOUR), Serdes::i64()),
        );
    builder.build()
}

/// The fields of a JSON ride that [`hourly_totals`] reads (the others are skipped).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RideFare {
    /// Pickup location (`pu_location_id` as the course's JSON producer writes it, or the CSV
    /// header's `PULocationID`).
    #[serde(alias = "PULocationID")]
    pub pu_location_id: i64,
    /// Pickup time in milliseconds since the epoch (written `YYYY-MM-DD HH:MM:SS`, UTC).
    #[serde(deserialize_with = "millis_of", serialize_with = "millis_text")]
    pub tpep_pickup_datetime: i64,
    /// The ride's total in cents (written as a decimal string or a number).
    #[serde(deserialize_with = "cents_of", serialize_with = "cents_text")]
    pub total_amount: i64,
}

/// Rides and their summed `total_amount` (in cents, so that sums are exact) in one window.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Totals {
    /// Rides.
    pub rides: i64,
    /// Summed `total_amount`, in cents.
    pub total_amount_cents: i64,
}

/// `Totals` in a store: 16 bytes, rides then cents, big-endian.
pub struct TotalsSerde;

impl Serde<Totals> for TotalsSerde {
    fn serialize(&self, _: &str, t: &Totals) -> Result<Vec<u8>, SerdeError> {
        let mut out = Vec::with_capacity(16);
        out.extend_from_slice(&t.rides.to_be_bytes());
        out.extend_from_slice(&t.total_amount_cents.to_be_bytes());
        Ok(out)
    }

    fn deserialize(&self, topic: &str, bytes: &[u8]) -> Result<Totals, SerdeError> {
        let (rides, cents) = bytes
            .split_at_checked(8)
            .filter(|(_, c)| c.len() == 8)
            .ok_or_else(|| SerdeError::deserialize(topic, "totals", "not 16 bytes"))?;
        Ok(Totals {
            rides: i64::from_be_bytes(rides.try_into().expect("8 bytes")),
            total_amount_cents: i64::from_be_bytes(cents.try_into().expect("8 bytes")),
        })
    }
}

/// A decimal amount as cents: `"18.5"` → 1850, `"-2"` → -200; `None` when malformed.
pub fn cents(text: &str) -> Option<i64> {
    let text = text.trim();
    let (negative, digits) = match text.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, text),
    };
    let (whole, fraction) = digits.split_once('.').unwrap_or((digits, ""));
    if whole.is_empty() && fraction.is_empty() || fraction.len() > 2 {
        return None;
    }
    let whole: i64 = if whole.is_empty() {
        0
    } else {
        whole.parse().ok()?
    };
    let mut frac: i64 = if fraction.is_empty() {
        0
    } else {
        fraction.parse().ok()?
    };
    if fraction.len() == 1 {
        frac *= 10;
    }
    let value = whole.checked_mul(100)?.checked_add(frac)?;
    Some(if negative { -value } else { value })
}

/// Milliseconds since the epoch as `YYYY-MM-DD HH:MM:SS` (UTC): [`pickup_millis`] inverted.
pub fn format_millis(millis: i64) -> String {
    let secs = millis.div_euclid(1000);
    let days = secs.div_euclid(86_400);
    let rem = secs.rem_euclid(86_400);
    // Howard Hinnant's days-to-civil.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02} {:02}:{:02}:{:02}",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

fn millis_text<S: serde::Serializer>(millis: &i64, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&format_millis(*millis))
}

fn millis_of<'de, D: serde::Deserializer<'de>>(d: D) -> Result<i64, D::Error> {
    struct Time;
    impl serde::de::Visitor<'_> for Time {
        type Value = i64;
        fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str("a time as YYYY-MM-DD HH:MM:SS")
        }
        fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<i64, E> {
            pickup_millis(v).ok_or_else(|| E::custom(format!("not a time: {v:?}")))
        }
    }
    d.deserialize_str(Time)
}

/// Cents as a decimal amount with two decimals: 1850 → `"18.50"` ([`cents`] inverted).
pub fn format_cents(cents: i64) -> String {
    let sign = if cents < 0 { "-" } else { "" };
    let abs = cents.unsigned_abs();
    format!("{sign}{}.{:02}", abs / 100, abs % 100)
}

fn cents_text<S: serde::Serializer>(cents: &i64, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&format_cents(*cents))
}

fn cents_of<'de, D: serde::Deserializer<'de>>(d: D) -> Result<i64, D::Error> {
    struct Amount;
    impl serde::de::Visitor<'_> for Amount {
        type Value = i64;
        fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str("an amount as a decimal string or a number")
        }
        fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<i64, E> {
            cents(v).ok_or_else(|| E::custom(format!("not an amount: {v:?}")))
        }
        fn visit_f64<E: serde::de::Error>(self, v: f64) -> Result<i64, E> {
            Ok((v * 100.0).round() as i64)
        }
        fn visit_i64<E: serde::de::Error>(self, v: i64) -> Result<i64, E> {
            Ok(v * 100)
        }
        fn visit_u64<E: serde::de::Error>(self, v: u64) -> Result<i64, E> {
            Ok(v as i64 * 100)
        }
    }
    d.deserialize_any(Amount)
}

/// Rides counted and `total_amount` summed per pickup location in one-hour tumbling windows
/// of pickup time, from rides keyed by pickup location (as the course's JSON producer keys
/// them), written to `rides-hourly-totals` as JSON [`Totals`] under Kafka Streams' windowed
/// keys. The store keeps [`Totals`] in 16 bytes.
pub fn hourly_totals() -> Topology {
    let builder = StreamsBuilder::new();
    builder
        .stream(
            RIDES,
            Consumed::with(Serdes::string(), Serdes::json::<RideFare>())
                .with_timestamp_extractor(|_, ride, _| ride.tpep_pickup_datetime),
        )
        .group_by_key(Grouped::with(Serdes::string(), Serdes::json::<RideFare>()))
        .windowed_by(TimeWindows::of_size_and_grace(HOUR, GRACE))
        .aggregate(
            Totals::default,
            |_, ride, totals| Totals {
                rides: totals.rides + 1,
                total_amount_cents: totals.total_amount_cents + ride.total_amount,
            },
            Materialized::with(Serdes::string(), TotalsSerde).named("hourly-totals"),
        )
        .to_stream()
        .to(
            HOURLY_TOTALS,
            Produced::with(
                TimeWindowedSerde::new(Serdes::string(), HOUR),
                Serdes::json::<Totals>(),
            ),
        );
    builder.build()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pickup_times_are_utc_milliseconds() {
        assert_eq!(pickup_millis("1970-01-01 00:00:00"), Some(0));
        assert_eq!(
            pickup_millis("2020-07-01 00:15:43"),
            Some(1_593_562_543_000)
        );
        assert_eq!(pickup_millis("2000-02-29 12:00:00"), Some(951_825_600_000));
        assert_eq!(pickup_millis("not a time"), None);
        for text in [
            "2020-07-01 00:00:00",
            "2020-07-31 23:59:59",
            "2000-02-29 12:00:01",
        ] {
            assert_eq!(format_millis(pickup_millis(text).unwrap()), text);
        }
    }

    #[test]
    fn amounts_become_exact_cents() {
        assert_eq!(cents("18.5"), Some(1850));
        assert_eq!(cents("15.68"), Some(1568));
        assert_eq!(cents("-2"), Some(-200));
        assert_eq!(cents(".5"), Some(50));
        assert_eq!(cents("1.234"), None);
        assert_eq!(cents("x"), None);
        let fare: RideFare = serde_json::from_str(
            r#"{"VendorID":2,"PULocationID":142,"tpep_pickup_datetime":"2020-07-01 00:00:00","total_amount":"18.5"}"#,
        )
        .unwrap();
        assert_eq!(fare.total_amount, 1850);
        let fare: RideFare = serde_json::from_str(
            r#"{"PULocationID":142,"tpep_pickup_datetime":"2020-07-01 00:00:00","total_amount":18.5}"#,
        )
        .unwrap();
        assert_eq!(fare.total_amount, 1850);
        let again: RideFare = serde_json::from_slice(&serde_json::to_vec(&fare).unwrap()).unwrap();
        assert_eq!(again, fare);
    }
}
