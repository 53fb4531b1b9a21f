//! Turning a therapist's weekly availability into bookable appointment slots.
//!
//! Therapists describe when they work the way people think about it: "Tuesdays 09:00–12:00" in
//! their own time zone, plus one-off exceptions ("off on 24 December", "extra hours on Saturday
//! the 5th"). Clients book instants. This module is the bridge, and it is pure: no database, no
//! clock, no I/O, so every rule here can be tested with fixed inputs.
//!
//! Wall-clock times are resolved through the therapist's IANA time zone with jiff, so a 09:00
//! window stays at 09:00 local time across daylight-saving changes while its UTC instant moves.
//! Everything crossing the module boundary is a `time::OffsetDateTime`, because that is what the
//! rest of Tend stores; conversion goes through Unix nanoseconds, which both crates agree on.

use jiff::Timestamp;
use jiff::civil::{Date, DateTime, Time};
use jiff::tz::TimeZone;
use time::OffsetDateTime;

use crate::error::FieldError;

/// Minutes in a civil day; also the largest allowed end minute ("24:00").
const MINUTES_PER_DAY: u16 = 1440;

/// The spacing unit for slot starts: clients see starts on the quarter hour.
const STEP_UNIT: u16 = 15;

/// One recurring block of availability, in the therapist's own time zone.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WeeklyWindow {
    /// Day of the week: 0 is Monday, 6 is Sunday.
    pub weekday: u8,
    /// Start, in minutes after local midnight.
    pub start_minute: u16,
    /// End (exclusive), in minutes after local midnight; 1440 means midnight at the day's end.
    pub end_minute: u16,
}

/// Whether an exception takes time away or adds it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ExceptionKind {
    /// Not available: the whole day when no times are given, otherwise just those hours.
    Off,
    /// Extra hours on that date, on top of the weekly pattern.
    Extra,
}

/// A one-off change to the weekly pattern on a single local date.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Exception {
    /// The local date (in the therapist's time zone) the exception applies to.
    pub date: Date,
    /// Whether the hours are taken away or added.
    pub kind: ExceptionKind,
    /// Start, in minutes after local midnight; `None` with `end_minute` for a whole day off.
    pub start_minute: Option<u16>,
    /// End (exclusive), in minutes after local midnight; `None` with `start_minute` for a whole day off.
    pub end_minute: Option<u16>,
}

/// An existing appointment or other commitment that blocks slots.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Busy {
    /// When the commitment starts.
    pub start: OffsetDateTime,
    /// When it ends (exclusive).
    pub end: OffsetDateTime,
}

/// A bookable appointment, in UTC.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Slot {
    /// When the session starts.
    pub start: OffsetDateTime,
    /// When the session ends (exclusive): the start plus the session length in real time.
    pub end: OffsetDateTime,
}

/// Looks up an IANA time zone name such as `Europe/London` in the bundled database.
///
/// The database is compiled in, so the answer never depends on the host's `/usr/share/zoneinfo`.
pub fn parse_time_zone(field: &str, name: &str) -> Result<TimeZone, FieldError> {
    let name = name.trim();
    if name.is_empty() {
        return Err(FieldError::new(field, "Choose a time zone."));
    }
    TimeZone::get(name).map_err(|_| {
        FieldError::new(
            field,
            format!("We don't recognise the time zone “{name}”. Choose one from the list."),
        )
    })
}

/// Reads a time of day written as `HH:MM` (or `H:MM`) into minutes after midnight.
///
/// `24:00` is accepted as 1440 so that a window can run to the end of the day; whether that makes
/// sense for a start time is left to the range checks in [`validate_windows`] and
/// [`validate_exception`].
pub fn parse_hhmm(field: &str, text: &str) -> Result<u16, FieldError> {
    let text = text.trim();
    if text.is_empty() {
        return Err(FieldError::new(field, "Enter a time, like 09:30."));
    }
    let shape = || {
        FieldError::new(
            field,
            format!(
                "“{text}” isn't a time we can read. Write it as hours and minutes, like 09:30."
            ),
        )
    };
    let (hours, minutes) = text.split_once(':').ok_or_else(shape)?;
    // Only ASCII digits: `u16::from_str` alone would also take a leading `+`.
    let digits = |s: &str, max_len: usize| {
        !s.is_empty() && s.len() <= max_len && s.bytes().all(|b| b.is_ascii_digit())
    };
    if !digits(hours, 2) || !digits(minutes, 2) || minutes.len() != 2 {
        return Err(shape());
    }
    let hours: u16 = hours.parse().map_err(|_| shape())?;
    let minutes: u16 = minutes.parse().map_err(|_| shape())?;
    let out_of_range = || {
        FieldError::new(
            field,
            format!("“{text}” isn't a time of day. Use a time from 00:00 to 24:00."),
        )
    };
    if minutes > 59 || hours > 24 || (hours == 24 && minutes != 0) {
        return Err(out_of_range());
    }
    Ok(hours * 60 + minutes)
}

/// Writes minutes after midnight as `HH:MM`; 1440 becomes `24:00`.
pub fn format_hhmm(minute: u16) -> String {
    format!("{:02}:{:02}", minute / 60, minute % 60)
}

/// The English name of a weekday numbered from 0 (Monday) to 6 (Sunday).
///
/// Out-of-range numbers get a neutral phrase rather than a panic, because the number may come
/// from a form.
pub fn weekday_name(weekday: u8) -> &'static str {
    match weekday {
        0 => "Monday",
        1 => "Tuesday",
        2 => "Wednesday",
        3 => "Thursday",
        4 => "Friday",
        5 => "Saturday",
        6 => "Sunday",
        _ => "Unknown day",
    }
}

/// The English name of a month numbered from 1 (January) to 12 (December).
fn month_name(month: i8) -> &'static str {
    match month {
        1 => "January",
        2 => "February",
        3 => "March",
        4 => "April",
        5 => "May",
        6 => "June",
        7 => "July",
        8 => "August",
        9 => "September",
        10 => "October",
        11 => "November",
        12 => "December",
        _ => "Unknown month",
    }
}

/// A window written for people, such as `09:00–12:00`.
fn span_text(start: u16, end: u16) -> String {
    format!("{}–{}", format_hhmm(start), format_hhmm(end))
}

/// Checks a therapist's weekly pattern before it is saved.
///
/// Every problem is reported under the `availability` field, naming the day and hours involved,
/// because the form shows all windows together and the therapist needs to know which row to fix.
/// Windows that merely touch (12:00 end, 12:00 start) are fine.
pub fn validate_windows(windows: &[WeeklyWindow]) -> Result<(), FieldError> {
    const FIELD: &str = "availability";
    for w in windows {
        if w.weekday > 6 {
            return Err(FieldError::new(
                FIELD,
                "One of your hours is on a day of the week we don't recognise.",
            ));
        }
        let day = weekday_name(w.weekday);
        if w.end_minute > MINUTES_PER_DAY {
            return Err(FieldError::new(
                FIELD,
                format!(
                    "Your {day} hours {} run past midnight. End them at 24:00 at the latest.",
                    span_text(w.start_minute, w.end_minute)
                ),
            ));
        }
        if w.end_minute <= w.start_minute {
            return Err(FieldError::new(
                FIELD,
                format!(
                    "Your {day} hours {} end before they start.",
                    span_text(w.start_minute, w.end_minute)
                ),
            ));
        }
    }

    // Sorted by day then start, any overlap shows up between neighbours: if windows i < j
    // overlap then start(i+1) <= start(j) < end(i), so i and i+1 overlap too.
    let mut sorted: Vec<&WeeklyWindow> = windows.iter().collect();
    sorted.sort_by_key(|w| (w.weekday, w.start_minute, w.end_minute));
    for pair in sorted.windows(2) {
        let [a, b] = pair else { continue };
        if a.weekday != b.weekday || b.start_minute >= a.end_minute {
            continue;
        }
        let day = weekday_name(a.weekday);
        let first = span_text(a.start_minute, a.end_minute);
        let message = if a == b {
            format!("Your {day} hours {first} are listed twice.")
        } else {
            let second = span_text(b.start_minute, b.end_minute);
            format!("Your {day} hours {first} and {second} overlap.")
        };
        return Err(FieldError::new(FIELD, message));
    }
    Ok(())
}

/// Checks a one-off exception before it is saved; `today` is the therapist's local date.
///
/// The date is checked first because a past date makes the times irrelevant. Times must come as
/// a pair: a lone start or end is almost always a half-filled form, and guessing would silently
/// block or open the wrong hours.
pub fn validate_exception(e: &Exception, today: Date) -> Result<(), FieldError> {
    if e.date < today {
        return Err(FieldError::new("date", "That date has already passed."));
    }
    match (e.start_minute, e.end_minute) {
        (None, None) => match e.kind {
            ExceptionKind::Off => Ok(()),
            ExceptionKind::Extra => Err(FieldError::new(
                "start",
                "Enter the start and end of the extra hours.",
            )),
        },
        (Some(_), None) => Err(FieldError::new("end", "Enter an end time as well.")),
        (None, Some(_)) => Err(FieldError::new("start", "Enter a start time as well.")),
        (Some(start), Some(end)) => {
            if start >= MINUTES_PER_DAY {
                Err(FieldError::new(
                    "start",
                    "Start before midnight; use 23:45 at the latest.",
                ))
            } else if end > MINUTES_PER_DAY {
                Err(FieldError::new(
                    "end",
                    "End by midnight; use 24:00 at the latest.",
                ))
            } else if end <= start {
                Err(FieldError::new(
                    "end",
                    "The end time must be after the start time.",
                ))
            } else {
                Ok(())
            }
        }
    }
}

/// The spacing between slot starts for a session of the given length.
///
/// Rounded up to a quarter hour so that clients see tidy start times and a 50-minute session
/// leaves the customary 10 minutes before the next one; never less than 15 so that a zero length
/// cannot produce an endless run of starts.
pub fn step_minutes(session_minutes: u16) -> u16 {
    let unit = u32::from(STEP_UNIT);
    let rounded = u32::from(session_minutes).div_ceil(unit) * unit;
    // 65535 is itself a multiple of 15, so the rounding cannot leave u16; saturate regardless.
    u16::try_from(rounded.max(unit)).unwrap_or(u16::MAX)
}

/// Converts a `time` instant to a jiff one, clamping to jiff's (slightly narrower) range.
///
/// Clamping is harmless here: the ends of the range are thousands of years away from any real
/// appointment, and a clamped search bound only trims a search that could find nothing anyway.
fn to_jiff(t: OffsetDateTime) -> Timestamp {
    let nanos = t.unix_timestamp_nanos();
    Timestamp::from_nanosecond(nanos).unwrap_or(if nanos < 0 {
        Timestamp::MIN
    } else {
        Timestamp::MAX
    })
}

/// Converts a jiff instant to a `time` one in UTC; `None` only outside `time`'s range.
fn to_time(ts: Timestamp) -> Option<OffsetDateTime> {
    OffsetDateTime::from_unix_timestamp_nanos(ts.as_nanosecond()).ok()
}

/// The local date and minute of the day of an instant in `tz`.
pub fn local_parts(t: OffsetDateTime, tz: &TimeZone) -> (Date, u16) {
    let dt = tz.to_datetime(to_jiff(t));
    // hour() is 0..=23 and minute() 0..=59, so both convert; fall back to 0 rather than panic.
    let hour = u16::try_from(dt.hour()).unwrap_or(0);
    let minute = u16::try_from(dt.minute()).unwrap_or(0);
    (dt.date(), hour * 60 + minute)
}

/// A human description of an instant in the therapist's zone, for emails and confirmations.
///
/// For example `Tuesday 3 December 2026, 10:00 (Europe/London)`. The zone is always named so a
/// client in another zone is not misled.
pub fn describe(t: OffsetDateTime, tz: &TimeZone) -> String {
    let ts = to_jiff(t);
    let dt = tz.to_datetime(ts);
    let date = dt.date();
    let weekday = u8::try_from(date.weekday().to_monday_zero_offset()).unwrap_or(u8::MAX);
    let zone = match tz.iana_name() {
        Some(name) => name.to_string(),
        None => offset_label(tz, ts),
    };
    format!(
        "{} {} {} {}, {:02}:{:02} ({zone})",
        weekday_name(weekday),
        date.day(),
        month_name(date.month()),
        date.year(),
        dt.hour(),
        dt.minute(),
    )
}

/// Names a zone without an IANA name by its offset, so a fixed `+05:30` zone is not called UTC.
fn offset_label(tz: &TimeZone, ts: Timestamp) -> String {
    let seconds = tz.to_offset(ts).seconds();
    if seconds == 0 {
        return "UTC".to_string();
    }
    let sign = if seconds < 0 { '-' } else { '+' };
    let minutes = seconds.unsigned_abs() / 60;
    format!("UTC{sign}{:02}:{:02}", minutes / 60, minutes % 60)
}

/// Local minutes of one day, as a half-open `[start, end)` pair.
type Interval = (u16, u16);

/// The exception's times, if both are present and describe a non-empty range within the day.
fn exception_interval(e: &Exception) -> Option<Interval> {
    let (start, end) = (e.start_minute?, e.end_minute?.min(MINUTES_PER_DAY));
    (start < end).then_some((start, end))
}

/// Removes `cut` from every interval in `intervals`, splitting where it falls in the middle.
fn subtract(intervals: Vec<Interval>, cut: Interval) -> Vec<Interval> {
    let (cut_start, cut_end) = cut;
    let mut out = Vec::with_capacity(intervals.len() + 1);
    for (start, end) in intervals {
        if cut_end <= start || cut_start >= end {
            out.push((start, end));
            continue;
        }
        if start < cut_start {
            out.push((start, cut_start));
        }
        if cut_end < end {
            out.push((cut_end, end));
        }
    }
    out
}

/// Sorts intervals and joins any that overlap or touch.
///
/// Joining matters twice over: overlapping windows (say a weekly window and an extra hour) would
/// otherwise lay two different grids of starts over the same time, and touching windows mean the
/// therapist is free straight through, so a session may run across the join.
fn merge(mut intervals: Vec<Interval>) -> Vec<Interval> {
    intervals.sort_unstable();
    let mut out: Vec<Interval> = Vec::with_capacity(intervals.len());
    for (start, end) in intervals {
        match out.last_mut() {
            Some(last) if start <= last.1 => last.1 = last.1.max(end),
            _ => out.push((start, end)),
        }
    }
    out
}

/// The available local intervals on one date, after applying that date's exceptions.
///
/// Order of rules: a whole-day Off empties the weekly pattern, partial Offs cut into it, and
/// Extras are added last, so "off that day, but free 18:00–19:00" means exactly that.
/// Malformed windows and exceptions (which validation would have refused) are skipped, except
/// that an Off with only one time counts as the whole day: when in doubt, offer less.
fn day_intervals(date: Date, windows: &[WeeklyWindow], exceptions: &[Exception]) -> Vec<Interval> {
    let todays: Vec<&Exception> = exceptions.iter().filter(|e| e.date == date).collect();
    let whole_day_off = todays.iter().any(|e| {
        e.kind == ExceptionKind::Off && (e.start_minute.is_none() || e.end_minute.is_none())
    });

    let weekday = date.weekday().to_monday_zero_offset();
    let mut intervals: Vec<Interval> = if whole_day_off {
        Vec::new()
    } else {
        windows
            .iter()
            .filter(|w| i8::try_from(w.weekday).is_ok_and(|d| d == weekday))
            .map(|w| (w.start_minute, w.end_minute.min(MINUTES_PER_DAY)))
            .filter(|(start, end)| start < end)
            .collect()
    };
    for e in &todays {
        if e.kind == ExceptionKind::Off
            && let Some(cut) = exception_interval(e)
        {
            intervals = subtract(intervals, cut);
        }
    }
    intervals.extend(
        todays
            .iter()
            .filter(|e| e.kind == ExceptionKind::Extra)
            .filter_map(|e| exception_interval(e)),
    );
    merge(intervals)
}

/// The instant at which the local wall time `minute` on `date` happens in `tz`.
///
/// Uses jiff's "compatible" rule, the one calendars and RFC 5545 use: a time skipped by a
/// spring-forward jump moves forward by the jump, and a time repeated by a fall-back takes its
/// first occurrence. `None` only for dates at the very ends of jiff's range.
fn local_instant(tz: &TimeZone, date: Date, minute: u16) -> Option<Timestamp> {
    let hour = i8::try_from(minute / 60).ok()?;
    let min = i8::try_from(minute % 60).ok()?;
    let time = Time::new(hour, min, 0, 0).ok()?;
    tz.to_timestamp(DateTime::from_parts(date, time)).ok()
}

/// Every bookable slot whose start lies in `[from, until)`, sorted by start with no duplicates.
///
/// For each local date in `tz` that the range touches, the weekly windows for that weekday are
/// adjusted by that date's exceptions; inside each resulting interval, starts fall every
/// [`step_minutes`] from the interval's start for as long as a whole session fits before the
/// interval's end (in local wall time). Each start is resolved to an instant in `tz`, and a slot
/// ends `session_minutes` of real time later. A slot is dropped if it starts before `earliest`
/// (the booking notice period) or overlaps any `busy` period; touching is fine.
///
/// Across a spring-forward jump two wall times can resolve to the same instant, so the output is
/// deduplicated by start. The caller bounds the range: the work is proportional to its length in
/// days. A zero-length session yields no slots.
#[allow(
    clippy::too_many_arguments,
    reason = "each input is a distinct piece of the therapist's schedule; a wrapper struct would \
              only rename them"
)]
pub fn free_slots(
    tz: &TimeZone,
    windows: &[WeeklyWindow],
    exceptions: &[Exception],
    session_minutes: u16,
    busy: &[Busy],
    from: OffsetDateTime,
    until: OffsetDateTime,
    earliest: OffsetDateTime,
) -> Vec<Slot> {
    if session_minutes == 0 || until <= from {
        return Vec::new();
    }
    let step = u32::from(step_minutes(session_minutes));
    let session = u32::from(session_minutes);
    let length = jiff::SignedDuration::from_mins(i64::from(session_minutes));
    let busy: Vec<(Timestamp, Timestamp)> = busy
        .iter()
        .map(|b| (to_jiff(b.start), to_jiff(b.end)))
        .collect();
    let (from_ts, until_ts, earliest_ts) = (to_jiff(from), to_jiff(until), to_jiff(earliest));

    // Start a day early: a wall time in a gap just before midnight resolves into the next local
    // day, so the day before `from` can still produce a slot inside the range.
    let first_day = tz.to_datetime(from_ts).date();
    let mut date = first_day.yesterday().unwrap_or(first_day);
    let last_day = tz.to_datetime(until_ts).date();

    let mut starts: Vec<Timestamp> = Vec::new();
    while date <= last_day {
        for (interval_start, interval_end) in day_intervals(date, windows, exceptions) {
            let mut minute = u32::from(interval_start);
            while minute + session <= u32::from(interval_end) {
                if let Some(ts) = u16::try_from(minute)
                    .ok()
                    .and_then(|m| local_instant(tz, date, m))
                {
                    starts.push(ts);
                }
                minute += step;
            }
        }
        match date.tomorrow() {
            Ok(next) => date = next,
            Err(_) => break,
        }
    }

    starts.sort_unstable();
    starts.dedup();
    starts
        .into_iter()
        .filter(|start| *start >= from_ts && *start < until_ts && *start >= earliest_ts)
        .filter_map(|start| {
            let end = start.checked_add(length).ok()?;
            // Half-open intervals: a session ending as another begins does not clash.
            let clashes = busy
                .iter()
                .any(|(b_start, b_end)| start < *b_end && *b_start < end);
            if clashes {
                return None;
            }
            Some(Slot {
                start: to_time(start)?,
                end: to_time(end)?,
            })
        })
        .collect()
}

/// Whether a booking request for exactly `slot_start` matches a free slot.
///
/// Recomputes [`free_slots`] around that one instant with the same inputs, so a request is
/// accepted by precisely the rules that offered it, including the time zone, exceptions, notice
/// period and existing bookings.
pub fn is_bookable(
    slot_start: OffsetDateTime,
    tz: &TimeZone,
    windows: &[WeeklyWindow],
    exceptions: &[Exception],
    session_minutes: u16,
    busy: &[Busy],
    earliest: OffsetDateTime,
) -> bool {
    // A one-second range is enough: free_slots keeps starts in [from, until), and still scans
    // the whole surrounding local day (and the one before) to build that day's grid.
    let Some(until) = slot_start.checked_add(time::Duration::SECOND) else {
        return false;
    };
    free_slots(
        tz,
        windows,
        exceptions,
        session_minutes,
        busy,
        slot_start,
        until,
        earliest,
    )
    .iter()
    .any(|slot| slot.start == slot_start)
}

#[cfg(test)]
mod tests {
    //! Unit tests for the schedule rules, DST transitions included.
    #![allow(
        clippy::unwrap_used,
        clippy::expect_used,
        clippy::panic,
        clippy::indexing_slicing
    )]

    use super::*;
    use jiff::civil::date;
    use time::macros::datetime;

    /// A weekly window from `HH:MM` strings, for readable tests.
    fn window(weekday: u8, start: &str, end: &str) -> WeeklyWindow {
        WeeklyWindow {
            weekday,
            start_minute: parse_hhmm("start", start).unwrap(),
            end_minute: parse_hhmm("end", end).unwrap(),
        }
    }

    /// The London zone used by most tests.
    fn london() -> TimeZone {
        parse_time_zone("time_zone", "Europe/London").unwrap()
    }

    /// Slot starts as UTC `HH:MM` strings, for compact assertions.
    fn starts(slots: &[Slot]) -> Vec<String> {
        slots
            .iter()
            .map(|s| format!("{:02}:{:02}", s.start.hour(), s.start.minute()))
            .collect()
    }

    /// Slots for one whole UTC day with no notice period; winter dates make UTC equal London.
    fn day(
        tz: &TimeZone,
        windows: &[WeeklyWindow],
        exceptions: &[Exception],
        session: u16,
        busy: &[Busy],
        from: OffsetDateTime,
    ) -> Vec<Slot> {
        let until = from + time::Duration::DAY;
        free_slots(tz, windows, exceptions, session, busy, from, until, from)
    }

    /// A plain Thursday window yields back-to-back hourly slots that fit inside it.
    #[test]
    fn plain_day_slots() {
        // 2026-12-03 is a Thursday (weekday 3).
        let slots = day(
            &london(),
            &[window(3, "09:00", "12:00")],
            &[],
            60,
            &[],
            datetime!(2026-12-03 00:00 UTC),
        );
        assert_eq!(starts(&slots), ["09:00", "10:00", "11:00"]);
        assert_eq!(slots[0].end, datetime!(2026-12-03 10:00 UTC));
        // Other weekdays' windows do not leak in.
        let none = day(
            &london(),
            &[window(2, "09:00", "12:00")],
            &[],
            60,
            &[],
            datetime!(2026-12-03 00:00 UTC),
        );
        assert!(none.is_empty());
    }

    /// Fifty-minute sessions start on the hour and end ten minutes before the next.
    #[test]
    fn fifty_minute_sessions_step_hourly() {
        assert_eq!(step_minutes(50), 60);
        assert_eq!(step_minutes(20), 30);
        assert_eq!(step_minutes(90), 90);
        assert_eq!(step_minutes(0), 15);
        assert_eq!(step_minutes(u16::MAX), u16::MAX);
        let slots = day(
            &london(),
            &[window(3, "09:00", "11:50")],
            &[],
            50,
            &[],
            datetime!(2026-12-03 00:00 UTC),
        );
        assert_eq!(starts(&slots), ["09:00", "10:00", "11:00"]);
        assert_eq!(slots[2].end, datetime!(2026-12-03 11:50 UTC));
    }

    /// A booking removes exactly the slot it overlaps; touching neighbours stay.
    #[test]
    fn busy_removes_only_overlapping_slot() {
        let busy = [Busy {
            start: datetime!(2026-12-03 10:00 UTC),
            end: datetime!(2026-12-03 11:00 UTC),
        }];
        let slots = day(
            &london(),
            &[window(3, "09:00", "12:00")],
            &[],
            60,
            &busy,
            datetime!(2026-12-03 00:00 UTC),
        );
        assert_eq!(starts(&slots), ["09:00", "11:00"]);
        // A busy period straddling two slots removes both.
        let busy = [Busy {
            start: datetime!(2026-12-03 09:30 UTC),
            end: datetime!(2026-12-03 10:30 UTC),
        }];
        let slots = day(
            &london(),
            &[window(3, "09:00", "12:00")],
            &[],
            60,
            &busy,
            datetime!(2026-12-03 00:00 UTC),
        );
        assert_eq!(starts(&slots), ["11:00"]);
    }

    /// A whole-day Off exception removes every slot that day and no other.
    #[test]
    fn off_whole_day() {
        let off = Exception {
            date: date(2026, 12, 3),
            kind: ExceptionKind::Off,
            start_minute: None,
            end_minute: None,
        };
        let windows = [window(3, "09:00", "12:00")];
        let from = datetime!(2026-12-03 00:00 UTC);
        let slots = day(
            &london(),
            &windows,
            std::slice::from_ref(&off),
            60,
            &[],
            from,
        );
        assert!(slots.is_empty());
        // The following Thursday is unaffected.
        let next = day(
            &london(),
            &windows,
            &[off],
            60,
            &[],
            datetime!(2026-12-10 00:00 UTC),
        );
        assert_eq!(starts(&next), ["09:00", "10:00", "11:00"]);
    }

    /// An Off exception with times cuts a hole, and slots restart after it.
    #[test]
    fn off_partial() {
        let off = Exception {
            date: date(2026, 12, 3),
            kind: ExceptionKind::Off,
            start_minute: Some(parse_hhmm("start", "10:00").unwrap()),
            end_minute: Some(parse_hhmm("end", "11:30").unwrap()),
        };
        let slots = day(
            &london(),
            &[window(3, "09:00", "14:00")],
            &[off],
            60,
            &[],
            datetime!(2026-12-03 00:00 UTC),
        );
        assert_eq!(starts(&slots), ["09:00", "11:30", "12:30"]);
    }

    /// Extra hours add slots, even on a day with no weekly window or a whole day off.
    #[test]
    fn extra_hours() {
        let extra = Exception {
            date: date(2026, 12, 5),
            kind: ExceptionKind::Extra,
            start_minute: Some(parse_hhmm("start", "18:00").unwrap()),
            end_minute: Some(parse_hhmm("end", "20:00").unwrap()),
        };
        let from = datetime!(2026-12-05 00:00 UTC);
        let windows = [window(3, "09:00", "12:00")];
        let slots = day(
            &london(),
            &windows,
            std::slice::from_ref(&extra),
            60,
            &[],
            from,
        );
        assert_eq!(starts(&slots), ["18:00", "19:00"]);
        // An Extra overlapping a weekly window merges into one grid rather than two.
        let thursday = Exception {
            date: date(2026, 12, 3),
            ..extra.clone()
        };
        let longer = Exception {
            start_minute: Some(parse_hhmm("start", "11:30").unwrap()),
            end_minute: Some(parse_hhmm("end", "13:00").unwrap()),
            ..thursday
        };
        let slots = day(
            &london(),
            &windows,
            &[longer],
            60,
            &[],
            datetime!(2026-12-03 00:00 UTC),
        );
        assert_eq!(starts(&slots), ["09:00", "10:00", "11:00", "12:00"]);
        // Extras survive a whole day off on the same date.
        let off = Exception {
            kind: ExceptionKind::Off,
            start_minute: None,
            end_minute: None,
            ..extra.clone()
        };
        let slots = day(&london(), &windows, &[off, extra], 60, &[], from);
        assert_eq!(starts(&slots), ["18:00", "19:00"]);
    }

    /// Slots before the notice cut-off or outside the range are not offered.
    #[test]
    fn earliest_and_range_cut_off() {
        let tz = london();
        let windows = [window(3, "09:00", "12:00")];
        let from = datetime!(2026-12-03 00:00 UTC);
        let until = datetime!(2026-12-04 00:00 UTC);
        let slots = free_slots(
            &tz,
            &windows,
            &[],
            60,
            &[],
            from,
            until,
            datetime!(2026-12-03 09:01 UTC),
        );
        assert_eq!(starts(&slots), ["10:00", "11:00"]);
        let slots = free_slots(
            &tz,
            &windows,
            &[],
            60,
            &[],
            datetime!(2026-12-03 10:00 UTC),
            datetime!(2026-12-03 11:00 UTC),
            from,
        );
        assert_eq!(starts(&slots), ["10:00"]);
        assert!(free_slots(&tz, &windows, &[], 60, &[], until, from, from).is_empty());
        assert!(free_slots(&tz, &windows, &[], 0, &[], from, until, from).is_empty());
    }

    /// Overlaps are reported with the day and both windows; touching windows are accepted.
    #[test]
    fn validate_windows_rules() {
        let err = validate_windows(&[window(1, "09:00", "12:00"), window(1, "11:00", "13:00")])
            .unwrap_err();
        assert_eq!(err.field, "availability");
        assert_eq!(
            err.message,
            "Your Tuesday hours 09:00–12:00 and 11:00–13:00 overlap."
        );
        // Reported even when listed out of order and separated by a non-overlapping window.
        let err = validate_windows(&[
            window(1, "12:30", "13:00"),
            window(2, "09:00", "10:00"),
            window(1, "09:00", "17:00"),
        ])
        .unwrap_err();
        assert_eq!(
            err.message,
            "Your Tuesday hours 09:00–17:00 and 12:30–13:00 overlap."
        );
        validate_windows(&[
            window(1, "09:00", "12:00"),
            window(1, "12:00", "13:00"),
            window(2, "11:00", "24:00"),
        ])
        .unwrap();
        let err = validate_windows(&[window(4, "12:00", "09:00")]).unwrap_err();
        assert_eq!(
            err.message,
            "Your Friday hours 12:00–09:00 end before they start."
        );
        let bad_day = WeeklyWindow {
            weekday: 7,
            start_minute: 0,
            end_minute: 60,
        };
        assert!(validate_windows(&[bad_day]).is_err());
        let late = WeeklyWindow {
            weekday: 0,
            start_minute: 0,
            end_minute: 1441,
        };
        assert!(validate_windows(&[late]).is_err());
        let err = validate_windows(&[window(6, "09:00", "10:00"), window(6, "09:00", "10:00")])
            .unwrap_err();
        assert_eq!(
            err.message,
            "Your Sunday hours 09:00–10:00 are listed twice."
        );
    }

    /// Unknown and empty zone names are refused with the field named.
    #[test]
    fn bad_time_zone() {
        let err = parse_time_zone("time_zone", "Mars/Base").unwrap_err();
        assert_eq!(err.field, "time_zone");
        assert_eq!(
            err.message,
            "We don't recognise the time zone “Mars/Base”. Choose one from the list."
        );
        assert_eq!(parse_time_zone("tz", "  ").unwrap_err().field, "tz");
        assert_eq!(
            parse_time_zone("tz", "america/new_york")
                .unwrap()
                .iana_name(),
            Some("America/New_York")
        );
    }

    /// Times parse from `HH:MM`; malformed and out-of-range input names the field.
    #[test]
    fn parse_hhmm_rules() {
        assert_eq!(parse_hhmm("start", "09:30").unwrap(), 570);
        assert_eq!(parse_hhmm("start", "9:30").unwrap(), 570);
        assert_eq!(parse_hhmm("start", "00:00").unwrap(), 0);
        assert_eq!(parse_hhmm("end", "23:59").unwrap(), 1439);
        assert_eq!(parse_hhmm("end", "24:00").unwrap(), 1440);
        for bad in [
            "",
            "24:01",
            "25:00",
            "12:60",
            "1230",
            "12:3",
            "+1:30",
            "12:30:00",
            "ab:cd",
            "１２:３０",
            "123:00",
        ] {
            let err = parse_hhmm("end", bad).unwrap_err();
            assert_eq!(err.field, "end", "{bad}");
        }
        assert_eq!(format_hhmm(570), "09:30");
        assert_eq!(format_hhmm(1440), "24:00");
    }

    /// London's spring-forward: 09:00 local is 09:00 UTC before and 08:00 UTC after.
    #[test]
    fn dst_keeps_local_time() {
        let tz = london();
        // Friday and Monday around the change on Sunday 29 March 2026.
        let windows = [window(4, "09:00", "10:00"), window(0, "09:00", "10:00")];
        let slots = free_slots(
            &tz,
            &windows,
            &[],
            60,
            &[],
            datetime!(2026-03-27 00:00 UTC),
            datetime!(2026-03-31 00:00 UTC),
            datetime!(2026-03-27 00:00 UTC),
        );
        assert_eq!(
            slots.iter().map(|s| s.start).collect::<Vec<_>>(),
            [
                datetime!(2026-03-27 09:00 UTC),
                datetime!(2026-03-30 08:00 UTC)
            ]
        );
        assert_eq!(slots[1].end, datetime!(2026-03-30 09:00 UTC));
        assert_eq!(local_parts(slots[1].start, &tz), (date(2026, 3, 30), 540));
        assert_eq!(
            describe(slots[1].start, &tz),
            "Monday 30 March 2026, 09:00 (Europe/London)"
        );
    }

    /// Wall times in the spring-forward gap move forward and never duplicate an instant.
    #[test]
    fn dst_gap_dedupes() {
        let tz = london();
        // Sunday 29 March 2026: 01:00–02:00 local does not exist.
        let slots = day(
            &tz,
            &[window(6, "00:00", "03:00")],
            &[],
            60,
            &[],
            datetime!(2026-03-29 00:00 UTC),
        );
        // 00:00 GMT, then 01:00 (gap → 02:00 BST) and 02:00 BST coincide at 01:00 UTC.
        assert_eq!(starts(&slots), ["00:00", "01:00"]);
    }

    /// New York's fall-back: a 01:00–03:00 window gives sorted, distinct instants.
    #[test]
    fn dst_fall_back_no_duplicates() {
        let tz = parse_time_zone("tz", "America/New_York").unwrap();
        // Sunday 1 November 2026: 01:00–02:00 local happens twice.
        let slots = free_slots(
            &tz,
            &[window(6, "01:00", "03:00")],
            &[],
            60,
            &[],
            datetime!(2026-11-01 00:00 UTC),
            datetime!(2026-11-03 00:00 UTC),
            datetime!(2026-11-01 00:00 UTC),
        );
        let got: Vec<_> = slots.iter().map(|s| s.start).collect();
        // 01:00 takes its first (EDT, UTC−4) occurrence; 02:00 is EST (UTC−5).
        assert_eq!(
            got,
            [
                datetime!(2026-11-01 05:00 UTC),
                datetime!(2026-11-01 07:00 UTC)
            ]
        );
        assert!(got.windows(2).all(|w| w[0] < w[1]));
        assert_eq!(slots[0].end, datetime!(2026-11-01 06:00 UTC));
    }

    /// Exceptions on past dates, half-filled times and empty extras are refused.
    #[test]
    fn validate_exception_rules() {
        let today = date(2026, 12, 3);
        let base = Exception {
            date: today,
            kind: ExceptionKind::Off,
            start_minute: None,
            end_minute: None,
        };
        validate_exception(&base, today).unwrap();
        let past = Exception {
            date: date(2026, 12, 2),
            ..base.clone()
        };
        let err = validate_exception(&past, today).unwrap_err();
        assert_eq!(
            (err.field.as_str(), err.message.as_str()),
            ("date", "That date has already passed.")
        );
        let only_start = Exception {
            start_minute: Some(600),
            ..base.clone()
        };
        assert_eq!(
            validate_exception(&only_start, today).unwrap_err().field,
            "end"
        );
        let only_end = Exception {
            end_minute: Some(600),
            ..base.clone()
        };
        assert_eq!(
            validate_exception(&only_end, today).unwrap_err().field,
            "start"
        );
        let backwards = Exception {
            start_minute: Some(600),
            end_minute: Some(600),
            ..base.clone()
        };
        assert_eq!(
            validate_exception(&backwards, today).unwrap_err().field,
            "end"
        );
        let extra_no_times = Exception {
            kind: ExceptionKind::Extra,
            ..base.clone()
        };
        assert_eq!(
            validate_exception(&extra_no_times, today)
                .unwrap_err()
                .field,
            "start"
        );
        let extra = Exception {
            kind: ExceptionKind::Extra,
            start_minute: Some(600),
            end_minute: Some(1440),
            ..base
        };
        validate_exception(&extra, today).unwrap();
    }

    /// A booking request is accepted only at an offered start.
    #[test]
    fn is_bookable_matches_free_slots() {
        let tz = london();
        let windows = [window(3, "09:00", "12:00")];
        let earliest = datetime!(2026-12-01 00:00 UTC);
        let ok = |t| is_bookable(t, &tz, &windows, &[], 50, &[], earliest);
        assert!(ok(datetime!(2026-12-03 10:00 UTC)));
        assert!(!ok(datetime!(2026-12-03 10:15 UTC)));
        assert!(!ok(datetime!(2026-12-03 12:00 UTC)));
        assert!(!ok(datetime!(2026-12-04 10:00 UTC)));
        let busy = [Busy {
            start: datetime!(2026-12-03 10:30 UTC),
            end: datetime!(2026-12-03 11:00 UTC),
        }];
        assert!(!is_bookable(
            datetime!(2026-12-03 10:00 UTC),
            &tz,
            &windows,
            &[],
            50,
            &busy,
            earliest
        ));
        assert!(!is_bookable(
            datetime!(2026-12-03 10:00 UTC),
            &tz,
            &windows,
            &[],
            50,
            &[],
            datetime!(2026-12-03 10:00:01 UTC)
        ));
    }

    /// Names and descriptions read naturally, and fixed offsets are not called UTC.
    #[test]
    fn names_and_descriptions() {
        assert_eq!(weekday_name(0), "Monday");
        assert_eq!(weekday_name(6), "Sunday");
        assert_eq!(weekday_name(7), "Unknown day");
        assert_eq!(
            describe(datetime!(2026-12-03 10:00 UTC), &london()),
            "Thursday 3 December 2026, 10:00 (Europe/London)"
        );
        assert_eq!(
            describe(datetime!(2026-12-03 10:00 UTC), &TimeZone::UTC),
            "Thursday 3 December 2026, 10:00 (UTC)"
        );
        let fixed = TimeZone::fixed(jiff::tz::Offset::from_seconds(-(5 * 3600 + 1800)).unwrap());
        assert_eq!(
            describe(datetime!(2026-12-03 10:00 UTC), &fixed),
            "Thursday 3 December 2026, 04:30 (UTC-05:30)"
        );
    }
}
