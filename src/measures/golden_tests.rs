//! Golden tests: every instrument at every band boundary, and the missing-item rules, with
//! expected labels typed from the reference files (not computed by the code under test).

use super::library::{Instrument, Library};
use super::scoring::{RiskLevel, ScoreError, score};

fn inst(id: &str) -> Instrument {
    Library::load().unwrap().instrument(id).unwrap().clone()
}

/// Answers for a sum-scored instrument reaching `total`, filling items in order with
/// `per_item_max` each (no reverse items).
fn answers_for_total(n_items: usize, per_item_max: i64, mut total: i64) -> Vec<Option<i64>> {
    (0..n_items)
        .map(|_| {
            let v = total.min(per_item_max);
            total -= v;
            Some(v)
        })
        .collect()
}

/// Checks totals and bands at each boundary.
fn check_bands(id: &str, n_items: usize, per_item_max: i64, cases: &[(i64, &str)]) {
    let inst = inst(id);
    for (total, label) in cases {
        let s = score(&inst, &answers_for_total(n_items, per_item_max, *total)).unwrap();
        assert_eq!(s.total, Some(*total as f64), "{id} total {total}");
        assert_eq!(s.band.as_deref(), Some(*label), "{id} total {total}");
        assert!(s.complete && !s.prorated);
    }
}

#[test]
fn phq9_bands_at_every_boundary() {
    // Item 9 stays 0 here so totals are not confounded with the risk flag; answers_for_total
    // fills items 1–8 first (max 24) and only then item 9.
    check_bands(
        "phq9",
        9,
        3,
        &[
            (0, "none/minimal"),
            (4, "none/minimal"),
            (5, "mild"),
            (9, "mild"),
            (10, "moderate"),
            (14, "moderate"),
            (15, "moderately severe"),
            (19, "moderately severe"),
            (20, "severe"),
            (24, "severe"),
        ],
    );
    let s = score(&inst("phq9"), &[Some(3); 9]).unwrap();
    assert_eq!((s.total, s.band.as_deref()), (Some(27.0), Some("severe")));
}

#[test]
fn gad7_bands_at_every_boundary() {
    check_bands(
        "gad7",
        7,
        3,
        &[
            (0, "minimal"),
            (4, "minimal"),
            (5, "mild"),
            (9, "mild"),
            (10, "moderate"),
            (14, "moderate"),
            (15, "severe"),
            (21, "severe"),
        ],
    );
}

#[test]
fn phq2_and_gad2_screens() {
    check_bands(
        "phq2",
        2,
        3,
        &[
            (0, "screen negative"),
            (2, "screen negative"),
            (3, "screen positive - administer PHQ-9"),
            (6, "screen positive - administer PHQ-9"),
        ],
    );
    check_bands(
        "gad2",
        2,
        3,
        &[
            (0, "screen negative"),
            (2, "screen negative"),
            (3, "screen positive - administer GAD-7"),
            (6, "screen positive - administer GAD-7"),
        ],
    );
}

#[test]
fn who5_raw_bands_percentage_and_item_flag() {
    let inst = inst("who5");
    for (answers, raw, pct, band) in [
        (
            [5, 5, 5, 5, 5],
            25.0,
            100.0,
            "not indicative of poor well-being",
        ),
        (
            [3, 3, 3, 2, 2],
            13.0,
            52.0,
            "not indicative of poor well-being",
        ),
        (
            [3, 3, 2, 2, 2],
            12.0,
            48.0,
            "poor well-being (raw <13): test for depression",
        ),
        (
            [0, 0, 0, 0, 0],
            0.0,
            0.0,
            "poor well-being (raw <13): test for depression",
        ),
    ] {
        let s = score(&inst, &answers.map(Some)).unwrap();
        assert_eq!(
            (s.total, s.percentage, s.band.as_deref()),
            (Some(raw), Some(pct), Some(band))
        );
    }
    let s = score(&inst, &[Some(5), Some(5), Some(5), Some(5), Some(1)]).unwrap();
    assert!(
        s.flags.contains(&"who5_item_low".to_string()),
        "an item at 0 or 1 raises the flag"
    );
    let s = score(&inst, &[Some(2); 5]).unwrap();
    assert!(!s.flags.contains(&"who5_item_low".to_string()));
}

#[test]
fn pcl5_totals_clusters_provisional_rule_and_no_severity_labels() {
    let inst = inst("pcl5");
    let s = score(&inst, &[Some(4); 20]).unwrap();
    assert_eq!(s.total, Some(80.0));
    assert_eq!(
        s.band, None,
        "no empirically derived severity ranges exist for the PCL-5"
    );
    let clusters: Vec<(String, Option<f64>)> = s
        .subscales
        .iter()
        .map(|c| (c.id.clone(), c.score))
        .collect();
    assert_eq!(
        clusters,
        vec![
            ("B".into(), Some(20.0)),
            ("C".into(), Some(8.0)),
            ("D".into(), Some(28.0)),
            ("E".into(), Some(24.0))
        ]
    );
    assert!(s.flags.contains(&"provisional_ptsd".to_string()));
    // One B, one C, two D, two E items at 2 ('Moderately'): exactly meets the rule.
    let mut a = vec![Some(0); 20];
    for n in [1, 6, 8, 9, 15, 17] {
        a[n - 1] = Some(2);
    }
    assert!(
        score(&inst, &a)
            .unwrap()
            .flags
            .contains(&"provisional_ptsd".to_string())
    );
    a[8] = Some(1); // only one D item endorsed now
    assert!(
        !score(&inst, &a)
            .unwrap()
            .flags
            .contains(&"provisional_ptsd".to_string())
    );
    // Item 16 at 2 or more asks for clinician review, not a crisis alert.
    let mut b = vec![Some(0); 20];
    b[15] = Some(2);
    assert_eq!(score(&inst, &b).unwrap().risk, Some(RiskLevel::Review));
}

#[test]
fn scs_sf_reverses_six_items_and_averages() {
    let inst = inst("scs_sf");
    // All 5s: reversed items (1,4,8,9,11,12) become 1, others stay 5 → mean 3.0.
    let s = score(&inst, &[Some(5); 12]).unwrap();
    assert_eq!((s.total, s.band.as_deref()), (Some(3.0), Some("moderate")));
    // Most self-compassionate: 1 on reversed items, 5 on the rest → 5.0.
    let reversed = [1, 4, 8, 9, 11, 12];
    let best: Vec<Option<i64>> = (1..=12)
        .map(|n| Some(if reversed.contains(&n) { 1 } else { 5 }))
        .collect();
    let s = score(&inst, &best).unwrap();
    assert_eq!((s.total, s.band.as_deref()), (Some(5.0), Some("high")));
    assert!(s.subscales.iter().all(|x| x.score == Some(5.0)));
    // Band edges: 2.5 is moderate, 29/12 ≈ 2.42 is low, 3.5 is high.
    let worst: Vec<Option<i64>> = (1..=12)
        .map(|n| Some(if reversed.contains(&n) { 5 } else { 1 }))
        .collect();
    assert_eq!(score(&inst, &worst).unwrap().band.as_deref(), Some("low"));
    // Start from the lowest score (mean 1.0, sum 12) and add one point at a time: raise
    // plain items from 1 towards 5, then lower reversed items from 5 towards 1.
    let at = |points: usize| {
        let mut a = worst.clone();
        let mut left = points;
        let order = (1..=12).filter(|n| !reversed.contains(n)).chain(reversed);
        for n in order {
            let bump = left.min(4);
            left -= bump;
            a[n - 1] = Some(if reversed.contains(&n) {
                5 - bump as i64
            } else {
                1 + bump as i64
            });
        }
        score(&inst, &a).unwrap()
    };
    // worst total = 12 (mean 1.0); each raised point adds 1/12.
    assert_eq!(at(18).total, Some(2.5));
    assert_eq!(at(18).band.as_deref(), Some("moderate"));
    assert_eq!(at(17).band.as_deref(), Some("low"));
    assert_eq!(at(30).total, Some(3.5));
    assert_eq!(at(30).band.as_deref(), Some("high"));
    assert_eq!(at(29).band.as_deref(), Some("moderate"));
}

#[test]
fn core10_reverses_items_2_and_3_and_bands() {
    let inst = inst("core10");
    // Items 2 and 3 answered 4 ('Most or all of the time') reverse to 0.
    let mut a = vec![Some(0); 10];
    a[1] = Some(4);
    a[2] = Some(4);
    assert_eq!(score(&inst, &a).unwrap().total, Some(0.0));
    let with_total = |t: i64| {
        let mut a = vec![Some(0); 10];
        a[1] = Some(4);
        a[2] = Some(4);
        let mut left = t;
        for n in [1usize, 4, 5, 7, 8, 9, 10, 2, 3, 6] {
            let reversed = n == 2 || n == 3;
            let room = 4;
            let bump = left.min(room);
            a[n - 1] = Some(if reversed { 4 - bump } else { bump });
            left -= bump;
        }
        score(&inst, &a).unwrap()
    };
    for (t, band) in [
        (10, "non-clinical (healthy / low level)"),
        (11, "mild psychological distress"),
        (14, "mild psychological distress"),
        (15, "moderate psychological distress"),
        (19, "moderate psychological distress"),
        (20, "moderate-to-severe psychological distress"),
        (24, "moderate-to-severe psychological distress"),
        (25, "severe psychological distress"),
        (36, "severe psychological distress"),
    ] {
        let s = with_total(t);
        assert_eq!(
            (s.total, s.band.as_deref()),
            (Some(t as f64), Some(band)),
            "CORE-10 {t}"
        );
    }
}

#[test]
fn phq9_prorates_up_to_two_missing_items_but_never_item_9() {
    let inst = inst("phq9");
    let mut a = vec![Some(2); 9];
    a[0] = None;
    let s = score(&inst, &a).unwrap();
    assert_eq!(
        (s.total, s.prorated, s.complete),
        (Some(18.0), true, false),
        "mean 2 × 9 items"
    );
    a[1] = None;
    assert_eq!(score(&inst, &a).unwrap().total, Some(18.0));
    a[2] = None;
    let s = score(&inst, &a).unwrap();
    assert_eq!(s.total, None, "three missing: not scored");
    assert!(s.flags.contains(&"incomplete".to_string()));
    let mut b = vec![Some(1); 9];
    b[8] = None;
    let s = score(&inst, &b).unwrap();
    assert_eq!(s.total, None, "item 9 is never imputed");
    assert_eq!(
        s.risk,
        Some(RiskLevel::Review),
        "an unanswered item 9 asks for follow-up"
    );
}

#[test]
fn phq9_item_9_above_zero_is_urgent_whatever_the_total() {
    let inst = inst("phq9");
    let mut a = vec![Some(0); 9];
    a[8] = Some(1);
    let s = score(&inst, &a).unwrap();
    assert_eq!((s.total, s.risk), (Some(1.0), Some(RiskLevel::Urgent)));
    assert!(s.flags.contains(&"item_9_positive".to_string()));
    // Item 10 (difficulty) is optional and unscored; its answer is the option's position.
    let mut with_10 = a.clone();
    with_10.push(Some(3));
    assert_eq!(score(&inst, &with_10).unwrap().total, Some(1.0));
}

#[test]
fn gad7_and_who5_do_not_score_incomplete_forms() {
    let mut a = vec![Some(1); 7];
    a[3] = None;
    assert_eq!(score(&inst("gad7"), &a).unwrap().total, None);
    assert_eq!(
        score(&inst("who5"), &[Some(3), None, Some(3), Some(3), Some(3)])
            .unwrap()
            .total,
        None
    );
}

#[test]
fn core10_prorates_one_missing_item_but_never_item_6() {
    let inst = inst("core10");
    let mut a = vec![Some(2); 10]; // items 2 and 3 reverse to 2 as well: total 20
    assert_eq!(score(&inst, &a).unwrap().total, Some(20.0));
    a[0] = None;
    assert_eq!(
        score(&inst, &a).unwrap().total,
        Some(20.0),
        "10 × mean of the nine answered"
    );
    a[3] = None;
    assert_eq!(
        score(&inst, &a).unwrap().total,
        None,
        "two missing: not scored"
    );
    let mut b = vec![Some(2); 10];
    b[5] = None;
    assert_eq!(
        score(&inst, &b).unwrap().total,
        None,
        "item 6 (risk) is never prorated"
    );
}

#[test]
fn cssrs_categories_follow_the_most_severe_answer() {
    let inst = inst("cssrs_screener");
    let y = Some(1);
    let n = Some(0);
    let cases: [(&[Option<i64>], Option<&str>); 6] = [
        (
            &[n, n, None, None, None, n, None],
            Some("no risk identified on screen"),
        ),
        (&[y, n, None, None, None, n, None], Some("low")),
        (&[y, y, y, n, n, n, None], Some("moderate")),
        (&[n, n, None, None, None, y, n], Some("moderate")),
        (&[y, y, n, y, n, n, None], Some("high")),
        (&[n, n, None, None, None, y, y], Some("high")),
    ];
    for (answers, band) in cases {
        let s = score(&inst, answers).unwrap();
        assert_eq!(s.band.as_deref(), band, "{answers:?}");
        assert_eq!(
            s.risk == Some(RiskLevel::Urgent),
            answers.contains(&y),
            "any Yes is urgent: {answers:?}"
        );
    }
    // A missing answer is never read as No.
    let s = score(&inst, &[n, y, None, None, None, n, None]).unwrap();
    assert_eq!((s.band, s.complete), (None, false));
    assert!(s.flags.contains(&"risk_item_unanswered".to_string()));
    // Follow-up items do not apply after No.
    assert!(matches!(
        score(&inst, &[n, n, y, None, None, n, None]),
        Err(ScoreError::NotApplicable { .. })
    ));
}

#[test]
fn bad_answers_are_refused_with_the_item_named() {
    let phq9 = inst("phq9");
    assert_eq!(
        score(&phq9, &[Some(0); 5]),
        Err(ScoreError::WrongCount {
            expected: 10,
            got: 5
        })
    );
    assert_eq!(
        score(&phq9, &[Some(0); 11]),
        Err(ScoreError::WrongCount {
            expected: 10,
            got: 11
        })
    );
    let mut a = vec![Some(0); 9];
    a[4] = Some(4);
    assert_eq!(
        score(&phq9, &a),
        Err(ScoreError::OutOfRange {
            item: "5".into(),
            value: 4,
            allowed: "0 to 3".into()
        })
    );
    assert!(
        matches!(
            score(&inst("scs_sf"), &[Some(0); 12]),
            Err(ScoreError::OutOfRange { .. })
        ),
        "SCS-SF runs 1–5"
    );
}
