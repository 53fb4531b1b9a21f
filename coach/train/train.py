"""Rebuild the coach's model from the shared AnnoMI data.

Fine-tunes the all-MiniLM-L6-v2 encoder (optionally keeping only its first
layers) with a small head that labels a therapist sentence, given the client's
words, as one of six listening behaviours. The split is by transcript with a
fixed seed, so no conversation is in both train and test. Writes the weights
(f16 safetensors, names as candle's BertModel expects), the tokenizer, the
config and `metrics.json`; `model_card.py` turns the metrics into the card.

Run through `coach/train/run`, which makes the virtual environment.
"""

import argparse
import csv
import json
import math
import os
import random
import re
import time
from collections import Counter, defaultdict

import numpy as np
import torch
import torch.nn.functional as F
from safetensors.torch import save_file
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import f1_score
from tokenizers import Tokenizer
from transformers import BertModel

LABELS = [
    "complex_reflection",
    "simple_reflection",
    "open_question",
    "closed_question",
    "information_or_advice",
    "other",
]
BEHAVIOURS = ["reflection", "question", "therapist_input", "other"]
# Which behaviour each of the six labels collapses to.
COLLAPSE = [0, 0, 1, 1, 2, 3]
MAX_SENTENCE = 96
MAX_CONTEXT = 64


def load_annomi(data_dir):
    """Therapist utterances with the client's preceding words and a six-way label."""
    simple = list(csv.DictReader(open(os.path.join(data_dir, "AnnoMI-simple.csv"), encoding="utf-8")))
    full = list(csv.DictReader(open(os.path.join(data_dir, "AnnoMI-full.csv"), encoding="utf-8")))
    # Subtypes live in the full file, one row per annotator; take the subtype
    # most annotators gave among those who agree with the consolidated behaviour.
    votes = defaultdict(Counter)
    for r in full:
        if r["interlocutor"] != "therapist":
            continue
        key = (r["transcript_id"], r["utterance_id"])
        b = r["main_therapist_behaviour"]
        sub = {
            "reflection": r["reflection_subtype"],
            "question": r["question_subtype"],
        }.get(b, "n/a")
        votes[key][(b, sub)] += 1
    by_transcript = defaultdict(list)
    for r in simple:
        by_transcript[r["transcript_id"]].append(r)
    items = []
    for tid, rows in by_transcript.items():
        rows.sort(key=lambda r: int(r["utterance_id"]))
        last_client = ""
        for r in rows:
            if r["interlocutor"] == "client":
                last_client = r["utterance_text"]
                continue
            b = r["main_therapist_behaviour"]
            subs = Counter()
            for (vb, vs), n in votes[(tid, r["utterance_id"])].items():
                if vb == b and vs != "n/a":
                    subs[vs] += n
            sub = subs.most_common(1)[0][0] if subs else None
            if b == "reflection":
                label = "complex_reflection" if sub == "complex" else "simple_reflection"
            elif b == "question":
                label = "open_question" if sub == "open" else "closed_question"
            elif b == "therapist_input":
                label = "information_or_advice"
            else:
                label = "other"
            items.append(
                {
                    "transcript": tid,
                    "context": last_client,
                    "text": r["utterance_text"],
                    "label": LABELS.index(label),
                    "behaviour": BEHAVIOURS.index(b),
                    "subtype": sub,
                }
            )
    return items


def split(items, seed):
    """70/15/15 by transcript."""
    ids = sorted({it["transcript"] for it in items}, key=int)
    random.Random(seed).shuffle(ids)
    n = len(ids)
    train_ids = set(ids[: int(n * 0.7)])
    val_ids = set(ids[int(n * 0.7) : int(n * 0.85)])
    pick = lambda s: [it for it in items if it["transcript"] in s]
    return pick(train_ids), pick(val_ids), [it for it in items if it["transcript"] not in train_ids | val_ids]


def make_tokenizer(path, max_len):
    tok = Tokenizer.from_file(path)
    tok.no_padding()
    # Keep the end: a question mark or the last clause carries the behaviour,
    # and the client's latest words matter most.
    tok.enable_truncation(max_length=max_len, direction="left")
    return tok


def batch_encode(tok, texts):
    enc = tok.encode_batch(texts)
    width = max(len(e.ids) for e in enc)
    ids = torch.zeros((len(enc), width), dtype=torch.long)
    mask = torch.zeros((len(enc), width), dtype=torch.long)
    for i, e in enumerate(enc):
        ids[i, : len(e.ids)] = torch.tensor(e.ids)
        mask[i, : len(e.ids)] = 1
    return ids, mask


def split_sentences(text):
    """Rough sentence split (end punctuation followed by space), as for training on sentences."""
    parts = [p.strip() for p in re.split(r"(?<=[.!?])\s+", text.strip())]
    return [p for p in parts if p]


def pair_encode(stok, ctok, sentences, contexts):
    """Cross-encoder input: [CLS] client message [SEP] sentence [SEP], each side truncated on
    the left as in the bi-encoder; token types 0 for the message, 1 for the sentence."""
    cs = ctok.encode_batch(contexts)
    ss = stok.encode_batch(sentences)
    seqs = [(c.ids, s.ids[1:]) for c, s in zip(cs, ss)]
    width = max(len(a) + len(b) for a, b in seqs)
    ids = torch.zeros((len(seqs), width), dtype=torch.long)
    mask = torch.zeros((len(seqs), width), dtype=torch.long)
    types = torch.zeros((len(seqs), width), dtype=torch.long)
    for i, (a, b) in enumerate(seqs):
        ids[i, : len(a) + len(b)] = torch.tensor(a + b)
        mask[i, : len(a) + len(b)] = 1
        types[i, len(a) : len(a) + len(b)] = 1
    return ids, mask, types


class Coach(torch.nn.Module):
    """Shared encoder; head on [sentence, context, product, difference]."""

    def __init__(self, bert, hidden=256):
        super().__init__()
        self.bert = bert
        d = bert.config.hidden_size
        self.hidden = torch.nn.Linear(4 * d, hidden)
        self.out = torch.nn.Linear(hidden, len(LABELS))
        self.drop = torch.nn.Dropout(0.1)

    def embed(self, ids, mask):
        h = self.bert(input_ids=ids, attention_mask=mask, token_type_ids=torch.zeros_like(ids)).last_hidden_state
        m = mask.unsqueeze(-1).float()
        e = (h * m).sum(1) / m.sum(1).clamp(min=1.0)
        return F.normalize(e, dim=-1)

    def forward(self, s_ids, s_mask, c_ids, c_mask):
        s = self.embed(s_ids, s_mask)
        c = self.embed(c_ids, c_mask)
        x = torch.cat([s, c, s * c, (s - c).abs()], dim=-1)
        return self.out(self.drop(F.gelu(self.hidden(x))))

    def inputs(self, stok, ctok, b, device):
        s = batch_encode(stok, [it["text"] for it in b])
        c = batch_encode(ctok, [it["context"] for it in b])
        return [t.to(device) for t in (*s, *c)]


class CrossCoach(torch.nn.Module):
    """One pass over the client message and the sentence together; linear head on the pooled vector."""

    def __init__(self, bert, pool="mean"):
        super().__init__()
        self.bert = bert
        self.pool = pool
        self.out = torch.nn.Linear(bert.config.hidden_size, len(LABELS))
        self.drop = torch.nn.Dropout(0.1)

    def forward(self, ids, mask, types):
        h = self.bert(input_ids=ids, attention_mask=mask, token_type_ids=types).last_hidden_state
        if self.pool == "cls":
            e = h[:, 0]
        else:
            m = mask.unsqueeze(-1).float()
            e = (h * m).sum(1) / m.sum(1).clamp(min=1.0)
        return self.out(self.drop(e))

    def inputs(self, stok, ctok, b, device):
        return [t.to(device) for t in pair_encode(stok, ctok, [it["text"] for it in b], [it["context"] for it in b])]


def predict(model, stok, ctok, items, bs=64, device="cpu"):
    model.eval()
    out = []
    with torch.no_grad():
        for i in range(0, len(items), bs):
            b = items[i : i + bs]
            out.append(torch.softmax(model(*model.inputs(stok, ctok, b, device)), dim=-1).float().cpu())
    return torch.cat(out).numpy()


def class_weights(counts, n, scheme):
    if scheme == "none":
        w = torch.ones(n)
    else:
        power = 0.5 if scheme == "isqrt" else 1.0
        w = torch.tensor([1.0 / counts[i] ** power for i in range(n)])
    return w / w.mean()


def coach_loss(logits, b, weight, weight4, args):
    """Cross-entropy on the six labels; optionally plus the behaviour (4-way) loss on the
    collapsed probabilities, so that confusing two subtypes costs less than the wrong behaviour."""
    gold = torch.tensor([it["label"] for it in b], device=logits.device)
    loss = F.cross_entropy(logits, gold, weight=weight, label_smoothing=args.label_smoothing)
    if args.hier > 0:
        logp = F.log_softmax(logits.float(), dim=-1)
        groups = [[j for j, g in enumerate(COLLAPSE) if g == k] for k in range(len(BEHAVIOURS))]
        logp4 = torch.stack([torch.logsumexp(logp[:, g], dim=-1) for g in groups], dim=-1)
        gold4 = torch.tensor([it["behaviour"] for it in b], device=logits.device)
        loss = loss + args.hier * F.nll_loss(logp4, gold4, weight=weight4)
    return loss


def metrics(probs, items):
    """The four figures the issue names, all macro-F1 in percent."""
    probs = np.asarray(probs)
    collapsed = np.zeros((len(items), 4))
    for j, b in enumerate(COLLAPSE):
        collapsed[:, b] += probs[:, j]
    pred4 = collapsed.argmax(1)
    gold4 = np.array([it["behaviour"] for it in items])
    m = {
        "behaviour_4way": f1_score(gold4, pred4, average="macro"),
        "reflection_vs_not": f1_score(gold4 == 0, pred4 == 0, average="macro"),
    }
    q = [i for i, it in enumerate(items) if it["behaviour"] == 1 and it["subtype"] in ("open", "closed")]
    m["open_vs_closed"] = f1_score(
        [items[i]["subtype"] == "open" for i in q], [probs[i, 2] > probs[i, 3] for i in q], average="macro"
    )
    r = [i for i, it in enumerate(items) if it["behaviour"] == 0 and it["subtype"] in ("simple", "complex")]
    m["simple_vs_complex"] = f1_score(
        [items[i]["subtype"] == "complex" for i in r], [probs[i, 0] > probs[i, 1] for i in r], average="macro"
    )
    m["label_6way"] = f1_score([it["label"] for it in items], probs.argmax(1), average="macro")
    return {k: round(100 * v, 1) for k, v in m.items()}


def baseline(encoder_dir, train, test):
    """Frozen MiniLM sentence vectors + logistic regression: the figure to beat."""
    bert = BertModel.from_pretrained(encoder_dir, add_pooling_layer=False)
    model = Coach(bert)
    tok = make_tokenizer(os.path.join(encoder_dir, "tokenizer.json"), 128)

    def vecs(items):
        model.eval()
        out = []
        with torch.no_grad():
            for i in range(0, len(items), 64):
                out.append(model.embed(*batch_encode(tok, [it["text"] for it in items[i : i + 64]])))
        return torch.cat(out).numpy()

    xtr, xte = vecs(train), vecs(test)
    clf = LogisticRegression(max_iter=3000, C=1.0)
    clf.fit(xtr, [it["label"] for it in train])
    probs = np.zeros((len(test), len(LABELS)))
    probs[:, clf.classes_] = clf.predict_proba(xte)
    return metrics(probs, test)


def train_one(args, train, val, test, seed, history=None):
    torch.manual_seed(seed)
    random.seed(seed)
    np.random.seed(seed)
    device = args.device
    # Weights may be stored in f16; train in f32.
    bert = BertModel.from_pretrained(args.encoder, add_pooling_layer=False).float()
    bert.encoder.layer = bert.encoder.layer[: args.layers]
    bert.config.num_hidden_layers = args.layers
    model = (Coach(bert) if args.pair == "bi" else CrossCoach(bert, args.pool)).to(device)
    stok = make_tokenizer(os.path.join(args.encoder, "tokenizer.json"), MAX_SENTENCE)
    ctok = make_tokenizer(os.path.join(args.encoder, "tokenizer.json"), MAX_CONTEXT)
    if args.units != "utterance":
        # Tend labels sentences: also (or only) train on each sentence with its utterance's label.
        split_train = [(it, split_sentences(it["text"]) or [it["text"]]) for it in train]
        pieces = [dict(it, text=t) for it, ts in split_train for t in ts if args.units == "sentence" or len(ts) > 1]
        train = pieces if args.units == "sentence" else train + pieces
    counts = Counter(it["label"] for it in train)
    # Inverse square-root frequency (default): macro-F1 cares about the small classes.
    weight = class_weights(counts, len(LABELS), args.class_weight).to(device)
    weight4 = class_weights(Counter(it["behaviour"] for it in train), len(BEHAVIOURS), args.class_weight).to(device)
    head = [p for n, p in model.named_parameters() if not n.startswith("bert.")]
    enc = [p for n, p in model.named_parameters() if n.startswith("bert.")]
    opt = torch.optim.AdamW([{"params": enc, "lr": args.lr}, {"params": head, "lr": args.head_lr}], weight_decay=0.01)
    steps = args.epochs * math.ceil(len(train) / args.batch)
    warm = max(1, steps // 10)
    sched = torch.optim.lr_scheduler.LambdaLR(
        opt, lambda s: min(1.0, (s + 1) / warm) * max(0.0, (steps - s) / max(1, steps - warm))
    )
    best, best_state, best_epoch = -1.0, None, 0
    for epoch in range(args.epochs):
        model.train()
        order = list(range(len(train)))
        random.shuffle(order)
        t0 = time.time()
        for i in range(0, len(order), args.batch):
            b = [train[j] for j in order[i : i + args.batch]]
            logits = model(*model.inputs(stok, ctok, b, device))
            loss = coach_loss(logits, b, weight, weight4, args)
            opt.zero_grad()
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            opt.step()
            sched.step()
        vm = metrics(predict(model, stok, ctok, val, device=device), val)
        score = (vm["behaviour_4way"] + vm["reflection_vs_not"] + vm["open_vs_closed"] + vm["simple_vs_complex"]) / 4
        print(f"seed {seed} epoch {epoch + 1}: {time.time() - t0:.0f}s val {vm}", flush=True)
        if history is not None:
            history.append({"epoch": epoch + 1, "seconds": round(time.time() - t0, 1), "val": vm})
        if score > best:
            best, best_epoch = score, epoch + 1
            best_state = {k: v.detach().clone() for k, v in model.state_dict().items()}
    model.load_state_dict(best_state)
    return model, metrics(predict(model, stok, ctok, test, device=device), test), best_epoch


def export(model, args, out_dir):
    if args.pair != "bi":
        # Tend's Rust side (src/coach/model.rs) and fixtures.py read the bi-encoder only;
        # the cross-encoder is for experiments (coach/train/SWEEP.md).
        raise SystemExit("--pair cross is for experiments: Tend cannot load its export")
    os.makedirs(out_dir, exist_ok=True)
    tensors = {}
    for name, t in model.state_dict().items():
        if name.startswith("bert."):
            key = name[len("bert.") :]
        else:
            key = "coach_head." + name
        tensors[key] = t.detach().to(torch.float16).contiguous()
    save_file(tensors, os.path.join(out_dir, "model.safetensors"))
    config = json.load(open(os.path.join(args.encoder, "config.json")))
    config["num_hidden_layers"] = args.layers
    config["coach"] = {
        "labels": LABELS,
        "max_sentence_tokens": MAX_SENTENCE,
        "max_context_tokens": MAX_CONTEXT,
        "head_hidden": model.hidden.out_features if args.pair == "bi" else 0,
    }
    if args.pair == "cross":
        # Not read by Tend yet: its Rust code runs the bi-encoder only.
        config["coach"]["pair"] = "cross"
        config["coach"]["pool"] = args.pool
    json.dump(config, open(os.path.join(out_dir, "config.json"), "w"), indent=2)
    tok = json.load(open(os.path.join(args.encoder, "tokenizer.json")))
    # The packaged tokenizer pads every input to 128; Tend pads per batch.
    tok["padding"] = None
    tok["truncation"] = None
    json.dump(tok, open(os.path.join(out_dir, "tokenizer.json"), "w"), ensure_ascii=False)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", default="../shared/data/annomi")
    ap.add_argument("--encoder", required=True)
    ap.add_argument("--out", default="coach/model")
    # All six layers: two or three are two to three times faster on one core, but they lose
    # a few points and, worse for a coach, mistake advice for reflection (model card table).
    ap.add_argument("--layers", type=int, default=6)
    ap.add_argument("--epochs", type=int, default=4)
    ap.add_argument("--batch", type=int, default=32)
    ap.add_argument("--lr", type=float, default=5e-5)
    ap.add_argument("--seeds", type=int, nargs="+", default=[13, 21, 34])
    ap.add_argument("--split-seed", type=int, default=2026)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--skip-baseline", action="store_true")
    ap.add_argument("--device", default="cpu")
    # Recipe options; the defaults are the shipped recipe.
    ap.add_argument("--pair", choices=["bi", "cross"], default="bi")
    ap.add_argument("--pool", choices=["mean", "cls"], default="mean", help="cross-encoder pooling")
    ap.add_argument("--head-lr", type=float, default=1e-3)
    ap.add_argument("--label-smoothing", type=float, default=0.0)
    ap.add_argument("--hier", type=float, default=0.0, help="weight of the behaviour (4-way) loss")
    ap.add_argument("--class-weight", choices=["isqrt", "inv", "none"], default="isqrt")
    ap.add_argument("--units", choices=["utterance", "sentence", "both"], default="utterance")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    items = load_annomi(args.data)
    train, val, test = split(items, args.split_seed)
    print(f"utterances: train {len(train)} val {len(val)} test {len(test)}", flush=True)
    report = {
        "split": {
            "seed": args.split_seed,
            "train_utterances": len(train),
            "val_utterances": len(val),
            "test_utterances": len(test),
            "test_transcripts": sorted({it["transcript"] for it in test}, key=int),
        },
        "settings": {k: v for k, v in vars(args).items() if k not in ("data", "encoder", "out")},
        "runs": [],
    }
    if not args.skip_baseline:
        report["baseline"] = baseline(args.encoder, train, test)
        print(f"baseline (frozen + logistic regression): {report['baseline']}", flush=True)
    shipped = None
    for seed in args.seeds:
        model, tm, epoch = train_one(args, train, val, test, seed)
        print(f"seed {seed}: best epoch {epoch}, test {tm}", flush=True)
        report["runs"].append({"seed": seed, "best_epoch": epoch, "test": tm})
        if shipped is None:
            shipped = model
            export(model, args, args.out)
    keys = report["runs"][0]["test"].keys()
    report["summary"] = {
        k: {
            "mean": round(float(np.mean([r["test"][k] for r in report["runs"]])), 1),
            "sd": round(float(np.std([r["test"][k] for r in report["runs"]])), 1),
        }
        for k in keys
    }
    report["shipped_seed"] = args.seeds[0]
    json.dump(report, open(os.path.join(args.out, "metrics.json"), "w"), indent=2)
    print(json.dumps(report["summary"]), flush=True)


if __name__ == "__main__":
    main()
