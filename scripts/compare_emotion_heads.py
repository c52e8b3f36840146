"""Exploration, not product code: do two emotion-head folders mean the same by "strong"?

For each folder (e.g. the committed `models/heads` and an older copy from `git show`), prints how
many GoEmotions dev texts the policy's defaults flag and how precise those flags are: anger,
sadness, fear and disappointment at `pipeline.strong_emotions` 0.7, and "any negative group
>= 0.3", the support strong negativity needs (`kindly_core::emotion::NEGATIVITY_SUPPORT`).
Reads the embeddings `kindly train-heads --embedding-cache target/embedding-cache` cached and
each folder's manifest and safetensors (groups read by noisy-OR; a head with a `lexicon` reads the
character n-grams of `kindly_core::lexicon` after the embedding, computed here the same way).
Needs numpy only:

    python3 scripts/compare_emotion_heads.py target/embedding-cache/<sha>.f32 OLD_DIR models/heads
"""
import json
import struct
import sys

import numpy as np

DATA = "../shared/data/goemotions/"
TRAIN_ROWS = 43410
NEGATIVE = ["anger", "sadness", "fear", "disappointment", "disgust"]


def load_head(folder, name="emotion.safetensors"):
    record = [h for h in json.load(open(f"{folder}/manifest.json"))["heads"] if h["file"] == name][0]
    raw = open(f"{folder}/{name}", "rb").read()
    size = struct.unpack("<Q", raw[:8])[0]
    header, data = json.loads(raw[8:8 + size]), raw[8 + size:]
    t = {k: np.frombuffer(data[v["data_offsets"][0]:v["data_offsets"][1]], dtype="<f4").reshape(v["shape"])
         for k, v in header.items() if k != "__metadata__"}
    lexicon = record.get("lexicon")
    labels = record["spec"]["labels"]
    groups = record.get("groups") or [{"label": l, "members": [l]} for l in labels]
    relu = record["spec"].get("activation", "gelu") == "relu"

    def score(x, texts):
        if lexicon:
            x = np.hstack([x, np.array([ngram_features(lexicon, t) for t in texts], dtype=np.float32)])
        h = x
        if "hidden.weight" in t:  # a linear head (hidden 0) has none
            h = x @ t["hidden.weight"].T + t["hidden.bias"]
            h = np.maximum(h, 0) if relu else 0.5 * h * (1 + np.tanh(np.sqrt(2 / np.pi) * (h + 0.044715 * h ** 3)))
        p = 1 / (1 + np.exp(-(h @ t["output.weight"].T + t["output.bias"])))
        return {g["label"]: 1 - np.prod(1 - p[:, [labels.index(m) for m in g["members"]]], 1) for g in groups}
    return score


def fnv1a(chars):
    h = 0xcbf29ce484222325
    for c in chars:
        for byte in ord(c).to_bytes(4, "little"):
            h = ((h ^ byte) * 0x100000001b3) & 0xFFFFFFFFFFFFFFFF
    return h


def ngram_features(lexicon, text):
    """`Lexicon::input` without the embedding: hashed character n-grams of each padded word,
    sublinear term frequency times IDF, scaled to length `weight`."""
    buckets, shortest, longest = lexicon["buckets"], lexicon["shortest"], lexicon["longest"]
    counts = np.zeros(buckets)
    for word in text.lower().split():
        padded = " " + word + " "
        for n in range(shortest, longest + 1):
            for start in range(max(len(padded) - n, 0) + 1):
                counts[fnv1a(padded[start:start + n]) % buckets] += 1
            if len(padded) <= n:
                break
    features = np.where(counts > 0, (1 + np.log(np.maximum(counts, 1))) * np.array(lexicon["idf"]), 0.0)
    length = np.linalg.norm(features)
    return features * (lexicon["weight"] / length) if length > 0 else features


def goemotions_dev(cache):
    """GoEmotions dev: its embeddings (the rows after train in the `train-heads` cache), texts, and
    `truth(group)`, whether each text carries a label of that Ekman group (or disappointment)."""
    names = open(DATA + "emotions.txt").read().split()
    ekman = json.load(open(DATA + "ekman_mapping.json"))
    rows = [line.rstrip("\n").rsplit("\t", 2) for line in open(DATA + "dev.tsv", encoding="utf-8") if line.strip()]
    dev = [[names[int(i)] for i in row[1].split(",")] for row in rows]
    x = np.fromfile(cache, dtype="<f4").reshape(-1, 384)[TRAIN_ROWS:TRAIN_ROWS + len(dev)]

    def truth(group):
        members = ekman.get(group, []) + ([group] if group == "disappointment" else [])
        return np.array([any(label in members for label in row) for row in dev])
    return x, [row[0] for row in rows], truth


def main():
    x, texts, truth = goemotions_dev(sys.argv[1])
    any_negative = np.any([truth(g) for g in NEGATIVE], 0)
    for folder in sys.argv[2:]:
        s = load_head(folder)(x, texts)
        parts = []
        for e in ["anger", "sadness", "fear", "disappointment"]:
            flagged = s[e] >= 0.7
            precision = f"{truth(e)[flagged].mean():.3f}" if flagged.any() else "-"
            parts.append(f"{e} >= 0.7: {flagged.sum()} flagged, precision {precision}")
        support = np.max([s[g] for g in NEGATIVE], 0) >= 0.3
        parts.append(f"any negative >= 0.3: {support.sum()} flagged, precision {any_negative[support].mean():.3f}")
        print(f"{folder}:\n  " + "\n  ".join(parts))


if __name__ == "__main__":
    main()
