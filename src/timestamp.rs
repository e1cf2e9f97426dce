//! Timestamps as sops reads and writes them.
//!
//! Three places need them: YAML scalars that go-yaml types as timestamps
//! (`type:time` values), the `lastmodified` and `created_at` metadata fields,
//! and the MAC's additional data, which is `lastmodified` parsed and
//! re-formatted. Each follows a Go layout exactly, so this module implements
//! those layouts directly instead of pulling in a date library whose parsing
//! rules would differ at the edges (one-digit months, lowercase `t`, offsets
//! written as `+00:00`).

use std::fmt;
use std::time::{SystemTime, UNIX_EPOCH};

/// A civil date and time with a fixed UTC offset, to nanosecond precision.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct Timestamp {
    pub year: i32,
    pub month: u8,
    pub day: u8,
    pub hour: u8,
    pub minute: u8,
    pub second: u8,
    pub nanos: u32,
    /// Offset from UTC in seconds; zero is written `Z`.
    pub offset_seconds: i32,
}

impl fmt::Debug for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_rfc3339_nano())
    }
}

fn days_in_month(year: i32, month: u8) -> u8 {
    match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 => 29,
        2 => 28,
        _ => 0,
    }
}

/// Days since 1970-01-01 to a civil date (proleptic Gregorian calendar).
fn civil_from_days(days: i64) -> (i32, u8, u8) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let year = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = (doy - (153 * mp + 2) / 5 + 1) as u8;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u8;
    let year = if month <= 2 { year + 1 } else { year };
    (year as i32, month, day)
}

impl Timestamp {
    /// The current UTC time truncated to whole seconds, as sops writes
    /// `lastmodified`.
    pub fn now_utc_seconds() -> Timestamp {
        let secs = SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_secs() as i64).unwrap_or(0);
        Timestamp::from_unix_seconds(secs)
    }

    /// The UTC civil time of a Unix timestamp.
    pub fn from_unix_seconds(secs: i64) -> Timestamp {
        let days = secs.div_euclid(86_400);
        let rem = secs.rem_euclid(86_400);
        let (year, month, day) = civil_from_days(days);
        Timestamp {
            year,
            month,
            day,
            hour: (rem / 3600) as u8,
            minute: (rem % 3600 / 60) as u8,
            second: (rem % 60) as u8,
            nanos: 0,
            offset_seconds: 0,
        }
    }

    fn write_date_time(&self, out: &mut String) {
        use fmt::Write;
        let _ = write!(
            out,
            "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}",
            self.year, self.month, self.day, self.hour, self.minute, self.second
        );
    }

    fn write_offset(&self, out: &mut String) {
        use fmt::Write;
        if self.offset_seconds == 0 {
            out.push('Z');
        } else {
            let sign = if self.offset_seconds < 0 { '-' } else { '+' };
            let abs = self.offset_seconds.unsigned_abs();
            let _ = write!(out, "{sign}{:02}:{:02}", abs / 3600, abs % 3600 / 60);
        }
    }

    /// Go's `time.RFC3339` layout: seconds precision, `Z` for a zero offset.
    /// This is the form of `lastmodified` and the MAC's additional data.
    pub fn to_rfc3339(&self) -> String {
        let mut out = String::with_capacity(25);
        self.write_date_time(&mut out);
        self.write_offset(&mut out);
        out
    }

    /// Go's `time.RFC3339Nano` (and `MarshalText`): fractional seconds with
    /// trailing zeros removed, none at all when they are zero. This is the
    /// plaintext of a `type:time` value and how go-yaml writes timestamps.
    pub fn to_rfc3339_nano(&self) -> String {
        let mut out = String::with_capacity(35);
        self.write_date_time(&mut out);
        if self.nanos != 0 {
            let frac = format!("{:09}", self.nanos);
            out.push('.');
            out.push_str(frac.trim_end_matches('0'));
        }
        self.write_offset(&mut out);
        out
    }

    /// Go's `time.Parse(time.RFC3339, s)`, which also accepts fractional
    /// seconds: `YYYY-MM-DDTHH:MM:SS[.frac](Z|±hh:mm)`.
    pub fn parse_rfc3339(text: &str) -> Option<Timestamp> {
        let mut cursor = Cursor::new(text);
        let ts = cursor.date_time(Widths::STRICT, b"T")?;
        let ts = cursor.zone(ts)?;
        cursor.at_end().then_some(ts)
    }

    /// The timestamp forms go-yaml v3 recognises in a plain scalar (spec
    /// 8.1.2): `YYYY-M-DTh:m:s[.frac](Z|±hh:mm)` (also with a lowercase `t`),
    /// `YYYY-M-D h:m:s[.frac]` in UTC, and `YYYY-M-D` at UTC midnight.
    pub fn parse_yaml(text: &str) -> Option<Timestamp> {
        // Full date-time with a zone, `T` or `t`.
        let mut cursor = Cursor::new(text);
        if let Some(ts) = cursor.date_time(Widths::LOOSE, b"Tt")
            && let Some(ts) = cursor.zone(ts)
            && cursor.at_end()
        {
            return Some(ts);
        }
        // Space separated, no zone.
        let mut cursor = Cursor::new(text);
        if let Some(ts) = cursor.date_time(Widths::LOOSE, b" ")
            && cursor.at_end()
        {
            return Some(ts);
        }
        // Date only.
        let mut cursor = Cursor::new(text);
        let ts = cursor.date(Widths::LOOSE)?;
        cursor.at_end().then_some(ts)
    }
}

/// How many digits each date and time field may have.
#[derive(Clone, Copy)]
struct Widths {
    /// Month, day, hour, minute and second: minimum digits.
    min: usize,
}

impl Widths {
    /// RFC 3339: two digits everywhere.
    const STRICT: Widths = Widths { min: 2 };
    /// go-yaml's layouts (`2006-1-2T15:4:5`): one or two digits.
    const LOOSE: Widths = Widths { min: 1 };
}

struct Cursor<'a> {
    bytes: &'a [u8],
    pos: usize,
}

impl<'a> Cursor<'a> {
    fn new(text: &'a str) -> Self {
        Cursor { bytes: text.as_bytes(), pos: 0 }
    }

    fn at_end(&self) -> bool {
        self.pos == self.bytes.len()
    }

    fn expect(&mut self, allowed: &[u8]) -> Option<()> {
        let b = *self.bytes.get(self.pos)?;
        if allowed.contains(&b) {
            self.pos += 1;
            Some(())
        } else {
            None
        }
    }

    fn number(&mut self, min: usize, max: usize) -> Option<u32> {
        let start = self.pos;
        let mut value = 0u32;
        while self.pos < self.bytes.len() && self.pos - start < max && self.bytes[self.pos].is_ascii_digit() {
            value = value * 10 + u32::from(self.bytes[self.pos] - b'0');
            self.pos += 1;
        }
        (self.pos - start >= min).then_some(value)
    }

    fn date(&mut self, widths: Widths) -> Option<Timestamp> {
        let year = self.number(4, 4)? as i32;
        self.expect(b"-")?;
        let month = self.number(widths.min, 2)? as u8;
        self.expect(b"-")?;
        let day = self.number(widths.min, 2)? as u8;
        if !(1..=12).contains(&month) || day == 0 || day > days_in_month(year, month) {
            return None;
        }
        Some(Timestamp { year, month, day, hour: 0, minute: 0, second: 0, nanos: 0, offset_seconds: 0 })
    }

    fn date_time(&mut self, widths: Widths, separators: &[u8]) -> Option<Timestamp> {
        let mut ts = self.date(widths)?;
        self.expect(separators)?;
        ts.hour = self.number(widths.min, 2)? as u8;
        self.expect(b":")?;
        ts.minute = self.number(widths.min, 2)? as u8;
        self.expect(b":")?;
        ts.second = self.number(widths.min, 2)? as u8;
        if ts.hour > 23 || ts.minute > 59 || ts.second > 59 {
            return None;
        }
        if self.bytes.get(self.pos) == Some(&b'.') {
            self.pos += 1;
            let start = self.pos;
            let mut nanos = 0u64;
            while self.pos < self.bytes.len() && self.bytes[self.pos].is_ascii_digit() {
                if self.pos - start < 9 {
                    nanos = nanos * 10 + u64::from(self.bytes[self.pos] - b'0');
                }
                self.pos += 1;
            }
            let digits = self.pos - start;
            if digits == 0 {
                return None;
            }
            for _ in digits..9 {
                nanos *= 10;
            }
            ts.nanos = nanos as u32;
        }
        Some(ts)
    }

    fn zone(&mut self, mut ts: Timestamp) -> Option<Timestamp> {
        match *self.bytes.get(self.pos)? {
            b'Z' => {
                self.pos += 1;
            }
            sign @ (b'+' | b'-') => {
                self.pos += 1;
                let hours = self.number(2, 2)? as i32;
                self.expect(b":")?;
                let minutes = self.number(2, 2)? as i32;
                if hours > 23 || minutes > 59 {
                    return None;
                }
                let offset = hours * 3600 + minutes * 60;
                ts.offset_seconds = if sign == b'-' { -offset } else { offset };
            }
            _ => return None,
        }
        Some(ts)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_like_go() {
        let ts = Timestamp::parse_yaml("2001-12-14t21:59:43.10-05:00").unwrap();
        assert_eq!(ts.to_rfc3339_nano(), "2001-12-14T21:59:43.1-05:00");
        assert_eq!(ts.to_rfc3339(), "2001-12-14T21:59:43-05:00");
        let date = Timestamp::parse_yaml("2024-1-1").unwrap();
        assert_eq!(date.to_rfc3339_nano(), "2024-01-01T00:00:00Z");
        let spaced = Timestamp::parse_yaml("2024-01-01 10:00:00").unwrap();
        assert_eq!(spaced.to_rfc3339_nano(), "2024-01-01T10:00:00Z");
        let zero = Timestamp::parse_rfc3339("2025-01-01T00:00:00+00:00").unwrap();
        assert_eq!(zero.to_rfc3339(), "2025-01-01T00:00:00Z");
    }

    #[test]
    fn rejects_what_go_rejects() {
        assert!(Timestamp::parse_yaml("2024-13-01").is_none());
        assert!(Timestamp::parse_yaml("2023-02-29").is_none());
        assert!(Timestamp::parse_yaml("12:30:00").is_none());
        assert!(Timestamp::parse_yaml("2024-01-01T10:00:00").is_none());
        assert!(Timestamp::parse_rfc3339("2024-1-01T00:00:00Z").is_none());
        assert!(Timestamp::parse_rfc3339("2024-01-01t00:00:00Z").is_none());
        assert!(Timestamp::parse_rfc3339("").is_none());
        assert!(Timestamp::parse_rfc3339("2024-01-01T00:00:00Zjunk").is_none());
    }

    #[test]
    fn unix_seconds_to_civil() {
        assert_eq!(Timestamp::from_unix_seconds(0).to_rfc3339(), "1970-01-01T00:00:00Z");
        assert_eq!(Timestamp::from_unix_seconds(1_735_689_600).to_rfc3339(), "2025-01-01T00:00:00Z");
        assert_eq!(Timestamp::from_unix_seconds(951_782_400).to_rfc3339(), "2000-02-29T00:00:00Z");
    }
}
