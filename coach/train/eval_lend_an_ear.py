"""Evaluates the coach on Lend an Ear (MIT; ../shared/data/lend-an-ear): each supporter turn
goes through `tend coach feedback` with the seeker's turn before it, the coach's figures are
averaged per conversation, and compared with the three experts' mean ratings (Spearman).
Evaluation only: nothing here is trained on. Prints one JSON object.

Usage: python coach/train/eval_lend_an_ear.py path/to/tend [data-dir]
"""

import csv
import json
import os
import subprocess
import sys
from collections import defaultdict

from scipy.stats import spearmanr


def main():
    tend = sys.argv[1]
    data = sys.argv[2] if len(sys.argv) > 2 else "../shared/data/lend-an-ear"
    convs = list(csv.DictReader(open(os.path.join(data, "original_data/sample_lend_an_ear_conversations.csv"), encoding="utf-8")))
    lines, owners = [], []
    for c in convs:
        seeker = ""
        for line in c["full_conversation"].splitlines():
            speaker, _, text = line.partition(":")
            if speaker.strip() == "Seeker":
                seeker = text.strip()
            elif speaker.strip() == "Supporter" and text.strip():
                lines.append(json.dumps({"client_message": seeker, "reply": text.strip()}))
                owners.append(c["conversation_id"])
    out = subprocess.run([tend, "coach", "feedback"], input="\n".join(lines) + "\n", capture_output=True, text=True, check=True)
    per = defaultdict(lambda: defaultdict(list))
    skipped = 0
    for owner, raw in zip(owners, out.stdout.splitlines()):
        f = json.loads(raw)
        if "error" in f:
            skipped += 1
            continue
        d = per[owner]
        for k in ("reflection", "exploration", "warmth"):
            d[k].append(f["dimensions"][k])
        d["advice"].append(sum(1 for s in f["sentences"] if s["label"] == "information_or_advice") + sum(1 for r in f["roadblocks"] if r["id"] in ("advising", "moralising")))
        d["dismissing"].append(sum(1 for r in f["roadblocks"] if r["id"] in ("minimising", "ordering", "judging")))
    experts = defaultdict(lambda: defaultdict(list))
    for e in ("expert1", "expert2", "expert3"):
        for r in csv.DictReader(open(os.path.join(data, f"annotations/lend_an_ear/{e}_ratings.csv"), encoding="utf-8")):
            for k, v in r.items():
                if k != "conversation_id" and v not in ("", "NA"):
                    experts[r["conversation_id"]][k].append(float(v))
    pairs = {
        "reflection~demonstrating_understanding": ("reflection", "demonstrating_understanding"),
        "exploration~encouraging_elaboration": ("exploration", "encouraging_elaboration"),
        "warmth~validating_emotions": ("warmth", "validating_emotions"),
        "advice~advice_giving": ("advice", "advice_giving"),
        "dismissing~dismissing_emotions": ("dismissing", "dismissing_emotions"),
    }
    ids = [c["conversation_id"] for c in convs if c["conversation_id"] in per and c["conversation_id"] in experts]
    result = {"conversations": len(ids), "supporter_turns": len(lines), "turns_not_scored": skipped}
    for name, (ours, theirs) in pairs.items():
        xs = [sum(per[i][ours]) / len(per[i][ours]) for i in ids]
        ys = [sum(experts[i][theirs]) / len(experts[i][theirs]) for i in ids]
        rho, p = spearmanr(xs, ys)
        result[name] = {"spearman": round(float(rho), 3), "p": round(float(p), 4)}
    print(json.dumps(result, indent=1))


if __name__ == "__main__":
    main()
