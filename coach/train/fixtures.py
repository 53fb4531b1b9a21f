"""Write `fixtures.json` beside an exported coach model: the probabilities PyTorch computes
for a few fixed inputs from the exported (f16) files. Tend's tests load the same files with
candle and must agree, so the Rust encoder is checked against the reference implementation.
"""

import json
import os
import sys

import torch
from safetensors.torch import load_file
from transformers import BertConfig, BertModel

sys.path.insert(0, os.path.dirname(__file__))
import train  # noqa: E402

FIXTURES = [
    ("I haven't slept properly in weeks and work keeps piling up.", "It sounds like you're exhausted and there's no room to recover."),
    ("I haven't slept properly in weeks and work keeps piling up.", "Have you tried going to bed earlier?"),
    ("My sister didn't call on my birthday.", "What was that like for you?"),
    ("My sister didn't call on my birthday.", "Did she call later?"),
    ("", "Thanks for coming in today."),
    ("I keep thinking I should be over this by now.", "You should exercise more, it helps with mood."),
    ("I keep thinking I should be over this by now.", "You're being hard on yourself for still hurting."),
]


def load(model_dir):
    config = json.load(open(os.path.join(model_dir, "config.json")))
    coach = config.pop("coach")
    bert = BertModel(BertConfig(**config), add_pooling_layer=False)
    model = train.Coach(bert, hidden=coach["head_hidden"])
    weights = {k: v.float() for k, v in load_file(os.path.join(model_dir, "model.safetensors")).items()}
    state = {}
    for k, v in weights.items():
        state[k[len("coach_head.") :] if k.startswith("coach_head.") else "bert." + k] = v
    model.load_state_dict(state)
    model.eval()
    return model, coach


def main():
    model_dir = sys.argv[1]
    model, coach = load(model_dir)
    stok = train.make_tokenizer(os.path.join(model_dir, "tokenizer.json"), coach["max_sentence_tokens"])
    ctok = train.make_tokenizer(os.path.join(model_dir, "tokenizer.json"), coach["max_context_tokens"])
    out = []
    with torch.no_grad():
        for context, sentence in FIXTURES:
            probs = torch.softmax(model(*train.batch_encode(stok, [sentence]), *train.batch_encode(ctok, [context])), -1)[0]
            out.append({"client_message": context, "sentence": sentence, "probabilities": [round(float(p), 6) for p in probs]})
    json.dump(out, open(os.path.join(model_dir, "fixtures.json"), "w"), indent=1)
    for o in out:
        print(train.LABELS[max(range(6), key=lambda i: o["probabilities"][i])], "|", o["sentence"])


if __name__ == "__main__":
    main()
