//! brook-time: dates and times as Java and Kafka's tools write them — ksqlDB's text forms,
//! and Java `SimpleDateFormat`/`DateTimeFormatter` patterns (`yyyy-MM-dd HH:mm:ss.SSS`),
//! translated to chrono's formats. Brook SQL's date functions (`TIMESTAMPTOSTRING`,
//! `PARSE_TIMESTAMP`, …) and Brook Connect's `TimestampConverter` and `TimestampRouter`
//! share them.
//!
//! Time zones: `UTC`, `Z`, `GMT`, fixed offsets (`+05:30`, `-0800`, `UTC+2`) and the IANA
//! database's region names (`America/New_York`, from the `chrono-tz` crate), with their
//! daylight-saving rules. A local time that a clock change skips is moved forward by the gap,
//! and one that occurs twice is the earlier, as Java's `ZonedDateTime` does.
//!
//! One file: text forms (`format_date`, `parse_timestamp_text`, …), zones (`zone`,
//! `convert_zone`), and Java patterns (`chrono_format`, `DatePattern`, `format_millis`,
//! `parse_millis`).
//!
//! ```
//! let ms = brook_time::parse_millis("2020-07-01 00:25:32", "yyyy-MM-dd HH:mm:ss", Some("UTC"))?;
//! assert_eq!(ms, 1_593_563_132_000);
//! let text = brook_time::format_millis(ms, "dd/MM/yyyy HH:mm", Some("America/New_York"))?;
//! assert_eq!(text, "30/06/2020 20:25");
//! # Ok::<(), String>(())
//! ```

use chrono::{DateTime, FixedOffset, NaiveDate, NaiveDateTime, NaiveTime, TimeZone, Utc};

const DAY_MS: i64 = 86_400_000;

/// `yyyy-MM-dd` for days since the epoch.
pub fn format_date(days: i32) -> String {
    date_of_days(days).map_or_else(|| days.to_string(), |d| d.format("%Y-%m-%d").to_string())
}

/// `HH:mm:ss` (with `.SSS` when there are milliseconds) for milliseconds since midnight.
pub fn format_time(ms: i64) -> String {
    let ms = ms.rem_euclid(DAY_MS);
    let (h, m, s, f) = (ms / 3_600_000, ms / 60_000 % 60, ms / 1000 % 60, ms % 1000);
    if f == 0 {
        format!("{h:02}:{m:02}:{s:02}")
    } else {
        format!("{h:02}:{m:02}:{s:02}.{f:03}")
    }
}

/// `yyyy-MM-ddTHH:mm:ss.SSS`, as ksqlDB writes TIMESTAMP values in JSON and results.
pub fn format_timestamp_iso(ms: i64) -> String {
    match Utc.timestamp_millis_opt(ms).single() {
        Some(t) => t.format("%Y-%m-%dT%H:%M:%S%.3f").to_string(),
        None => ms.to_string(),
    }
}

/// The date of days since the epoch.
pub fn date_of_days(days: i32) -> Option<NaiveDate> {
    NaiveDate::from_ymd_opt(1970, 1, 1)?.checked_add_signed(chrono::Duration::days(i64::from(days)))
}

/// Days since the epoch of a date.
pub fn days_of_date(date: NaiveDate) -> i32 {
    let epoch = NaiveDate::from_ymd_opt(1970, 1, 1).expect("the epoch is a date");
    (date - epoch).num_days() as i32
}

/// Milliseconds in a time unit as ksqlDB names them (`MILLISECOND(S)`, `SECOND(S)`,
/// `MINUTE(S)`, `HOUR(S)`, `DAY(S)`, any case).
pub fn unit_millis(unit: &str) -> Option<i64> {
    Some(
        match unit.trim().to_ascii_uppercase().trim_end_matches('S') {
            "MILLISECOND" => 1,
            "SECOND" => 1000,
            "MINUTE" => 60_000,
            "HOUR" => 3_600_000,
            "DAY" => 86_400_000,
            _ => return None,
        },
    )
}

/// A time zone: a fixed offset or a region with its rules.
#[derive(Debug, Clone, Copy)]
pub enum Zone {
    /// `UTC`, `+05:30`.
    Fixed(FixedOffset),
    /// `America/New_York`.
    Region(chrono_tz::Tz),
}

impl Zone {
    /// The UTC milliseconds of a local date and time in this zone.
    fn local_millis(&self, local: NaiveDateTime) -> Option<i64> {
        fn resolve<Z: TimeZone>(z: &Z, local: NaiveDateTime) -> Option<i64> {
            use chrono::LocalResult;
            match z.from_local_datetime(&local) {
                LocalResult::Single(t) | LocalResult::Ambiguous(t, _) => Some(t.timestamp_millis()),
                // In a gap (clocks moved forward an hour): the local time an hour later.
                LocalResult::None => z
                    .from_local_datetime(&(local + chrono::Duration::hours(1)))
                    .earliest()
                    .map(|t| t.timestamp_millis()),
            }
        }
        match self {
            Zone::Fixed(offset) => resolve(offset, local),
            Zone::Region(tz) => resolve(tz, local),
        }
    }

    /// This zone's offset from UTC, in seconds, at the instant `ms`.
    fn offset_at(&self, ms: i64) -> Option<i32> {
        use chrono::Offset;
        let utc = DateTime::from_timestamp_millis(ms)?.naive_utc();
        Some(match self {
            Zone::Fixed(offset) => offset.local_minus_utc(),
            Zone::Region(tz) => tz.offset_from_utc_datetime(&utc).fix().local_minus_utc(),
        })
    }

    /// `ms` formatted with a chrono format in this zone.
    fn format(&self, ms: i64, format: &str) -> Option<String> {
        use std::fmt::Write;
        let mut out = String::new();
        let written = match self {
            Zone::Fixed(offset) => write!(
                out,
                "{}",
                offset.timestamp_millis_opt(ms).single()?.format(format)
            ),
            Zone::Region(tz) => write!(
                out,
                "{}",
                tz.timestamp_millis_opt(ms).single()?.format(format)
            ),
        };
        written.ok().map(|()| out)
    }
}

/// A time zone ksqlDB functions accept: UTC, a fixed offset or a region name.
pub fn zone(name: &str) -> Result<Zone, String> {
    match fixed_zone(name) {
        Ok(offset) => Ok(Zone::Fixed(offset)),
        Err(e) => name
            .trim()
            .parse::<chrono_tz::Tz>()
            .map(Zone::Region)
            .map_err(|_| e),
    }
}

fn fixed_zone(name: &str) -> Result<FixedOffset, String> {
    let n = name.trim();
    let upper = n.to_ascii_uppercase();
    let rest = ["UTC", "GMT", "Z", "UT"]
        .iter()
        .find_map(|p| upper.strip_prefix(p))
        .unwrap_or(&upper);
    if rest.is_empty() {
        return Ok(FixedOffset::east_opt(0).expect("zero is an offset"));
    }
    let (sign, digits) = match rest.as_bytes()[0] {
        b'+' => (1, &rest[1..]),
        b'-' => (-1, &rest[1..]),
        _ => {
            return Err(format!(
                "unknown time zone '{name}': use UTC, an offset such as +05:30 or a region such as America/New_York"
            ));
        }
    };
    let digits: String = digits.chars().filter(|c| *c != ':').collect();
    let (h, m) = match digits.len() {
        1 | 2 => (digits.parse::<i32>().ok(), Some(0)),
        3 | 4 => {
            let (h, m) = digits.split_at(digits.len() - 2);
            (h.parse().ok(), m.parse().ok())
        }
        _ => (None, None),
    };
    match (h, m) {
        (Some(h), Some(m)) if h <= 18 && m < 60 => {
            FixedOffset::east_opt(sign * (h * 3600 + m * 60))
                .ok_or_else(|| format!("bad offset '{name}'"))
        }
        _ => Err(format!("unknown time zone '{name}'")),
    }
}

/// A Java date pattern as a chrono format string.
pub fn chrono_format(pattern: &str) -> String {
    let chars: Vec<char> = pattern.chars().collect();
    let mut out = String::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if c == '\'' {
            // Quoted literal text; '' is a quote.
            let mut j = i + 1;
            if chars.get(j) == Some(&'\'') {
                out.push('\'');
                i += 2;
                continue;
            }
            while j < chars.len() {
                if chars[j] == '\'' {
                    if chars.get(j + 1) == Some(&'\'') {
                        out.push('\'');
                        j += 2;
                        continue;
                    }
                    break;
                }
                push_literal(&mut out, chars[j]);
                j += 1;
            }
            i = j + 1;
            continue;
        }
        let mut n = 1;
        while i + n < chars.len() && chars[i + n] == c {
            n += 1;
        }
        let spec = match (c, n) {
            ('y' | 'u', 2) => "%y".to_string(),
            ('y' | 'u', _) => "%Y".to_string(),
            ('M' | 'L', 1) => "%-m".to_string(),
            ('M' | 'L', 2) => "%m".to_string(),
            ('M' | 'L', 3) => "%b".to_string(),
            ('M' | 'L', _) => "%B".to_string(),
            ('d', 1) => "%-d".to_string(),
            ('d', _) => "%d".to_string(),
            ('D', _) => "%j".to_string(),
            ('H', 1) => "%-H".to_string(),
            ('H', _) => "%H".to_string(),
            ('h', 1) => "%-I".to_string(),
            ('h', _) => "%I".to_string(),
            ('m', 1) => "%-M".to_string(),
            ('m', _) => "%M".to_string(),
            ('s', 1) => "%-S".to_string(),
            ('s', _) => "%S".to_string(),
            ('S', n) => format!("%{}f", n.min(9)),
            ('a', _) => "%p".to_string(),
            ('E', 1..=3) => "%a".to_string(),
            ('E', _) => "%A".to_string(),
            ('z', _) => "%Z".to_string(),
            ('Z', _) => "%z".to_string(),
            ('X' | 'x', 1) => "%#z".to_string(),
            ('X' | 'x', _) => "%:z".to_string(),
            _ => {
                for _ in 0..n {
                    push_literal(&mut out, c);
                }
                i += n;
                continue;
            }
        };
        out.push_str(&spec);
        i += n;
    }
    out
}

fn push_literal(out: &mut String, c: char) {
    match c {
        '%' => out.push_str("%%"),
        c => out.push(c),
    }
}

/// A Java date pattern compiled once, for parsing many values with it (a source's
/// `TIMESTAMP_FORMAT`).
#[derive(Debug, Clone)]
pub struct DatePattern {
    pattern: String,
    /// `yyyy-MM-dd HH:mm:ss`, read without chrono.
    plain: bool,
    items: Vec<chrono::format::Item<'static>>,
    zoned: bool,
    zone: Zone,
}

impl DatePattern {
    /// Compiles `pattern`, for times in `zone` (UTC when None) unless the text has one.
    pub fn new(pattern: &str, zone_name: Option<&str>) -> Result<DatePattern, String> {
        let format = chrono_format(pattern);
        let items = chrono::format::StrftimeItems::new(&format)
            .parse_to_owned()
            .map_err(|e| format!("'{pattern}' is not a valid date format: {e}"))?;
        Ok(DatePattern {
            pattern: pattern.to_string(),
            plain: pattern == "yyyy-MM-dd HH:mm:ss",
            items,
            zoned: format.contains("%z") || format.contains("%:z") || format.contains("%#z"),
            zone: zone(zone_name.unwrap_or("UTC"))?,
        })
    }

    /// Milliseconds since the epoch of `text`.
    pub fn parse(&self, text: &str) -> Result<i64, String> {
        if self.plain
            && let Some(local) = plain_local(text)
        {
            return self
                .zone
                .local_millis(local)
                .ok_or_else(|| format!("'{text}' is not a time"));
        }
        let mut parsed = chrono::format::Parsed::new();
        chrono::format::parse(&mut parsed, text, self.items.iter())
            .map_err(|e| format!("cannot parse '{text}' with format '{}': {e}", self.pattern))?;
        if self.zoned {
            return parsed
                .to_datetime()
                .map(|t| t.timestamp_millis())
                .map_err(|e| format!("cannot parse '{text}' with format '{}': {e}", self.pattern));
        }
        let date = parsed
            .to_naive_date()
            .unwrap_or_else(|_| NaiveDate::from_ymd_opt(1970, 1, 1).expect("a date"));
        let time = parsed.to_naive_time().unwrap_or(NaiveTime::MIN);
        self.zone
            .local_millis(date.and_time(time))
            .ok_or_else(|| format!("'{text}' is not a time"))
    }
}

/// `yyyy-MM-dd HH:mm:ss`, read digit by digit.
fn plain_local(text: &str) -> Option<NaiveDateTime> {
    let b = text.as_bytes();
    if b.len() != 19 || (b[4], b[7], b[10], b[13], b[16]) != (b'-', b'-', b' ', b':', b':') {
        return None;
    }
    let n = |from: usize, to: usize| -> Option<u32> {
        b[from..to].iter().try_fold(0u32, |n, d| {
            d.is_ascii_digit().then(|| n * 10 + u32::from(d - b'0'))
        })
    };
    let date = NaiveDate::from_ymd_opt(n(0, 4)? as i32, n(5, 7)?, n(8, 10)?)?;
    let time = NaiveTime::from_hms_opt(n(11, 13)?, n(14, 16)?, n(17, 19)?)?;
    Some(date.and_time(time))
}

/// `ms` since the epoch formatted with a Java pattern in a zone.
pub fn format_millis(ms: i64, pattern: &str, zone_name: Option<&str>) -> Result<String, String> {
    let zone = zone(zone_name.unwrap_or("UTC"))?;
    zone.format(ms, &chrono_format(pattern))
        .ok_or_else(|| format!("cannot format {ms} with '{pattern}'"))
}

/// A TIMESTAMP's wall-clock time in zone `from` as the wall-clock time in zone `to` at the
/// same instant (`CONVERT_TZ`).
pub fn convert_zone(ms: i64, from: &str, to: &str) -> Result<i64, String> {
    let (from, to) = (zone(from)?, zone(to)?);
    let local = DateTime::from_timestamp_millis(ms)
        .ok_or_else(|| format!("{ms} is not a time"))?
        .naive_utc();
    let instant = from
        .local_millis(local)
        .ok_or_else(|| format!("{local} is not a time"))?;
    let offset = to
        .offset_at(instant)
        .ok_or_else(|| format!("{instant} is not a time"))?;
    Ok(instant + i64::from(offset) * 1000)
}

/// Text parsed with a Java pattern in a zone, as milliseconds since the epoch. Missing parts
/// default as Java's do (a date alone is midnight; a time alone is on 1970-01-01).
pub fn parse_millis(text: &str, pattern: &str, zone_name: Option<&str>) -> Result<i64, String> {
    DatePattern::new(pattern, zone_name)?.parse(text)
}

/// ksqlDB's default text forms for TIMESTAMP values: `yyyy-MM-ddTHH:mm:ss[.SSS][offset]`,
/// with a space instead of `T` too, a date alone, or a number of milliseconds.
pub fn parse_timestamp_text(text: &str) -> Option<i64> {
    let t = text.trim();
    if let Ok(ms) = t.parse::<i64>() {
        return Some(ms);
    }
    if let Ok(d) = DateTime::parse_from_rfc3339(t) {
        return Some(d.timestamp_millis());
    }
    for f in [
        "%Y-%m-%dT%H:%M:%S%.f",
        "%Y-%m-%d %H:%M:%S%.f",
        "%Y-%m-%dT%H:%M",
        "%Y-%m-%d %H:%M",
    ] {
        if let Ok(n) = NaiveDateTime::parse_from_str(t, f) {
            return Some(n.and_utc().timestamp_millis());
        }
    }
    NaiveDate::parse_from_str(t, "%Y-%m-%d")
        .ok()
        .map(|d| d.and_time(NaiveTime::MIN).and_utc().timestamp_millis())
}

/// `yyyy-MM-dd` as days since the epoch.
pub fn parse_date_text(text: &str) -> Option<i32> {
    NaiveDate::parse_from_str(text.trim(), "%Y-%m-%d")
        .ok()
        .map(days_of_date)
}

/// `HH:mm[:ss[.SSS]]` as milliseconds since midnight.
pub fn parse_time_text(text: &str) -> Option<i64> {
    let t = text.trim();
    ["%H:%M:%S%.f", "%H:%M"]
        .iter()
        .find_map(|f| NaiveTime::parse_from_str(t, f).ok())
        .map(|t| {
            use chrono::Timelike;
            i64::from(t.num_seconds_from_midnight()) * 1000 + i64::from(t.nanosecond() / 1_000_000)
        })
}

/// Milliseconds now.
pub fn now_millis() -> i64 {
    Utc::now().timestamp_millis()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn java_patterns_round_trip() {
        let ms = parse_millis("2020-01-01 10:15:30.250", "yyyy-MM-dd HH:mm:ss.SSS", None).unwrap();
        assert_eq!(ms, 1_577_873_730_250);
        assert_eq!(
            format_millis(ms, "yyyy-MM-dd HH:mm:ss.SSS", None).unwrap(),
            "2020-01-01 10:15:30.250"
        );
        assert_eq!(
            format_millis(ms, "yyyy-MM-dd'T'HH:mm", Some("+01:00")).unwrap(),
            "2020-01-01T11:15"
        );
        assert_eq!(
            parse_millis("2020-01-02", "yyyy-MM-dd", None).unwrap(),
            1_577_923_200_000
        );
    }

    #[test]
    fn region_zones_follow_daylight_saving() {
        let ny = Some("America/New_York");
        // 2019-07-01 12:00 UTC is 08:00 EDT (UTC-4); 2019-01-01 12:00 UTC is 07:00 EST.
        assert_eq!(
            format_millis(1_561_982_400_000, "yyyy-MM-dd HH:mm:ss", ny).unwrap(),
            "2019-07-01 08:00:00"
        );
        assert_eq!(
            format_millis(1_546_344_000_000, "yyyy-MM-dd HH:mm:ss", ny).unwrap(),
            "2019-01-01 07:00:00"
        );
        assert_eq!(
            parse_millis("2019-07-01 08:00:00", "yyyy-MM-dd HH:mm:ss", ny).unwrap(),
            1_561_982_400_000
        );
        // 2019-03-10 02:30 does not exist in New York: it is 03:30 EDT (07:30 UTC).
        assert_eq!(
            parse_millis("2019-03-10 02:30:00", "yyyy-MM-dd HH:mm:ss", ny).unwrap(),
            1_552_203_000_000
        );
        // 2019-11-03 01:30 happens twice: the earlier, EDT (05:30 UTC).
        assert_eq!(
            parse_millis("2019-11-03 01:30:00", "yyyy-MM-dd HH:mm:ss", ny).unwrap(),
            1_572_759_000_000
        );
        // Noon in New York on 2019-07-01 is 17:00 in London.
        assert_eq!(
            convert_zone(1_561_982_400_000, "America/New_York", "Europe/London").unwrap(),
            1_561_982_400_000 + 5 * 3_600_000
        );
        assert!(
            zone("Mars/Olympus_Mons")
                .unwrap_err()
                .contains("America/New_York")
        );
    }

    #[test]
    fn default_text_forms() {
        assert_eq!(
            format_timestamp_iso(1_577_873_730_250),
            "2020-01-01T10:15:30.250"
        );
        assert_eq!(
            parse_timestamp_text("2020-01-01T10:15:30.250"),
            Some(1_577_873_730_250)
        );
        assert_eq!(format_date(18262), "2020-01-01");
        assert_eq!(parse_date_text("2020-01-01"), Some(18262));
        assert_eq!(format_time(3_723_000), "01:02:03");
    }
}
