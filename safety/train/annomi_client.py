"""Derives ordinary, no-risk client talk from AnnoMI for the risk screen's meaning model.

AnnoMI (../shared/data/annomi, public domain; Wu et al. 2022, 2023) holds 133 demonstration
counselling sessions. Its client utterances are everyday talk about drinking, smoking, diet,
medicines, school and so on: the kind of ordinary text that makes up most of what clients
write, which a model trained only on risk statements and hard negatives has never seen.

Every utterance is labelled `none`, so anything that might not be is left out: sessions on
self-harm, violence, offending or unidentified topics, and any utterance with a word from
RISK_WORDS. Transcripts whose id is a multiple of 5 are held out: they go to
safety/eval/everyday_annomi.tsv, which is never trained on and measures how often the screen
flags ordinary talk. Standard library only; the output is deterministic.

Usage: python3 safety/train/annomi_client.py [../shared/data/annomi/AnnoMI-simple.csv]
"""

import csv
import re
import sys

SOURCE = sys.argv[1] if len(sys.argv) > 1 else "../shared/data/annomi/AnnoMI-simple.csv"
TRAIN_OUT = "safety/train/annomi_client.tsv"
HELD_OUT = "safety/eval/everyday_annomi.tsv"

# Topics whose sessions may hold risk talk: left out whole.
EXCLUDED_TOPICS = ("self-harm", "violence", "recidivism", "unidentifiable", "managing life",
                   "opening up", "doi")

# Any of these (as a word start) drops the utterance: better to lose ordinary lines than to
# teach the model that a risky one is ordinary.
RISK_WORDS = re.compile(
    r"\b(die|dying|dead|death|kill|suicid|hurt|harm|cut|cutting|blade|razor|overdos|pills|"
    r"hang|rope|jump|bridge|gun|knife|weapon|hit|hitting|beat|punch|slap|abus|assault|"
    r"rape|threat|scared|afraid|fear|hopeless|worthless|burden|end it|no point|give up|"
    r"wish i|want to go|disappear|violen|fight|attack|choke|strangl|bleed|blood|wound)",
    re.IGNORECASE,
)


def main():
    train, held = [], []
    seen = set()
    with open(SOURCE, newline="", encoding="utf-8") as f:
        for row in csv.DictReader(f):
            if row["interlocutor"] != "client":
                continue
            topic = row["topic"].lower()
            if any(t in topic for t in EXCLUDED_TOPICS):
                continue
            text = " ".join(row["utterance_text"].replace('"', "'").split())
            if not text or RISK_WORDS.search(text) or text.lower() in seen:
                continue
            seen.add(text.lower())
            (held if int(row["transcript_id"]) % 5 == 0 else train).append(text)
    for path, rows in ((TRAIN_OUT, train), (HELD_OUT, held)):
        with open(path, "w", encoding="utf-8") as out:
            out.write("label\tcategory\ttext\n")
            for text in rows:
                out.write(f"none\tnone\t{text}\n")
        print(f"{path}: {len(rows)} utterances")


if __name__ == "__main__":
    main()
