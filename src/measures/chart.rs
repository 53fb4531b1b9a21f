//! Geometry for server-rendered SVG line charts (no JavaScript): severity bands as background,
//! the reliable-change band around the baseline, and the scores as a line with points.
//! Pure; the template `measures/chart.html` draws it and adds the accessible title,
//! description and data table.

use super::library::Instrument;
use crate::db::Timestamp;

/// Chart size in SVG units (scaled by CSS).
pub const WIDTH: f64 = 600.0;
/// Chart height.
pub const HEIGHT: f64 = 220.0;
/// Left margin for axis labels.
const LEFT: f64 = 44.0;
/// Right margin.
const RIGHT: f64 = 12.0;
/// Top margin.
const TOP: f64 = 10.0;
/// Bottom margin for dates.
const BOTTOM: f64 = 28.0;

/// A background band.
pub struct BandRect {
    /// Top y.
    pub y: f64,
    /// Height.
    pub height: f64,
    /// Label.
    pub label: String,
    /// CSS class (`band-0`…, lighter to darker by severity).
    pub class: String,
}

/// A point on the line.
pub struct Point {
    /// x.
    pub x: f64,
    /// y.
    pub y: f64,
    /// Score.
    pub total: f64,
    /// Date label.
    pub date: String,
}

/// Everything the template needs.
pub struct Chart {
    /// Band rectangles.
    pub bands: Vec<BandRect>,
    /// Reliable-change band around the baseline (y, height), if a threshold is published.
    pub rc_band: Option<(f64, f64)>,
    /// Points.
    pub points: Vec<Point>,
    /// `points` as an SVG polyline attribute.
    pub polyline: String,
    /// Y-axis ticks (y, label).
    pub ticks: Vec<(f64, String)>,
    /// Plot area left edge and width.
    pub left: f64,
    /// Plot width.
    pub plot_width: f64,
    /// Bottom of the plot area.
    pub bottom: f64,
}

/// Lays out an instrument's chart for `(time, total)` pairs, oldest first: its published
/// range and bands, and the reliable-change band around the first score.
pub fn layout(inst: &Instrument, data: &[(Timestamp, f64)]) -> Chart {
    let (lo, hi) = match inst.reference.scoring.range.as_deref() {
        Some([lo, hi]) => (*lo, *hi),
        _ => (0.0, data.iter().map(|d| d.1).fold(1.0, f64::max)),
    };
    let bands: Vec<(f64, String)> = inst
        .reference
        .scoring
        .bands
        .iter()
        .filter_map(|b| Some((b.min?, b.label.clone())))
        .collect();
    let rc = inst.rules.reliable_change.as_ref().map(|rc| rc.points);
    layout_scaled(lo, hi, &bands, inst.rules.higher_is_worse, rc, data)
}

/// Lays out a plain line chart over `lo..=hi` (no bands), for mood and similar series.
pub fn layout_plain(lo: f64, hi: f64, data: &[(Timestamp, f64)]) -> Chart {
    layout_scaled(lo, hi, &[], false, None, data)
}

/// The geometry behind both: bands given as (minimum, label), lowest first.
fn layout_scaled(
    lo: f64,
    hi: f64,
    numeric: &[(f64, String)],
    higher_is_worse: bool,
    rc_points: Option<f64>,
    data: &[(Timestamp, f64)],
) -> Chart {
    let span = (hi - lo).max(1e-9);
    let plot_h = HEIGHT - TOP - BOTTOM;
    let plot_w = WIDTH - LEFT - RIGHT;
    let y_of = |v: f64| TOP + plot_h * (1.0 - (v - lo) / span);
    // Each band runs from its minimum up to the next band's minimum, so integer bands
    // (0–4, 5–9…) tile the plot without gaps.
    let count = numeric.len();
    let bands = numeric
        .iter()
        .enumerate()
        .map(|(i, (min, label))| {
            let upper = numeric.get(i + 1).map_or(hi, |next| next.0);
            let top = y_of(upper.min(hi));
            let bottom = y_of(min.max(lo));
            let severity = if higher_is_worse {
                i
            } else {
                count.saturating_sub(i + 1)
            };
            BandRect {
                y: top,
                height: (bottom - top).max(0.0),
                label: label.clone(),
                class: format!("band-{}", severity.min(4)),
            }
        })
        .collect();
    let n = data.len();
    let x_of = |i: usize| {
        if n <= 1 {
            LEFT + plot_w / 2.0
        } else {
            LEFT + plot_w * i as f64 / (n - 1) as f64
        }
    };
    let points: Vec<Point> = data
        .iter()
        .enumerate()
        .map(|(i, (at, total))| Point {
            x: x_of(i),
            y: y_of(*total),
            total: *total,
            date: at.display().chars().take(10).collect(),
        })
        .collect();
    let polyline = points
        .iter()
        .map(|p| format!("{:.1},{:.1}", p.x, p.y))
        .collect::<Vec<_>>()
        .join(" ");
    let rc_band = match (rc_points, data.first()) {
        (Some(points), Some((_, base))) => {
            let top = y_of((base + points).min(hi));
            let bottom = y_of((base - points).max(lo));
            Some((top, bottom - top))
        }
        _ => None,
    };
    let ticks = (0..=4)
        .map(|i| {
            let v = lo + span * i as f64 / 4.0;
            (
                y_of(v),
                if span >= 8.0 {
                    format!("{v:.0}")
                } else {
                    format!("{v:.1}")
                },
            )
        })
        .collect();
    Chart {
        bands,
        rc_band,
        points,
        polyline,
        ticks,
        left: LEFT,
        plot_width: plot_w,
        bottom: HEIGHT - BOTTOM,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::measures::library::Library;

    #[test]
    fn bands_fill_the_plot_and_points_sit_inside_it() {
        let lib = Library::load().unwrap();
        let phq9 = lib.instrument("phq9").unwrap();
        let t = Timestamp::now();
        let chart = layout(phq9, &[(t, 20.0), (t, 12.0), (t, 4.0)]);
        assert_eq!(chart.bands.len(), 5);
        let covered: f64 = chart.bands.iter().map(|b| b.height).sum();
        assert!(
            (covered - (HEIGHT - TOP - BOTTOM)).abs() < 0.01,
            "bands tile the plot: {covered}"
        );
        assert!(
            chart
                .points
                .iter()
                .all(|p| p.y >= TOP && p.y <= HEIGHT - BOTTOM)
        );
        assert!(
            chart.points[0].y < chart.points[2].y,
            "higher scores are drawn higher"
        );
        let (y, h) = chart.rc_band.unwrap();
        assert!(
            y < chart.points[0].y && y + h > chart.points[0].y,
            "the baseline sits inside its reliable-change band"
        );
    }
}
