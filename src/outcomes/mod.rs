//! Practice outcomes: how the practice's clients are doing, per questionnaire and per
//! therapist, for a clinical lead (supervisor) or an admin. Only counts leave the database;
//! no client is named.
//!
//! Pure parts live here ([`Counts`], [`tally`], [`csv`]); `queries` reads the counts and
//! `pages` serves the report and its CSV.

pub mod demo;
pub mod pages;
pub mod queries;

use crate::authz::{Access, Role};
use crate::measures::change::ChangeStatus;
use crate::web::routes::Route;

/// Clinical leads and admins: figures about the practice, never about one client.
pub const LEADS: Access = Access::Roles(&[Role::Supervisor, Role::Admin]);

/// Below this many clients, percentages are withheld: one client moves them by 10 points or
/// more, and a small group could be recognised.
pub const MIN_CLIENTS: i64 = 10;

/// Routes of this feature.
pub fn routes() -> Vec<Route> {
    vec![
        Route::get("/outcomes", LEADS, pages::show_report),
        Route::get("/outcomes.csv", LEADS, pages::download_csv),
    ]
}

/// Clients by where they stand on one questionnaire, baseline to latest.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Counts {
    /// Reliably improved and out of the clinical range.
    pub recovered: i64,
    /// Reliably improved, not (yet) recovered.
    pub improved: i64,
    /// No reliable change either way.
    pub no_change: i64,
    /// Reliably worse.
    pub deteriorated: i64,
}

impl Counts {
    /// Adds `n` clients with `status`; statuses without a published reliable-change value
    /// (or unknown) are not counted, since nothing can be said of them.
    pub fn add(&mut self, status: &str, n: i64) {
        match ChangeStatus::from_stored(status) {
            Some(ChangeStatus::Recovered) => self.recovered += n,
            Some(ChangeStatus::ReliablyImproved) => self.improved += n,
            Some(ChangeStatus::NoReliableChange) => self.no_change += n,
            Some(ChangeStatus::ReliablyDeteriorated) => self.deteriorated += n,
            Some(ChangeStatus::NotAvailable) | None => {}
        }
    }

    /// Clients counted.
    pub fn total(&self) -> i64 {
        self.recovered + self.improved + self.no_change + self.deteriorated
    }

    /// Each group in order (recovered, reliably improved, no reliable change, reliably
    /// deteriorated) with its whole-number percentage, or `None` for all when fewer than
    /// [`MIN_CLIENTS`] were counted.
    pub fn percents(&self) -> Option<[i64; 4]> {
        let n = self.total();
        if n < MIN_CLIENTS {
            return None;
        }
        let pct = |k: i64| (k * 1000 / n + 5) / 10;
        Some([
            pct(self.recovered),
            pct(self.improved),
            pct(self.no_change),
            pct(self.deteriorated),
        ])
    }

    /// The stacked bar's segments: (x, width) in percent of the bar, one per group.
    pub fn bar(&self) -> Option<[(f64, f64); 4]> {
        let n = self.total();
        if n < MIN_CLIENTS {
            return None;
        }
        let mut x = 0.0;
        let mut out = [(0.0, 0.0); 4];
        for (slot, k) in out.iter_mut().zip([
            self.recovered,
            self.improved,
            self.no_change,
            self.deteriorated,
        ]) {
            let w = k as f64 * 100.0 / n as f64;
            *slot = (x, w);
            x += w;
        }
        Some(out)
    }
}

/// The groups' names, in [`Counts::percents`] order.
pub const GROUPS: [&str; 4] = [
    "Recovered",
    "Reliably improved",
    "No reliable change",
    "Reliably deteriorated",
];

/// One line of the report: a questionnaire, for the practice or one therapist.
#[derive(Clone, Debug, PartialEq)]
pub struct Line {
    /// Who: "Whole practice" or the therapist's name.
    pub scope: String,
    /// Questionnaire id.
    pub instrument: String,
    /// The counts.
    pub counts: Counts,
}

/// Folds `(scope, instrument, status, clients)` rows into lines, in the order scopes and
/// instruments first appear.
pub fn tally(rows: &[(String, String, String, i64)]) -> Vec<Line> {
    let mut lines: Vec<Line> = Vec::new();
    for (scope, instrument, status, n) in rows {
        let at = match lines
            .iter()
            .position(|l| &l.scope == scope && &l.instrument == instrument)
        {
            Some(i) => i,
            None => {
                lines.push(Line {
                    scope: scope.clone(),
                    instrument: instrument.clone(),
                    counts: Counts::default(),
                });
                lines.len() - 1
            }
        };
        lines[at].counts.add(status, *n);
    }
    lines.retain(|l| l.counts.total() > 0);
    lines
}

/// Weeks after care began at which retention is read.
pub const RETENTION_WEEKS: [i64; 5] = [4, 8, 12, 26, 52];

/// Retention at one point: of the clients whose care began at least `weeks` ago, how many were
/// still in contact (a message either way or an attended session) at or after that point.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Retention {
    /// Weeks since care began.
    pub weeks: i64,
    /// Clients in care for at least that long.
    pub eligible: i64,
    /// Of those, still in contact then or later.
    pub retained: i64,
}

impl Retention {
    /// Whole percent retained, or `None` below [`MIN_CLIENTS`].
    pub fn percent(&self) -> Option<i64> {
        (self.eligible >= MIN_CLIENTS).then(|| (self.retained * 1000 / self.eligible + 5) / 10)
    }
}

/// The curve as SVG points ("x,y" pairs in a 100 × 40 box, y growing downwards), over the
/// points that have a percentage.
pub fn retention_points(curve: &[Retention]) -> String {
    let last = RETENTION_WEEKS[RETENTION_WEEKS.len() - 1] as f64;
    curve
        .iter()
        .filter_map(|r| {
            let p = r.percent()?;
            Some(format!(
                "{:.1},{:.1}",
                r.weeks as f64 * 100.0 / last,
                40.0 - p as f64 * 0.4
            ))
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// One CSV field: quoted when it holds a comma, quote or line break, and prefixed with an
/// apostrophe when it starts like a formula, so a spreadsheet shows it rather than runs it.
fn field(value: &str) -> String {
    let value = if value.starts_with(['=', '+', '-', '@', '\t', '\r', '\0']) {
        format!("'{value}")
    } else {
        value.to_string()
    };
    if value.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", value.replace('"', "\"\""))
    } else {
        value
    }
}

/// The report as CSV (RFC 4180, CRLF line ends): counts always, percentages where there are
/// enough clients.
pub fn csv(lines: &[Line], instrument_name: impl Fn(&str) -> String) -> String {
    let mut out = String::from(
        "scope,instrument,clients,recovered,reliably_improved,no_reliable_change,reliably_deteriorated,\
         recovered_pct,reliably_improved_pct,no_reliable_change_pct,reliably_deteriorated_pct\r\n",
    );
    for l in lines {
        let c = &l.counts;
        let pcts = c.percents().map_or_else(
            || vec![String::new(); 4],
            |p| p.map(|v| v.to_string()).to_vec(),
        );
        let row = [
            field(&l.scope),
            field(&instrument_name(&l.instrument)),
            c.total().to_string(),
            c.recovered.to_string(),
            c.improved.to_string(),
            c.no_change.to_string(),
            c.deteriorated.to_string(),
        ]
        .into_iter()
        .chain(pcts)
        .collect::<Vec<_>>()
        .join(",");
        out.push_str(&row);
        out.push_str("\r\n");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(scope: &str, instrument: &str, status: &str, n: i64) -> (String, String, String, i64) {
        (scope.into(), instrument.into(), status.into(), n)
    }

    #[test]
    fn counts_group_and_withhold_small_numbers() {
        let lines = tally(&[
            row("Whole practice", "phq9", "recovered", 6),
            row("Whole practice", "phq9", "reliably_improved", 3),
            row("Whole practice", "phq9", "no_reliable_change", 2),
            row("Whole practice", "phq9", "reliably_deteriorated", 1),
            row("Whole practice", "phq9", "not_available", 9),
            row("Whole practice", "who5", "not_available", 4),
            row("Ana", "phq9", "recovered", 2),
        ]);
        assert_eq!(lines.len(), 2, "nothing countable on the WHO-5");
        let practice = &lines[0].counts;
        assert_eq!(practice.total(), 12);
        assert_eq!(practice.percents(), Some([50, 25, 17, 8]));
        let bar = practice.bar().unwrap();
        assert_eq!(bar[1], (50.0, 25.0));
        assert!((bar[3].0 + bar[3].1 - 100.0).abs() < 1e-9);
        assert_eq!(lines[1].scope, "Ana");
        assert_eq!(lines[1].counts.percents(), None);
        assert_eq!(lines[1].counts.bar(), None);
    }

    #[test]
    fn retention_reads_as_percentages_and_points() {
        let point = |weeks, eligible, retained| Retention {
            weeks,
            eligible,
            retained,
        };
        let curve = [
            point(4, 15, 14),
            point(8, 12, 8),
            point(12, 12, 8),
            point(26, 12, 8),
            point(52, 0, 0),
        ];
        assert_eq!(curve[1].percent(), Some(67));
        assert_eq!(curve[4].percent(), None);
        assert_eq!(
            retention_points(&curve),
            "7.7,2.8 15.4,13.2 23.1,13.2 50.0,13.2"
        );
    }

    #[test]
    fn csv_quotes_and_defuses_formulas() {
        let lines = tally(&[
            row("=HYPERLINK(\"x\")", "phq9", "recovered", 1),
            row("Rowan, Tess", "gad7", "reliably_improved", 10),
        ]);
        let text = csv(&lines, |id| id.to_uppercase());
        let rows: Vec<&str> = text.split("\r\n").collect();
        assert_eq!(rows[1], "\"'=HYPERLINK(\"\"x\"\")\",PHQ9,1,1,0,0,0,,,,");
        assert_eq!(rows[2], "\"Rowan, Tess\",GAD7,10,0,10,0,0,0,100,0,0");
        assert_eq!(rows[3], "");
        assert_eq!(field("\0=1+2"), "'\0=1+2");
    }
}
