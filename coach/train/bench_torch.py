"""PyTorch side of `bench/coach`: the same replies through (a) the shipped coach model in
PyTorch and (b) sentence-transformers with the packaged all-MiniLM-L6-v2, one thread, the
uncached path (client message and sentences encoded for every reply). Prints one JSON object.
"""

import json
import os
import re
import statistics
import sys
import time

import torch

sys.path.insert(0, os.path.dirname(__file__))
import fixtures  # noqa: E402
import train  # noqa: E402


def pct(xs, p):
    xs = sorted(xs)
    return xs[round((len(xs) - 1) * p)]


def main():
    model_dir, encoder_dir, rounds = sys.argv[1], sys.argv[2], int(sys.argv[3])
    torch.set_num_threads(1)
    model, coach = fixtures.load(model_dir)
    stok = train.make_tokenizer(os.path.join(model_dir, "tokenizer.json"), coach["max_sentence_tokens"])
    ctok = train.make_tokenizer(os.path.join(model_dir, "tokenizer.json"), coach["max_context_tokens"])
    count = train.make_tokenizer(os.path.join(model_dir, "tokenizer.json"), 10_000)
    scenarios = json.load(open(os.path.join(os.path.dirname(__file__), "..", "scenarios.json")))
    pairs = [(s["client_message"], s["example_reply"]) for s in scenarios if len(count.encode(s["example_reply"]).ids) <= 64]
    split = lambda text: [p for p in re.split(r"(?<=[.!?…])\s+", text.strip()) if p]

    def coach_reply(client, reply):
        with torch.no_grad():
            sentences = split(reply)
            s = train.batch_encode(stok, sentences)
            c = train.batch_encode(ctok, [client])
            sv, cv = model.embed(*s), model.embed(*c).expand(len(sentences), -1)
            x = torch.cat([sv, cv, sv * cv, (sv - cv).abs()], dim=-1)
            return torch.softmax(model.out(torch.nn.functional.gelu(model.hidden(x))), -1)

    from sentence_transformers import SentenceTransformer

    st = SentenceTransformer(encoder_dir, device="cpu")

    def st_reply(client, reply):
        return st.encode([client] + split(reply), batch_size=32, convert_to_numpy=True)

    out = {"threads": 1, "replies": len(pairs), "torch": torch.__version__}
    for name, fn in (("coach_model_in_pytorch", coach_reply), ("sentence_transformers_minilm", st_reply)):
        for client, reply in pairs:  # warm up
            fn(client, reply)
        ms = []
        for _ in range(rounds):
            for client, reply in pairs:
                t = time.perf_counter()
                fn(client, reply)
                ms.append((time.perf_counter() - t) * 1000)
        out[name] = {"p50": round(pct(ms, 0.5), 2), "p99": round(pct(ms, 0.99), 2), "mean": round(statistics.mean(ms), 2)}
    print(json.dumps(out))


if __name__ == "__main__":
    main()
