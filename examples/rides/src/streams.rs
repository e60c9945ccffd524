//! The course's Kafka Streams examples as Brook Streams topologies, on the JSON rides the
//! course's producers write to `rides_json`:
//! - [`rides_per_location`]: rides counted per pickup location (`PULocationID`);
//! - [`rides_enriched`]: rides joined with a table of pickup zones keyed by location id;
//! - [`rides_per_location_hourly`]: rides counted per pickup location in one-hour tumbling
//!   windows on the pickup time.

use brook_streams::dsl::{
    Consumed, Grouped, KStream, Materialized, Produced, Repartitioned, StreamsBuilder, TimeWindows,
};
use brook_streams::serdes::Serdes;
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
    let (date, time) = text.trim().split_once(' ')?;
    let mut d = date.split('-').map(|p| p.parse::<i64>().ok());
    let (y, m, day) = (d.next()??, d.next()??, d.next()??);
    let mut t = time.split(':').map(|p| p.parse::<i64>().ok());
    let (h, min, s) = (t.next()??, t.next()??, t.next()??);
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
    }
}
