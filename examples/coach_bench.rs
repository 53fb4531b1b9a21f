//! Coach benchmark (`bench/coach`): model load time, feedback latency per typical reply (at
//! most 64 word pieces) and memory, in-process as `tend serve` runs it. Run it with
//! `RAYON_NUM_THREADS=1` for the one-core figure. Prints one JSON object; `bench/coach` runs
//! PyTorch on the same replies in the same run and prints the ratio.
//!
//! Usage: cargo run --release --example coach_bench [rounds]

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::time::Instant;

use tend::coach::model::Model;

#[path = "support/mod.rs"]
mod support;
use support::rss_kib;

fn percentile(sorted: &[f64], p: f64) -> f64 {
    sorted[((sorted.len() as f64 - 1.0) * p).round() as usize]
}

fn main() {
    let rounds: usize = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(20);
    let dir = std::env::var_os("TEND_COACH_MODEL")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(tend::coach::default_model_dir);
    let before = rss_kib();
    let started = Instant::now();
    let model = Model::load(&dir).unwrap();
    let load_ms = started.elapsed().as_secs_f64() * 1000.0;
    let after_load = rss_kib();
    let engine = tend::coach::Engine::new(&dir);
    engine.model().unwrap();
    // Typical replies: the scenarios' example replies of at most 64 word pieces.
    let pairs: Vec<(String, String)> = tend::coach::scenarios::all()
        .into_iter()
        .filter(|s| model.token_count(&s.example_reply).unwrap() <= 64)
        .map(|s| (s.client_message.clone(), s.example_reply.clone()))
        .collect();
    let tokens: Vec<usize> = pairs
        .iter()
        .map(|(_, r)| model.token_count(r).unwrap())
        .collect();
    let sentences: usize = pairs
        .iter()
        .map(|(_, r)| tend::coach::text::sentences(r).len())
        .sum();
    let time = |cached: bool| {
        let mut ms = Vec::new();
        for _ in 0..rounds {
            for (client, reply) in &pairs {
                if !cached {
                    engine.model().unwrap().forget_contexts();
                }
                let t = Instant::now();
                let f = engine.feedback_blocking(client, reply).unwrap();
                ms.push(t.elapsed().as_secs_f64() * 1000.0);
                assert!(!f.sentences.is_empty());
            }
        }
        ms.sort_by(f64::total_cmp);
        ms
    };
    // Warm up the allocator and caches once.
    time(false);
    let cold = time(false);
    let warm = time(true);
    println!(
        "{}",
        serde_json::json!({
            "threads": std::env::var("RAYON_NUM_THREADS").unwrap_or_else(|_| "all".into()),
            "replies": pairs.len(),
            "mean_tokens_per_reply": tokens.iter().sum::<usize>() as f64 / tokens.len() as f64,
            "mean_sentences_per_reply": sentences as f64 / pairs.len() as f64,
            "model_load_ms": (load_ms * 10.0).round() / 10.0,
            "rss_before_load_mib": before as f64 / 1024.0,
            "rss_after_load_mib": after_load as f64 / 1024.0,
            "rss_after_runs_mib": rss_kib() as f64 / 1024.0,
            "reply_ms_new_client_message": {"p50": percentile(&cold, 0.5), "p99": percentile(&cold, 0.99), "mean": cold.iter().sum::<f64>() / cold.len() as f64},
            "reply_ms_same_client_message": {"p50": percentile(&warm, 0.5), "p99": percentile(&warm, 0.99), "mean": warm.iter().sum::<f64>() / warm.len() as f64},
        })
    );
}
