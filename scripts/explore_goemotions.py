"""Exploration, not product code: can the emotion head reach Ekman macro-F1 >= 0.53?

Reads the embeddings that `kindly train-heads --embedding-cache target/embedding-cache` wrote
(GoEmotions train, dev, test, then the tweets, in that order) and trains small numpy MLPs the way
the Rust head does (Adam, linear decay to a tenth, sigmoid per label). It compares one output per
Ekman group with one output per raw GoEmotions label (28), grouped into Ekman groups by noisy-OR
(1 - prod(1 - p)), and a ReLU hidden layer with a GELU one. Thresholds per group maximise F1 on
dev; scores are on test. The Rust head follows the best of these: raw labels, noisy-OR, ReLU.
Needs numpy only:

    pip install numpy
    python3 scripts/explore_goemotions.py target/embedding-cache/<sha>.f32 [seed ...]
"""
import json
import sys

import numpy as np

DATA = "../shared/data/goemotions/"
GROUPS = ["anger", "disgust", "fear", "joy", "sadness", "surprise", "neutral"]


def rows(split):
    out = []
    for line in open(DATA + split + ".tsv", encoding="utf-8"):
        if line.strip():
            _text, labels, _id = line.rstrip("\n").rsplit("\t", 2)
            out.append([int(x) for x in labels.split(",")])
    return out


def gelu(h):
    return 0.5 * h * (1 + np.tanh(np.sqrt(2 / np.pi) * (h + 0.044715 * h ** 3)))


def gelu_slope(h):
    t = np.tanh(np.sqrt(2 / np.pi) * (h + 0.044715 * h ** 3))
    return 0.5 * (1 + t) + 0.5 * h * (1 - t ** 2) * np.sqrt(2 / np.pi) * (1 + 3 * 0.044715 * h ** 2)


def train(x, y, hidden, epochs, seed, batch=128, lr=1e-3, wd=1e-4, dropout=0.0, act="relu"):
    rng = np.random.default_rng(seed)
    n, d = x.shape
    c = y.shape[1]
    params = [rng.normal(0, np.sqrt(2 / d), (d, hidden)), np.zeros(hidden),
              rng.normal(0, np.sqrt(1 / hidden), (hidden, c)), np.zeros(c)]
    f, slope = (lambda h: np.maximum(h, 0), lambda h: h > 0) if act == "relu" else (gelu, gelu_slope)
    m = [np.zeros_like(p) for p in params]
    v = [np.zeros_like(p) for p in params]
    steps, t = epochs * ((n + batch - 1) // batch), 0
    for _ in range(epochs):
        order = rng.permutation(n)
        for i in range(0, n, batch):
            idx = order[i:i + batch]
            xb, yb = x[idx], y[idx]
            h = xb @ params[0] + params[1]
            a = f(h)
            mask = (rng.random(a.shape) > dropout) / (1 - dropout) if dropout else 1.0
            a = a * mask
            p = 1 / (1 + np.exp(-(a @ params[2] + params[3])))
            g = (p - yb) / len(idx)
            ga = (g @ params[2].T) * mask * slope(h)
            grads = [xb.T @ ga, ga.sum(0), a.T @ g, g.sum(0)]
            t += 1
            rate = lr * (1 - 0.9 * t / steps)
            for k, grad in enumerate(grads):
                m[k] = 0.9 * m[k] + 0.1 * grad
                v[k] = 0.999 * v[k] + 0.001 * grad ** 2
                update = (m[k] / (1 - 0.9 ** t)) / (np.sqrt(v[k] / (1 - 0.999 ** t)) + 1e-8)
                params[k] -= rate * (update + wd * params[k])
    return lambda z: 1 / (1 + np.exp(-(f(z @ params[0] + params[1]) @ params[2] + params[3])))


def f1(p, y, threshold):
    predicted = p >= threshold
    tp = (predicted & (y > 0)).sum()
    return 2 * tp / (predicted.sum() + (y > 0).sum()) if tp else 0.0


def macro_f1(dev_p, dev_y, test_p, test_y):
    scores = []
    for j in range(len(GROUPS)):
        best = max(np.linspace(0.02, 0.9, 89), key=lambda t: f1(dev_p[:, j], dev_y[:, j], t))
        scores.append(f1(test_p[:, j], test_y[:, j], best))
    return np.mean(scores[:6]), np.mean(scores)


def main():
    names = open(DATA + "emotions.txt").read().split()
    ekman = json.load(open(DATA + "ekman_mapping.json"))
    group_of = {n: g for g, members in ekman.items() for n in members}
    group_of["neutral"] = "neutral"
    member = np.zeros((28, 7))
    for i, n in enumerate(names):
        member[i, GROUPS.index(group_of[n])] = 1
    splits = {s: rows(s) for s in ["train", "dev", "test"]}
    vectors = np.fromfile(sys.argv[1], dtype="<f4").reshape(-1, 384)
    raw, grouped, x, at = {}, {}, {}, 0
    for s, labels in splits.items():
        x[s] = vectors[at:at + len(labels)]
        at += len(labels)
        raw[s] = np.zeros((len(labels), 28))
        for i, ls in enumerate(labels):
            raw[s][i, ls] = 1
        grouped[s] = (raw[s] @ member > 0).astype(float)
    noisy_or = lambda p: np.stack([1 - np.prod(1 - p[:, member[:, j] > 0], 1) for j in range(7)], 1)
    for seed in [int(s) for s in sys.argv[2:]] or [7]:
        head = train(x["train"], grouped["train"], 256, 20, seed)
        six, seven = macro_f1(head(x["dev"]), grouped["dev"], head(x["test"]), grouped["test"])
        print(f"seed {seed}: 7 group outputs, hidden 256:          ekman {six:.4f}, with neutral {seven:.4f}")
        for hidden, dropout, act in [(256, 0.0, "relu"), (256, 0.0, "gelu"), (1024, 0.5, "relu")]:
            head = train(x["train"], raw["train"], hidden, 20, seed, dropout=dropout, act=act)
            six, seven = macro_f1(noisy_or(head(x["dev"])), grouped["dev"],
                                  noisy_or(head(x["test"])), grouped["test"])
            print(f"seed {seed}: 28 raw outputs, noisy-OR, hidden {hidden}, dropout {dropout}, {act}: "
                  f"ekman {six:.4f}, with neutral {seven:.4f}")


if __name__ == "__main__":
    main()
