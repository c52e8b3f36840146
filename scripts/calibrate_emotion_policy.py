"""Exploration, not product code: which emotion thresholds should the policy use with these heads?

The policy hands a ticket to a person when anger, sadness, fear or disappointment reaches
`pipeline.strong_emotions` (one threshold for the four here), or when strong negativity reaches
`pipeline.strong_emotions.negativity` with a negative emotion behind it at
`pipeline.policy.negativity_support`. A sharper head needs its own thresholds: words that mean a
strong feeling on Reddit mean a routine request in a support queue ("My payment was declined").

This script scores a heads folder on two sets that are not test splits:
- GoEmotions dev: how many texts with a negative emotion (anger, sadness, fear, disgust or
  disappointment) the rule flags ("right"), and how precisely;
- BANKING77's training questions, routine support requests: how many the rule flags.
It prints the settings that flag the most GoEmotions dev texts rightly while flagging no more
BANKING77 training questions than the budget: what OLD_DIR's heads flag at the previous defaults
(0.7, 0.95, 0.3), or 1.22% (the embedding-only heads of 4b58696) without OLD_DIR.

    python3 scripts/calibrate_emotion_policy.py texts > target/banking77-train.txt
    cargo run --release -q -p kindly-model --example embed_lines -- \\
        models/all-MiniLM-L6-v2 target/banking77-train.txt target/banking77-train.f32
    python3 scripts/calibrate_emotion_policy.py target/embedding-cache/<sha>.f32 \\
        target/banking77-train.f32 models/heads [OLD_DIR]

The first file is the cache `kindly train-heads --embedding-cache target/embedding-cache` writes.
Needs numpy only; heads are read by `compare_emotion_heads.py`'s code.
"""
import csv
import itertools
import sys

import numpy as np

import compare_emotion_heads as heads

BANKING77_TRAIN = "../shared/data/banking77/train.csv"
NEEDS_PERSON = ["anger", "sadness", "fear", "disappointment"]


def banking77_texts():
    with open(BANKING77_TRAIN, newline="", encoding="utf-8") as f:
        return [row["text"].replace("\n", " ") for row in csv.DictReader(f)]


def scores(folder, x, texts):
    s = heads.load_head(folder)(x, texts)
    s.update(heads.load_head(folder, "negativity.safetensors")(x, texts))
    return s


def flags(s, emotion, negativity, support):
    strong = np.any([s[e] >= emotion for e in NEEDS_PERSON], 0)
    supported = np.max([s[e] for e in heads.NEGATIVE], 0) >= support
    return strong | ((s["negative"] >= negativity) & supported)


def main():
    if sys.argv[1:] == ["texts"]:
        print("\n".join(banking77_texts()))
        return
    gx, gtexts, truth = heads.goemotions_dev(sys.argv[1])
    gold = np.any([truth(g) for g in heads.NEGATIVE], 0)
    btexts = banking77_texts()
    bx = np.fromfile(sys.argv[2], dtype="<f4").reshape(-1, 384)
    assert len(bx) == len(btexts), f"{sys.argv[2]} has {len(bx)} rows for {len(btexts)} questions"
    budget = 1.22
    if len(sys.argv) > 4:
        old = flags(scores(sys.argv[4], bx, btexts), 0.7, 0.95, 0.3)
        budget = 100 * old.mean()
        g = flags(scores(sys.argv[4], gx, gtexts), 0.7, 0.95, 0.3)
        print(f"{sys.argv[4]} at 0.7/0.95/0.3: BANKING77 train {budget:.2f}% flagged; "
              f"GoEmotions dev {g.sum()} flagged, {gold[g].sum()} right ({gold[g].mean():.3f})")
    g, b = scores(sys.argv[3], gx, gtexts), scores(sys.argv[3], bx, btexts)
    rows = []
    for e, n, s in itertools.product(np.arange(0.4, 0.96, 0.05), [0.9, 0.95, 0.97, 0.99], np.arange(0.3, 0.76, 0.05)):
        fg, fb = flags(g, e, n, s), flags(b, e, n, s)
        if 100 * fb.mean() <= budget + 1e-9:
            rows.append((gold[fg].sum(), fg.sum(), gold[fg].mean(), 100 * fb.mean(), e, n, s))
    print(f"{sys.argv[3]}: the most right GoEmotions dev flags with BANKING77 train flags <= {budget:.2f}%")
    for right, flagged, precision, routine, e, n, s in sorted(rows, reverse=True)[:10]:
        print(f"  emotions {e:.2f} negativity {n:.2f} support {s:.2f}: GoEmotions dev {flagged} flagged, "
              f"{right} right ({precision:.3f}); BANKING77 train {routine:.2f}%")
    for e, n, s in [(0.7, 0.95, 0.3), (0.6, 0.95, 0.6)]:
        fg, fb = flags(g, e, n, s), flags(b, e, n, s)
        print(f"  at {e}/{n}/{s}: GoEmotions dev {fg.sum()} flagged, {gold[fg].sum()} right "
              f"({gold[fg].mean():.3f}); BANKING77 train {100 * fb.mean():.2f}%")


if __name__ == "__main__":
    main()
