//! Writing iCalendar (RFC 5545) files for appointments.
//!
//! Clients and therapists add sessions to whatever calendar they already use, through an `.ics`
//! attachment or a subscribed feed. Calendar programs are strict and unforgiving in different
//! ways, so this writer sticks to the plain core of the format: UTC times only (no VTIMEZONE
//! blocks to get wrong), CRLF line endings, escaped TEXT values, and lines folded at 75 octets
//! without ever splitting a UTF-8 character.

use std::fmt::Write as _;

use time::{OffsetDateTime, UtcOffset};

/// The longest a physical content line may be, in octets, not counting its CRLF (RFC 5545 §3.1).
const MAX_LINE_OCTETS: usize = 75;

/// Whether an appointment is going ahead.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EventStatus {
    /// The session is booked and going ahead.
    Confirmed,
    /// The session was cancelled; calendars should strike it through or remove it.
    Cancelled,
}

/// One appointment as it appears in a calendar.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CalEvent {
    /// A stable, globally unique id; calendars match updates and cancellations by it.
    pub uid: String,
    /// When the session starts.
    pub start: OffsetDateTime,
    /// When the session ends.
    pub end: OffsetDateTime,
    /// When this version of the event was produced (DTSTAMP).
    pub stamp: OffsetDateTime,
    /// Revision number; raise it on every change so calendars accept the update.
    pub sequence: u32,
    /// Whether the session is going ahead.
    pub status: EventStatus,
    /// The short title shown in calendar views.
    pub summary: String,
    /// Longer notes; may contain line breaks.
    pub description: String,
    /// Where the session takes place, if anywhere in particular.
    pub location: Option<String>,
    /// A link back to the appointment in Tend.
    pub url: Option<String>,
}

/// The iTIP method (RFC 5546) that tells a calendar what to do with the file.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Method {
    /// A published feed or a file simply to be added.
    Publish,
    /// An invitation or an update to one.
    Request,
    /// A cancellation of earlier events.
    Cancel,
}

impl Method {
    /// The value written after `METHOD:`.
    fn as_str(self) -> &'static str {
        match self {
            Method::Publish => "PUBLISH",
            Method::Request => "REQUEST",
            Method::Cancel => "CANCEL",
        }
    }
}

impl EventStatus {
    /// The value written after `STATUS:`.
    fn as_str(self) -> &'static str {
        match self {
            EventStatus::Confirmed => "CONFIRMED",
            EventStatus::Cancelled => "CANCELLED",
        }
    }
}

/// Writes a whole calendar: its header, one VEVENT per event, and the footer.
///
/// Confirmed events carry a 15-minute display reminder so that a client is nudged before the
/// session; cancelled ones carry none, since a reminder for a session that is not happening
/// would be worse than no reminder.
pub fn calendar(name: &str, method: Option<Method>, events: &[CalEvent]) -> String {
    let mut out = String::new();
    line(&mut out, "BEGIN", "VCALENDAR");
    line(&mut out, "VERSION", "2.0");
    line(&mut out, "PRODID", "-//Tend//Tend//EN");
    line(&mut out, "CALSCALE", "GREGORIAN");
    if let Some(method) = method {
        line(&mut out, "METHOD", method.as_str());
    }
    line(&mut out, "X-WR-CALNAME", &escape_text(name));
    for event in events {
        write_event(&mut out, event);
    }
    line(&mut out, "END", "VCALENDAR");
    out
}

/// Appends one VEVENT, with its alarm when the event is confirmed.
fn write_event(out: &mut String, event: &CalEvent) {
    line(out, "BEGIN", "VEVENT");
    line(out, "UID", &escape_text(&event.uid));
    line(out, "DTSTAMP", &utc_stamp(event.stamp));
    line(out, "DTSTART", &utc_stamp(event.start));
    line(out, "DTEND", &utc_stamp(event.end));
    line(out, "SEQUENCE", &event.sequence.to_string());
    line(out, "STATUS", event.status.as_str());
    line(out, "SUMMARY", &escape_text(&event.summary));
    line(out, "DESCRIPTION", &escape_text(&event.description));
    if let Some(location) = &event.location {
        line(out, "LOCATION", &escape_text(location));
    }
    if let Some(url) = &event.url {
        line(out, "URL", &clean_uri(url));
    }
    if event.status == EventStatus::Confirmed {
        line(out, "BEGIN", "VALARM");
        line(out, "ACTION", "DISPLAY");
        line(out, "TRIGGER", "-PT15M");
        line(out, "DESCRIPTION", &escape_text(&event.summary));
        line(out, "END", "VALARM");
    }
    line(out, "END", "VEVENT");
}

/// Appends `NAME:value` as one content line, folded and ended with CRLF.
///
/// `value` must already be in its final encoded form (escaped TEXT, a URI, a date-time).
fn line(out: &mut String, name: &str, value: &str) {
    let mut content = String::with_capacity(name.len() + 1 + value.len());
    content.push_str(name);
    content.push(':');
    content.push_str(value);
    fold_into(out, &content);
}

/// Appends `content` folded into physical lines of at most 75 octets, each ended with CRLF.
///
/// Continuation lines start with a single space, which counts towards their 75 octets and which
/// readers remove when unfolding. Breaks only fall on character boundaries: splitting a
/// multi-byte character would leave invalid UTF-8 on both lines, which some readers reject.
fn fold_into(out: &mut String, content: &str) {
    let mut used = 0;
    for ch in content.chars() {
        let width = ch.len_utf8();
        if used + width > MAX_LINE_OCTETS {
            out.push_str("\r\n ");
            used = 1;
        }
        out.push(ch);
        used += width;
    }
    out.push_str("\r\n");
}

/// Escapes a TEXT value (RFC 5545 §3.3.11).
///
/// Backslash, semicolon and comma get a backslash; every line break (CRLF, LF or a lone CR)
/// becomes the two characters `\n`. Other control characters are not allowed in TEXT and are
/// dropped, except tab, which the grammar permits.
fn escape_text(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars().peekable();
    while let Some(ch) = chars.next() {
        match ch {
            '\\' => out.push_str("\\\\"),
            ';' => out.push_str("\\;"),
            ',' => out.push_str("\\,"),
            '\r' => {
                // A CRLF pair is one line break, not two.
                if chars.peek() == Some(&'\n') {
                    chars.next();
                }
                out.push_str("\\n");
            }
            '\n' => out.push_str("\\n"),
            '\t' => out.push('\t'),
            c if c.is_control() => {}
            c => out.push(c),
        }
    }
    out
}

/// Prepares a URI value: not TEXT, so no escaping, but control characters (CR and LF above
/// all) would break the line structure or inject properties, so they are removed.
fn clean_uri(uri: &str) -> String {
    uri.chars().filter(|c| !c.is_control()).collect()
}

/// Formats an instant in the UTC form `20261203T100000Z` (RFC 5545 §3.3.5, form #2).
///
/// Fractions of a second are dropped; the format has none.
fn utc_stamp(t: OffsetDateTime) -> String {
    // checked_to_offset only fails at the very edge of `time`'s range, where the input
    // is already as close to UTC as it can be represented; write it as it stands then.
    let utc = t.checked_to_offset(UtcOffset::UTC).unwrap_or(t);
    let mut out = String::with_capacity(16);
    // Writing to a String cannot fail.
    let _ = write!(
        out,
        "{:04}{:02}{:02}T{:02}{:02}{:02}Z",
        utc.year(),
        u8::from(utc.month()),
        utc.day(),
        utc.hour(),
        utc.minute(),
        utc.second()
    );
    out
}

#[cfg(test)]
mod tests {
    //! Unit tests for escaping, folding and calendar structure.
    #![allow(
        clippy::unwrap_used,
        clippy::expect_used,
        clippy::panic,
        clippy::indexing_slicing
    )]

    use super::*;
    use time::macros::datetime;

    /// A confirmed event with ordinary content.
    fn event() -> CalEvent {
        CalEvent {
            uid: "appt-42@tend.example".to_string(),
            start: datetime!(2026-12-03 10:00 UTC),
            end: datetime!(2026-12-03 10:50 UTC),
            stamp: datetime!(2026-11-20 08:30:15 UTC),
            sequence: 2,
            status: EventStatus::Confirmed,
            summary: "Session with Sam".to_string(),
            description: "Video call.\nLink in Tend.".to_string(),
            location: Some("Online".to_string()),
            url: Some("https://tend.example/appointments/42".to_string()),
        }
    }

    /// Reverses folding: every CRLF followed by one space disappears.
    fn unfold(text: &str) -> String {
        text.replace("\r\n ", "")
    }

    /// Special characters are escaped and stray controls dropped.
    #[test]
    fn escaping() {
        assert_eq!(
            escape_text("a\\b;c,d\ne\r\nf\rg"),
            "a\\\\b\\;c\\,d\\ne\\nf\\ng"
        );
        assert_eq!(escape_text("tab\there\u{0}\u{7}\u{7f}!"), "tab\there!");
        assert_eq!(escape_text("Café: 10:00"), "Café: 10:00");
        assert_eq!(
            clean_uri("https://x.example/a,b;c\r\nX-EVIL:1"),
            "https://x.example/a,b;cX-EVIL:1"
        );
    }

    /// Long lines of multi-byte text fold within 75 octets and unfold to the original.
    #[test]
    fn folding_multibyte() {
        // Two-, three- and four-byte characters, so breaks land at every possible offset.
        let description = "Ça va? 心のケア 🌿 ".repeat(12);
        let mut out = String::new();
        line(&mut out, "DESCRIPTION", &description);
        assert!(out.ends_with("\r\n"));
        let physical: Vec<&str> = out.trim_end_matches("\r\n").split("\r\n").collect();
        assert!(physical.len() > 3, "expected folding, got {physical:?}");
        for (i, l) in physical.iter().enumerate() {
            assert!(l.len() <= MAX_LINE_OCTETS, "line {i} is {} octets", l.len());
            if i > 0 {
                assert!(l.starts_with(' '), "continuation {i} lacks its space");
            }
        }
        assert_eq!(unfold(&out), format!("DESCRIPTION:{description}\r\n"));
        // Lines of exactly 75 octets are not folded; 76 are.
        let mut exact = String::new();
        line(&mut exact, "X", &"a".repeat(73));
        assert_eq!(exact.len(), 77);
        let mut over = String::new();
        line(&mut over, "X", &"a".repeat(74));
        assert_eq!(over, format!("X:{}\r\n a\r\n", "a".repeat(73)));
    }

    /// The calendar has the expected properties in order, with CRLF after every line.
    #[test]
    fn structure_and_crlf() {
        let ics = calendar("Tend, sessions", Some(Method::Request), &[event()]);
        assert!(ics.ends_with("\r\n"));
        assert!(!ics.replace("\r\n", "").contains('\n'));
        assert!(!ics.replace("\r\n", "").contains('\r'));
        let lines: Vec<&str> = ics.trim_end_matches("\r\n").split("\r\n").collect();
        assert_eq!(
            lines,
            [
                "BEGIN:VCALENDAR",
                "VERSION:2.0",
                "PRODID:-//Tend//Tend//EN",
                "CALSCALE:GREGORIAN",
                "METHOD:REQUEST",
                "X-WR-CALNAME:Tend\\, sessions",
                "BEGIN:VEVENT",
                "UID:appt-42@tend.example",
                "DTSTAMP:20261120T083015Z",
                "DTSTART:20261203T100000Z",
                "DTEND:20261203T105000Z",
                "SEQUENCE:2",
                "STATUS:CONFIRMED",
                "SUMMARY:Session with Sam",
                "DESCRIPTION:Video call.\\nLink in Tend.",
                "LOCATION:Online",
                "URL:https://tend.example/appointments/42",
                "BEGIN:VALARM",
                "ACTION:DISPLAY",
                "TRIGGER:-PT15M",
                "DESCRIPTION:Session with Sam",
                "END:VALARM",
                "END:VEVENT",
                "END:VCALENDAR",
            ]
        );
        // Without a method or optional fields, those lines are simply absent.
        let bare = CalEvent {
            location: None,
            url: None,
            ..event()
        };
        let ics = calendar("Tend", None, &[bare]);
        assert!(!ics.contains("METHOD:"));
        assert!(!ics.contains("LOCATION:"));
        assert!(!ics.contains("URL:"));
        assert_eq!(calendar("Tend", None, &[]).matches("\r\n").count(), 6);
    }

    /// Offsets other than UTC are converted to UTC in the output.
    #[test]
    fn times_are_utc() {
        let shifted = CalEvent {
            start: datetime!(2026-12-03 11:00 +01:00),
            ..event()
        };
        let ics = calendar("Tend", None, &[shifted]);
        assert!(ics.contains("\r\nDTSTART:20261203T100000Z\r\n"));
    }

    /// A cancelled event says so and carries no reminder.
    #[test]
    fn cancelled_event() {
        let cancelled = CalEvent {
            status: EventStatus::Cancelled,
            sequence: 3,
            ..event()
        };
        let ics = calendar("Tend", Some(Method::Cancel), &[cancelled]);
        assert!(ics.contains("\r\nMETHOD:CANCEL\r\n"));
        assert!(ics.contains("\r\nSTATUS:CANCELLED\r\n"));
        assert!(ics.contains("\r\nSEQUENCE:3\r\n"));
        assert!(!ics.contains("VALARM"));
        assert!(!ics.contains("TRIGGER"));
    }
}
