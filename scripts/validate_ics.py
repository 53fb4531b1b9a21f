"""Validates iCalendar files Tend emitted with the independent `icalendar` parser (PyPI).

Usage: validate_ics.py FILE...  Exits non-zero if any file fails to parse or lacks what
RFC 5545 requires of a VEVENT (UID, DTSTAMP, DTSTART) or has DTEND before DTSTART.
"""

import sys

from icalendar import Calendar


def check(path):
    with open(path, "rb") as f:
        data = f.read()
    if b"\r\n" not in data or data.replace(b"\r\n", b"").find(b"\n") != -1:
        raise ValueError("lines must end with CRLF")
    for line in data.split(b"\r\n"):
        if len(line) > 75:
            raise ValueError(f"a content line is longer than 75 octets: {line[:40]!r}")
    cal = Calendar.from_ical(data)
    if cal.get("VERSION") != "2.0" or not cal.get("PRODID"):
        raise ValueError("VERSION 2.0 and PRODID are required")
    events = cal.walk("VEVENT")
    for event in events:
        for prop in ("UID", "DTSTAMP", "DTSTART"):
            if event.get(prop) is None:
                raise ValueError(f"VEVENT without {prop}")
        start = event.decoded("DTSTART")
        end = event.decoded("DTEND")
        if start.tzinfo is None or end <= start:
            raise ValueError("DTSTART must be a UTC time before DTEND")
    return len(events)


def main():
    failed = False
    for path in sys.argv[1:]:
        try:
            n = check(path)
            print(f"{path}: valid iCalendar, {n} events")
        except Exception as e:  # noqa: BLE001 - report any failure for this file
            print(f"{path}: INVALID: {e}")
            failed = True
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
