//! Fitting the meaning screen's head (`tend safety train`): pure functions over encoded,
//! labelled statements, deterministic for a given seed.
//!
//! The level (none, concern, urgent) is read by a network with one hidden layer, fitted with
//! Adam on minibatches and an L2 penalty; the kind of risk by a softmax regression fitted by
//! full-batch gradient descent with balanced class weights. Both read standardised features.
//! A straight line through the encoder's space was tried first: at the same recall it flagged
//! a quarter of ordinary client talk as urgent, the hidden layer about one in forty (see
//! `safety/model/README.md`). The network's size and penalty and both thresholds are chosen
//! by stratified k-fold cross-validation: every statement is scored by a model that never saw
//! it, and the thresholds are the highest that still flag [`RECALL_TARGET`] of the urgent
//! (and of all risk) statements. The final models are then fitted on every statement.

use candle_core::{Device, Tensor, Var};
use candle_nn::{AdamW, Optimizer, ParamsAdamW};

use super::meaning::{
    CATEGORIES, Figures, Head, LEVELS, Mlp, RECALL_TARGET, Softmax, TrainingReport, standardise,
};
use super::screen::{Category, Level};

/// One encoded, labelled statement.
#[derive(Clone, Debug)]
pub struct Example {
    /// The encoder's vector.
    pub vector: Vec<f32>,
    /// Its label.
    pub level: Level,
    /// Its kind of risk (`None` for statements labelled none).
    pub category: Option<Category>,
}

/// Fitting settings.
#[derive(Clone, Debug)]
pub struct Settings {
    /// Cross-validation folds.
    pub folds: usize,
    /// Seed for the fold assignment, the weight initialisation and the minibatch order.
    pub seed: u64,
    /// (hidden units, L2 penalty) pairs to try for the level network.
    pub grid: Vec<(usize, f32)>,
    /// Passes over the data when fitting the level network.
    pub epochs: usize,
    /// Minibatch size for the level network.
    pub batch: usize,
    /// Gradient-descent steps for the kind-of-risk regression.
    pub steps: usize,
    /// L2 penalty of the kind-of-risk regression.
    pub category_l2: f32,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            folds: 5,
            seed: 2026,
            grid: vec![(128, 1.0), (128, 0.3), (128, 3.0), (64, 1.0)],
            epochs: 80,
            batch: 200,
            steps: 400,
            category_l2: 0.01,
        }
    }
}

/// Per-feature mean and scale (standard deviation, at least a small floor).
fn scaling(xs: &[&[f32]]) -> (Vec<f32>, Vec<f32>) {
    let dim = xs.first().map_or(0, |x| x.len());
    let n = xs.len().max(1) as f32;
    let mut mean = vec![0.0f32; dim];
    for x in xs {
        for (m, v) in mean.iter_mut().zip(x.iter()) {
            *m += v / n;
        }
    }
    let mut scale = vec![0.0f32; dim];
    for x in xs {
        for ((s, v), m) in scale.iter_mut().zip(x.iter()).zip(&mean) {
            *s += (v - m) * (v - m) / n;
        }
    }
    for s in &mut scale {
        *s = s.sqrt().max(1e-4);
    }
    (mean, scale)
}

/// Fits a softmax regression to standardised `xs` with targets `ys` (class indices).
fn fit(xs: &[Vec<f32>], ys: &[usize], classes: usize, l2: f32, steps: usize) -> Softmax {
    let dim = xs.first().map_or(0, Vec::len);
    let mut counts = vec![0usize; classes];
    for &y in ys {
        counts[y] += 1;
    }
    // Balanced class weights: each class counts as much as the others in the loss.
    let weights: Vec<f32> = counts
        .iter()
        .map(|&c| {
            if c == 0 {
                0.0
            } else {
                xs.len() as f32 / (classes as f32 * c as f32)
            }
        })
        .collect();
    let total: f32 = ys.iter().map(|&y| weights[y]).sum::<f32>().max(1.0);
    let mut model = Softmax {
        weights: vec![vec![0.0; dim]; classes],
        bias: vec![0.0; classes],
    };
    // Nesterov-free momentum keeps this simple and fast enough for a few thousand rows.
    let rate = 0.5f32;
    let momentum = 0.9f32;
    let mut velocity_w = vec![vec![0.0f32; dim]; classes];
    let mut velocity_b = vec![0.0f32; classes];
    for _ in 0..steps {
        let mut grad_w = vec![vec![0.0f32; dim]; classes];
        let mut grad_b = vec![0.0f32; classes];
        for (x, &y) in xs.iter().zip(ys) {
            let p = model.probabilities(x);
            let w = weights[y] / total;
            for c in 0..classes {
                let err = w * (p[c] - if c == y { 1.0 } else { 0.0 });
                grad_b[c] += err;
                for (g, v) in grad_w[c].iter_mut().zip(x) {
                    *g += err * v;
                }
            }
        }
        for c in 0..classes {
            for ((wt, g), vel) in model.weights[c]
                .iter_mut()
                .zip(&grad_w[c])
                .zip(velocity_w[c].iter_mut())
            {
                *vel = momentum * *vel - rate * (g + l2 * *wt);
                *wt += *vel;
            }
            velocity_b[c] = momentum * velocity_b[c] - rate * grad_b[c];
            model.bias[c] += velocity_b[c];
        }
    }
    model
}

/// Fits the level network to standardised `xs` with targets `ys`: Glorot-uniform weights
/// from `seed`, Adam (learning rate 0.001) on shuffled minibatches, cross-entropy plus
/// `l2 / 2 × ‖weights‖² / batch size`.
fn fit_mlp(
    xs: &[Vec<f32>],
    ys: &[usize],
    classes: usize,
    hidden: usize,
    l2: f32,
    settings: &Settings,
    seed: u64,
) -> Result<Mlp, String> {
    let err = |e: candle_core::Error| e.to_string();
    let device = Device::Cpu;
    let dim = xs.first().map_or(0, Vec::len);
    let mut state = seed;
    let mut glorot = |rows: usize, cols: usize| -> Result<Var, String> {
        let limit = (6.0 / (rows + cols) as f64).sqrt();
        let values: Vec<f32> = (0..rows * cols)
            .map(|_| {
                let unit = (splitmix(&mut state) >> 11) as f64 / (1u64 << 53) as f64;
                ((unit * 2.0 - 1.0) * limit) as f32
            })
            .collect();
        Var::from_vec(values, (rows, cols), &device).map_err(err)
    };
    let w1 = glorot(hidden, dim)?;
    let b1 = glorot(1, hidden)?;
    let w2 = glorot(classes, hidden)?;
    let b2 = glorot(1, classes)?;
    let mut optimiser = AdamW::new(
        vec![w1.clone(), b1.clone(), w2.clone(), b2.clone()],
        ParamsAdamW {
            weight_decay: 0.0,
            ..ParamsAdamW::default()
        },
    )
    .map_err(err)?;
    let flat: Vec<f32> = xs.iter().flatten().copied().collect();
    let all_x = Tensor::from_vec(flat, (xs.len(), dim), &device).map_err(err)?;
    let all_y = Tensor::from_vec(
        ys.iter().map(|&y| y as u32).collect::<Vec<_>>(),
        xs.len(),
        &device,
    )
    .map_err(err)?;
    let mut order: Vec<u32> = (0..xs.len() as u32).collect();
    for _ in 0..settings.epochs {
        for i in (1..order.len()).rev() {
            let j = (splitmix(&mut state) % (i as u64 + 1)) as usize;
            order.swap(i, j);
        }
        for batch in order.chunks(settings.batch.max(1)) {
            let index = Tensor::new(batch, &device).map_err(err)?;
            let x = all_x.index_select(&index, 0).map_err(err)?;
            let y = all_y.index_select(&index, 0).map_err(err)?;
            let logits = x
                .matmul(&w1.t().map_err(err)?)
                .and_then(|h| h.broadcast_add(&b1))
                .and_then(|h| h.relu())
                .and_then(|h| h.matmul(&w2.t()?))
                .and_then(|o| o.broadcast_add(&b2))
                .map_err(err)?;
            let penalty = (w1.sqr().and_then(|w| w.sum_all()))
                .and_then(|a| a + w2.sqr()?.sum_all()?)
                .and_then(|total| total * (f64::from(l2) / (2.0 * batch.len() as f64)))
                .map_err(err)?;
            let loss = candle_nn::loss::cross_entropy(&logits, &y)
                .and_then(|l| l + penalty)
                .map_err(err)?;
            optimiser.backward_step(&loss).map_err(err)?;
        }
    }
    let rows = |v: &Var| -> Result<Vec<Vec<f32>>, String> { v.as_tensor().to_vec2().map_err(err) };
    let row = |v: &Var| -> Result<Vec<f32>, String> {
        v.as_tensor()
            .flatten_all()
            .and_then(|t| t.to_vec1())
            .map_err(err)
    };
    Ok(Mlp {
        hidden_weights: rows(&w1)?,
        hidden_bias: row(&b1)?,
        out: Softmax {
            weights: rows(&w2)?,
            bias: row(&b2)?,
        },
    })
}

fn level_index(level: Level) -> usize {
    LEVELS.iter().position(|l| *l == level).unwrap_or(0)
}

fn category_index(category: Category) -> usize {
    CATEGORIES.iter().position(|c| *c == category).unwrap_or(0)
}

/// A small deterministic generator for the fold assignment (SplitMix64).
fn splitmix(state: &mut u64) -> u64 {
    *state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
    let mut z = *state;
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// Fold of each example, stratified by label so each fold holds its share of urgent rows.
fn folds(examples: &[Example], k: usize, seed: u64) -> Vec<usize> {
    let mut state = seed;
    let mut fold = vec![0; examples.len()];
    for level in LEVELS {
        let mut members: Vec<usize> = (0..examples.len())
            .filter(|&i| examples[i].level == level)
            .collect();
        // Fisher–Yates.
        for i in (1..members.len()).rev() {
            let j = (splitmix(&mut state) % (i as u64 + 1)) as usize;
            members.swap(i, j);
        }
        for (position, &i) in members.iter().enumerate() {
            fold[i] = position % k;
        }
    }
    fold
}

/// The highest threshold at which at least `target` of the positives score at or above it.
fn threshold_for_recall(positive_scores: &[f32], target: f64) -> f32 {
    let mut sorted = positive_scores.to_vec();
    sorted.sort_by(|a, b| b.total_cmp(a));
    if sorted.is_empty() {
        return 0.5;
    }
    let needed = ((target * sorted.len() as f64).ceil() as usize).clamp(1, sorted.len());
    sorted[needed - 1]
}

/// Recall and precision of flagging `score ≥ threshold` against `positive`.
fn recall_precision(scores: &[(f32, bool)], threshold: f32) -> (f64, f64) {
    let flagged = scores.iter().filter(|(s, _)| *s >= threshold).count();
    let hits = scores.iter().filter(|(s, p)| *p && *s >= threshold).count();
    let positives = scores.iter().filter(|(_, p)| *p).count();
    let ratio = |a: usize, b: usize| if b == 0 { 0.0 } else { a as f64 / b as f64 };
    (ratio(hits, positives), ratio(hits, flagged))
}

/// Level probabilities of every example from a network that never saw it.
fn out_of_fold(
    examples: &[Example],
    settings: &Settings,
    hidden: usize,
    l2: f32,
) -> Result<Vec<Vec<f32>>, String> {
    let fold = folds(examples, settings.folds, settings.seed);
    let mut out = vec![Vec::new(); examples.len()];
    for k in 0..settings.folds {
        let train: Vec<&Example> = examples
            .iter()
            .zip(&fold)
            .filter(|(_, f)| **f != k)
            .map(|(e, _)| e)
            .collect();
        let (mean, scale, xs, ys) = level_data(&train);
        let seed = settings.seed.wrapping_add(k as u64 + 1);
        let model = fit_mlp(&xs, &ys, LEVELS.len(), hidden, l2, settings, seed)?;
        for (i, e) in examples.iter().enumerate() {
            if fold[i] == k {
                out[i] = model.probabilities(&standardise(&e.vector, &mean, &scale));
            }
        }
    }
    Ok(out)
}

/// Standardised features and level targets of `examples`, with the scaling used.
fn level_data(examples: &[&Example]) -> (Vec<f32>, Vec<f32>, Vec<Vec<f32>>, Vec<usize>) {
    let raw: Vec<&[f32]> = examples.iter().map(|e| e.vector.as_slice()).collect();
    let (mean, scale) = scaling(&raw);
    let xs = examples
        .iter()
        .map(|e| standardise(&e.vector, &mean, &scale))
        .collect();
    let ys = examples.iter().map(|e| level_index(e.level)).collect();
    (mean, scale, xs, ys)
}

/// Thresholds for the recall target and the figures they give, from out-of-fold scores.
fn thresholds(examples: &[Example], probs: &[Vec<f32>]) -> (f32, f32, Figures) {
    let urgent: Vec<(f32, bool)> = probs
        .iter()
        .zip(examples)
        .map(|(p, e)| (p[2], e.level == Level::Urgent))
        .collect();
    let risk: Vec<(f32, bool)> = probs
        .iter()
        .zip(examples)
        .map(|(p, e)| (p[1] + p[2], e.level != Level::None))
        .collect();
    let positives = |scores: &[(f32, bool)]| -> Vec<f32> {
        scores.iter().filter(|s| s.1).map(|s| s.0).collect()
    };
    let urgent_threshold = threshold_for_recall(&positives(&urgent), RECALL_TARGET);
    let risk_threshold = threshold_for_recall(&positives(&risk), RECALL_TARGET);
    let (urgent_recall, urgent_precision) = recall_precision(&urgent, urgent_threshold);
    // A text is flagged when either threshold is reached (urgent implies risk).
    let flagged: Vec<(f32, bool)> = probs
        .iter()
        .zip(examples)
        .map(|(p, e)| {
            let hit = p[2] >= urgent_threshold || p[1] + p[2] >= risk_threshold;
            (if hit { 1.0 } else { 0.0 }, e.level != Level::None)
        })
        .collect();
    let (risk_recall, risk_precision) = recall_precision(&flagged, 0.5);
    (
        urgent_threshold,
        risk_threshold,
        Figures {
            urgent_recall,
            urgent_precision,
            risk_recall,
            risk_precision,
        },
    )
}

/// Trains the head: picks the network size and penalty with the best out-of-fold precision
/// at the recall target, sets the thresholds from its out-of-fold scores, then fits on
/// everything. `encoder_sha256` and `files` are recorded in the head as given.
pub fn train(
    examples: &[Example],
    settings: &Settings,
    encoder_sha256: String,
    files: Vec<String>,
) -> Result<Head, String> {
    let urgent = examples.iter().filter(|e| e.level == Level::Urgent).count();
    let risk = examples.iter().filter(|e| e.level != Level::None).count();
    if urgent < settings.folds || risk == examples.len() || settings.folds < 2 {
        return Err(format!(
            "too few statements to train on: {} in all, {urgent} urgent, {risk} risk",
            examples.len()
        ));
    }
    let mut best: Option<(usize, f32, f32, f32, Figures)> = None;
    for &(hidden, l2) in &settings.grid {
        let probs = out_of_fold(examples, settings, hidden, l2)?;
        let (u, r, figures) = thresholds(examples, &probs);
        let better = best.as_ref().is_none_or(|(.., b)| {
            figures.urgent_precision + figures.risk_precision
                > b.urgent_precision + b.risk_precision
        });
        if better {
            best = Some((hidden, l2, u, r, figures));
        }
    }
    let Some((hidden, l2, urgent_threshold, risk_threshold, cross_validated)) = best else {
        return Err("no network size to try".into());
    };
    let (mean, scale, xs, ys) = level_data(&examples.iter().collect::<Vec<_>>());
    let level = fit_mlp(&xs, &ys, LEVELS.len(), hidden, l2, settings, settings.seed)?;
    let (risk_xs, risk_ys): (Vec<Vec<f32>>, Vec<usize>) = examples
        .iter()
        .zip(&xs)
        .filter_map(|(e, x)| e.category.map(|c| (x.clone(), category_index(c))))
        .unzip();
    let category = fit(
        &risk_xs,
        &risk_ys,
        CATEGORIES.len(),
        settings.category_l2,
        settings.steps,
    );
    Ok(Head {
        encoder_sha256,
        mean,
        scale,
        level,
        category,
        urgent_threshold,
        risk_threshold,
        training: TrainingReport {
            files,
            rows: examples.len(),
            urgent,
            risk,
            folds: settings.folds,
            seed: settings.seed,
            hidden,
            l2,
            cross_validated,
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Three well-separated clusters standing in for encoded statements.
    fn clusters() -> Vec<Example> {
        let mut state = 7u64;
        let mut noise = || (splitmix(&mut state) % 1000) as f32 / 1000.0 - 0.5;
        let mut out = Vec::new();
        for i in 0..60 {
            let (level, category, centre) = match i % 3 {
                0 => (Level::None, None, [1.0, 0.0, 0.0]),
                1 => (Level::Concern, Some(Category::SelfHarm), [0.0, 1.0, 0.0]),
                _ => (Level::Urgent, Some(Category::Suicide), [0.0, 0.0, 1.0]),
            };
            let vector = centre.iter().map(|c| c * 3.0 + noise()).collect();
            out.push(Example {
                vector,
                level,
                category,
            });
        }
        out
    }

    /// A small network, enough for three clusters.
    fn small() -> Settings {
        Settings {
            grid: vec![(16, 0.1)],
            epochs: 300,
            batch: 8,
            ..Settings::default()
        }
    }

    #[test]
    fn learns_separable_levels_and_meets_the_recall_target_out_of_fold() {
        let examples = clusters();
        let head = train(&examples, &small(), "abc".into(), vec![]).unwrap();
        assert!(head.training.cross_validated.urgent_recall >= RECALL_TARGET);
        assert!(head.training.cross_validated.urgent_precision > 0.9);
        let urgent = head
            .level
            .probabilities(&head.standardise(&[0.0, 0.0, 3.0]));
        let none = head
            .level
            .probabilities(&head.standardise(&[3.0, 0.0, 0.0]));
        assert!(urgent[2] > head.urgent_threshold, "{urgent:?}");
        assert!(none[1] + none[2] < head.risk_threshold, "{none:?}");
    }

    #[test]
    fn the_same_seed_gives_the_same_head() {
        let examples = clusters();
        let a = train(&examples, &small(), "x".into(), vec![]).unwrap();
        let b = train(&examples, &small(), "x".into(), vec![]).unwrap();
        assert_eq!(a, b);
    }

    #[test]
    fn refuses_too_little_data() {
        let examples: Vec<Example> = clusters().into_iter().take(6).collect();
        assert!(train(&examples, &Settings::default(), "x".into(), vec![]).is_err());
    }

    #[test]
    fn threshold_keeps_the_recall_target() {
        let scores = [0.9, 0.8, 0.7, 0.6, 0.5, 0.4, 0.3, 0.2, 0.1, 0.05];
        let t = threshold_for_recall(&scores, 0.95);
        assert_eq!(t, 0.05);
        let t = threshold_for_recall(&scores, 0.5);
        assert_eq!(t, 0.5);
    }

    #[test]
    fn folds_are_stratified() {
        let examples = clusters();
        let fold = folds(&examples, 5, 1);
        for k in 0..5 {
            let urgent = (0..examples.len())
                .filter(|&i| fold[i] == k && examples[i].level == Level::Urgent)
                .count();
            assert_eq!(urgent, 4);
        }
    }
}
