//! [`Timestamp`]: a UTC instant stored natively on PostgreSQL and as fixed-width text on SQLite.
//!
//! sqlx writes `OffsetDateTime` to SQLite as RFC 3339 with a variable number of fractional
//! digits, so `'…:06Z'` sorts after `'…:06.5Z'` and range queries go wrong. This type always
//! writes six fractional digits and truncates to microseconds (PostgreSQL's precision), so the
//! same value round-trips identically on both backends and text order is time order.

use std::fmt;

use sqlx::encode::IsNull;
use sqlx::error::BoxDynError;
use sqlx::postgres::{PgArgumentBuffer, PgTypeInfo, PgValueRef};
use sqlx::sqlite::{SqliteArgumentValue, SqliteTypeInfo, SqliteValueRef};
use sqlx::{Decode, Encode, Postgres, Sqlite, Type};
use time::format_description::FormatItem;
use time::macros::format_description;
use time::{Duration, OffsetDateTime, PrimitiveDateTime, UtcOffset};

/// The one text layout used on SQLite.
const SQLITE_FORMAT: &[FormatItem<'static>] =
    format_description!("[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:6]Z");

/// A UTC instant with microsecond precision.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Timestamp(OffsetDateTime);

impl Timestamp {
    /// The current time, truncated to microseconds.
    pub fn now() -> Timestamp {
        Timestamp::from(OffsetDateTime::now_utc())
    }

    /// The wrapped `OffsetDateTime` (always UTC).
    pub fn inner(self) -> OffsetDateTime {
        self.0
    }

    /// Fixed-width text form, also used in audit hashes so they match across backends.
    pub fn to_text(self) -> String {
        // Formatting a valid UTC instant with this description cannot fail; an empty string
        // would only make an audit hash mismatch, never panic.
        self.0.format(SQLITE_FORMAT).unwrap_or_default()
    }

    /// Parses the fixed-width text form.
    pub fn parse_text(text: &str) -> Result<Timestamp, time::error::Parse> {
        let naive = PrimitiveDateTime::parse(text, SQLITE_FORMAT)?;
        Ok(Timestamp(naive.assume_utc()))
    }

    /// RFC 3339 (`2026-11-26T13:05:00.123456Z`), for JSON.
    pub fn to_rfc3339(self) -> String {
        self.0
            .format(&time::format_description::well_known::Rfc3339)
            .unwrap_or_default()
    }

    /// A human-friendly rendering for pages: `2026-11-26 13:05 UTC`.
    pub fn display(self) -> String {
        let fmt = format_description!("[year]-[month]-[day] [hour]:[minute] UTC");
        self.0.format(fmt).unwrap_or_default()
    }
}

impl From<OffsetDateTime> for Timestamp {
    fn from(value: OffsetDateTime) -> Self {
        let utc = value.to_offset(UtcOffset::UTC);
        let micros = utc.nanosecond() / 1_000 * 1_000;
        Timestamp(utc.replace_nanosecond(micros).unwrap_or(utc))
    }
}

impl std::ops::Add<Duration> for Timestamp {
    type Output = Timestamp;
    fn add(self, rhs: Duration) -> Timestamp {
        Timestamp::from(self.0 + rhs)
    }
}

impl std::ops::Sub<Duration> for Timestamp {
    type Output = Timestamp;
    fn sub(self, rhs: Duration) -> Timestamp {
        Timestamp::from(self.0 - rhs)
    }
}

impl std::ops::Sub<Timestamp> for Timestamp {
    type Output = Duration;
    fn sub(self, rhs: Timestamp) -> Duration {
        self.0 - rhs.0
    }
}

impl fmt::Display for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_text())
    }
}

impl serde::Serialize for Timestamp {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.to_text())
    }
}

impl Type<Sqlite> for Timestamp {
    fn type_info() -> SqliteTypeInfo {
        <String as Type<Sqlite>>::type_info()
    }
    fn compatible(ty: &SqliteTypeInfo) -> bool {
        <String as Type<Sqlite>>::compatible(ty)
    }
}

impl<'q> Encode<'q, Sqlite> for Timestamp {
    fn encode_by_ref(&self, buf: &mut Vec<SqliteArgumentValue<'q>>) -> Result<IsNull, BoxDynError> {
        <String as Encode<'q, Sqlite>>::encode(self.to_text(), buf)
    }
}

impl<'r> Decode<'r, Sqlite> for Timestamp {
    fn decode(value: SqliteValueRef<'r>) -> Result<Self, BoxDynError> {
        let text = <&str as Decode<Sqlite>>::decode(value)?;
        Ok(Timestamp::parse_text(text)?)
    }
}

impl Type<Postgres> for Timestamp {
    fn type_info() -> PgTypeInfo {
        <OffsetDateTime as Type<Postgres>>::type_info()
    }
}

impl Encode<'_, Postgres> for Timestamp {
    fn encode_by_ref(&self, buf: &mut PgArgumentBuffer) -> Result<IsNull, BoxDynError> {
        <OffsetDateTime as Encode<Postgres>>::encode_by_ref(&self.0, buf)
    }
}

impl<'r> Decode<'r, Postgres> for Timestamp {
    fn decode(value: PgValueRef<'r>) -> Result<Self, BoxDynError> {
        Ok(Timestamp::from(
            <OffsetDateTime as Decode<Postgres>>::decode(value)?,
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_form_is_fixed_width_so_text_order_is_time_order() {
        let whole = Timestamp::parse_text("2026-11-26T13:24:06.000000Z").unwrap();
        let half = whole + Duration::milliseconds(500);
        assert_eq!(whole.to_text().len(), half.to_text().len());
        assert!(whole.to_text() < half.to_text());
        assert_eq!(Timestamp::parse_text(&half.to_text()).unwrap(), half);
    }

    #[test]
    fn nanoseconds_are_truncated_to_microseconds() {
        let t = OffsetDateTime::from_unix_timestamp_nanos(1_700_000_000_123_456_789).unwrap();
        assert_eq!(Timestamp::from(t).inner().nanosecond(), 123_456_000);
    }
}
