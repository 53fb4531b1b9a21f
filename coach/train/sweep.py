"""Recipe sweep for the coach model on one GPU: worker processes share the GPU, each trains
one (recipe, seed) at a time with train.py's train_one. Phase 1 runs every recipe on seeds
13 and 21; phase 2 adds seed 34 to recipes in order of their validation score so far.
Selection is by validation (mean of the four figures at the best epoch); test is reported.
Writes results.jsonl (one line per run) and summary.json after every run."""

import argparse
import json
import multiprocessing as mp
import os
import sys
import time
import traceback

HERE = os.path.dirname(os.path.abspath(__file__))
FOUR = ["behaviour_4way", "reflection_vs_not", "open_vs_closed", "simple_vs_complex"]

E8 = {"epochs": 8}
CONFIGS = [
    ("base_e4", {}),  # the shipped recipe, as a GPU control
    ("bi_e8", E8),
    ("cross_mean_e8", {**E8, "pair": "cross", "pool": "mean"}),
    ("cross_cls_e8", {**E8, "pair": "cross", "pool": "cls"}),
    ("bi_e8_lr3e-5", {**E8, "lr": 3e-5}),
    ("bi_e8_lr8e-5", {**E8, "lr": 8e-5}),
    ("cross_mean_e8_lr3e-5", {**E8, "pair": "cross", "lr": 3e-5}),
    ("cross_mean_e8_lr8e-5", {**E8, "pair": "cross", "lr": 8e-5}),
    ("bi_e8_hier1", {**E8, "hier": 1.0}),
    ("bi_e8_ls0.1", {**E8, "label_smoothing": 0.1}),
    ("bi_e10_lr2e-5", {"epochs": 10, "lr": 2e-5}),
    ("bi_e8_cw_inv", {**E8, "class_weight": "inv"}),
    ("bi_e8_cw_none", {**E8, "class_weight": "none"}),
    ("cross_mean_e8_hier1_ls0.1", {**E8, "pair": "cross", "hier": 1.0, "label_smoothing": 0.1}),
    ("cross_mean_e8_cw_inv", {**E8, "pair": "cross", "class_weight": "inv"}),
    ("bi_e8_units_both", {**E8, "units": "both"}),
    ("bi_e6", {"epochs": 6}),
    ("bi_e8_lr3e-5_ls0.1", {**E8, "lr": 3e-5, "label_smoothing": 0.1}),
]
DEFAULTS = dict(
    layers=6, epochs=4, batch=32, lr=5e-5, split_seed=2026, threads=1, device="cuda", pair="bi", pool="mean",
    head_lr=1e-3, label_smoothing=0.0, hier=0.0, class_weight="isqrt", units="utterance",
)

G = {}


def init(data, encoder, device, limit):
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    sys.path.insert(0, HERE)
    import torch
    import transformers

    import train as T

    transformers.logging.set_verbosity_error()
    transformers.utils.logging.disable_progress_bar()

    torch.set_num_threads(1)
    items = T.load_annomi(data)
    tr, va, te = T.split(items, 2026)
    if limit:  # local smoke test only
        tr, va, te = tr[:limit], va[:limit], te[: 2 * limit]
    G.update(T=T, train=tr, val=va, test=te, encoder=encoder, device=device)


def job(name, overrides, seed):
    T = G["T"]
    args = argparse.Namespace(**{**DEFAULTS, **overrides, "encoder": G["encoder"], "device": G["device"]})
    hist = []
    t0 = time.time()
    try:
        _, tm, ep = T.train_one(args, G["train"], G["val"], G["test"], seed, history=hist)
    except Exception:
        return {"name": name, "seed": seed, "error": traceback.format_exc()}
    vbest = hist[ep - 1]["val"]
    return {
        "name": name, "seed": seed, "overrides": overrides, "best_epoch": ep, "seconds": round(time.time() - t0, 1),
        "val": vbest, "val_score": round(sum(vbest[k] for k in FOUR) / 4, 2), "test": tm, "history": hist,
    }


def summarise(results):
    import numpy as np

    out = {}
    for name, ov in CONFIGS:
        rs = [r for r in results if r["name"] == name and "error" not in r]
        if not rs:
            continue
        s = {"overrides": ov, "seeds": [r["seed"] for r in rs], "best_epochs": [r["best_epoch"] for r in rs],
             "val_score": round(float(np.mean([r["val_score"] for r in rs])), 2)}
        for part in ("val", "test"):
            s[part] = {
                k: {"mean": round(float(np.mean([r[part][k] for r in rs])), 1),
                    "sd": round(float(np.std([r[part][k] for r in rs])), 1)}
                for k in rs[0][part]
            }
        out[name] = s
    return dict(sorted(out.items(), key=lambda kv: -kv[1]["val_score"]))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", required=True)
    ap.add_argument("--data", default=os.path.join(HERE, "data"))
    ap.add_argument("--encoder", default=os.path.join(HERE, "encoder"))
    ap.add_argument("--device", default="cuda")
    ap.add_argument("--workers", type=int, default=8)
    ap.add_argument("--start-cutoff", type=float, default=330, help="seconds after which no run starts")
    ap.add_argument("--hard-stop", type=float, default=440, help="seconds after which running runs are dropped")
    ap.add_argument("--limit", type=int, default=0)
    ap.add_argument("--only", nargs="*", default=None)
    ap.add_argument("--seeds", type=int, nargs="+", default=[13, 21, 34])
    ap.add_argument("--jobs", nargs="*", default=None, help="explicit name:seed runs, in order")
    a = ap.parse_args()
    global CONFIGS
    if a.only:
        CONFIGS = [c for c in CONFIGS if c[0] in a.only]
    t_start = time.time()
    os.makedirs(a.out, exist_ok=True)
    jl = open(os.path.join(a.out, "results.jsonl"), "a")
    ctx = mp.get_context("spawn")
    pool = ctx.Pool(a.workers, initializer=init, initargs=(a.data, a.encoder, a.device, a.limit))
    phase1 = [(n, ov, s) for s in a.seeds[:2] for n, ov in CONFIGS]
    later = a.seeds[2:]
    if a.jobs:
        cfg = dict(CONFIGS)
        phase1 = [(j.rsplit(":", 1)[0], cfg[j.rsplit(":", 1)[0]], int(j.rsplit(":", 1)[1])) for j in a.jobs]
        later = []
    done_p2 = set()
    results, running, errors = [], [], 0

    def next_job():
        if phase1:
            return phase1.pop(0)
        summ = summarise(results)
        ranked = list(summ) + [n for n, _ in CONFIGS if n not in summ]
        for s in later:
            for n in ranked:
                if (n, s) not in done_p2:
                    done_p2.add((n, s))
                    return (n, dict(CONFIGS)[n], s)
        return None

    while True:
        el = time.time() - t_start
        while len(running) < a.workers and el < a.start_cutoff:
            j = next_job()
            if j is None:
                break
            running.append((j, pool.apply_async(job, j)))
            print(f"[{el:5.0f}s] start {j[0]} seed {j[2]}", flush=True)
        still = []
        for j, ar in running:
            if ar.ready():
                r = ar.get()
                results.append(r)
                jl.write(json.dumps(r) + "\n")
                jl.flush()
                if "error" in r:
                    errors += 1
                    print(f"[{el:5.0f}s] ERROR {j[0]} seed {j[2]}:\n{r['error']}", flush=True)
                else:
                    print(f"[{el:5.0f}s] done {j[0]} seed {j[2]} {r['seconds']}s best epoch {r['best_epoch']} "
                          f"val {r['val_score']} test {[r['test'][k] for k in FOUR]}", flush=True)
                json.dump({"elapsed_s": round(el), "runs": len(results), "summary": summarise(results)},
                          open(os.path.join(a.out, "summary.json"), "w"), indent=1)
            else:
                still.append((j, ar))
        running = still
        if errors >= 3 and errors == len(results):
            print("first runs all failed: stopping", flush=True)
            break
        pending = bool(phase1) or any((n, s) not in done_p2 for s in later for n, _ in CONFIGS)
        if not running and (el >= a.start_cutoff or not pending):
            break
        if el > a.hard_stop:
            print(f"hard stop: dropping {[(j[0], j[2]) for j, _ in running]}", flush=True)
            break
        time.sleep(0.5)
    pool.terminate()
    summ = summarise(results)
    json.dump({"elapsed_s": round(time.time() - t_start), "runs": len(results), "summary": summ},
              open(os.path.join(a.out, "summary.json"), "w"), indent=1)
    for n, s in summ.items():
        print(f"{n:28s} n={len(s['seeds'])} val {s['val_score']:6.2f} test " +
              " ".join(f"{s['test'][k]['mean']:5.1f}±{s['test'][k]['sd']:.1f}" for k in FOUR + ["label_6way"]), flush=True)


if __name__ == "__main__":
    main()
