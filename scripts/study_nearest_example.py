"""Why the intent confidence multiplies in the nearest example's similarity (CLINC150, BANKING77).

A numpy/scikit-learn model of the recipe on the same frozen embeddings: logistic regression
(C = 10) on all-MiniLM-L6-v2 vectors of the training (and validation) split, CLINC150's
out-of-scope training rows as one more class. For each test question it scores

- p: the classifier's probability of its predicted intent;
- n: the similarity of the nearest training example of that intent;
- p × n^k for k = 1, 0.5, 1/3;

and prints, per score, CLINC150's in-scope questions answered correctly when one threshold hands
off 95% of out-of-scope ones, and each set's coverage at 99% precision (an answered out-of-scope
question counts as wrong). It reads the test split: it explains a default, it does not tune one.

    .venv-bench/bin/pip install scikit-learn   # next to `make bench`'s sentence-transformers
    .venv-bench/bin/python scripts/study_nearest_example.py models/all-MiniLM-L6-v2 ../shared/data
"""
import csv
import json
import sys

import numpy as np
from sentence_transformers import SentenceTransformer
from sklearn.linear_model import LogisticRegression

OOS = "oos"


def coverage_at(score, right, precision=0.99):
    order = np.argsort(-score)
    hits = np.cumsum(right[order])
    ok = np.where(hits >= precision * np.arange(1, len(order) + 1))[0]
    return (ok.max() + 1) / len(score) if len(ok) else 0.0


def in_scope_correct_at(score, predicted, truth, handed_off=0.95):
    inside, outside = truth != OOS, truth == OOS
    best = 0.0
    for t in np.unique(np.quantile(score, np.linspace(0, 1, 2001))):
        answered = (predicted != OOS) & (score >= t)
        if 1 - answered[outside].mean() >= handed_off:
            best = max(best, (answered & inside & (predicted == truth)).sum() / inside.sum())
    return best


def study(name, embed, train, test):
    (xs, ys), (xt, yt) = [(embed([t for t, _ in rows]), np.array([l for _, l in rows])) for rows in (train, test)]
    model = LogisticRegression(C=10, max_iter=3000).fit(xs, ys)
    probabilities = model.predict_proba(xt)
    index = probabilities.argmax(1)
    predicted, p = model.classes_[index], probabilities.max(1)
    similarities = xt @ xs.T
    n = np.array([similarities[i, ys == predicted[i]].max() for i in range(len(xt))]).clip(0)
    right = (predicted == yt) & (yt != OOS)
    print(f"{name}: accuracy (in scope) {(predicted == yt)[yt != OOS].mean():.3f}")
    for label, score in [("p", p), ("p × n", p * n), ("p × n^0.5", p * n**0.5), ("p × n^(1/3)", p * n ** (1 / 3))]:
        score = np.where(predicted == OOS, -1.0, score)  # a predicted "out of scope" is never answered
        line = f"  {label:12s} coverage at 99% precision {coverage_at(score, right):.3f}"
        if (yt == OOS).any():
            line += f"; in-scope answered correctly at 95% out of scope handed off {in_scope_correct_at(score, predicted, yt):.3f}"
        print(line, flush=True)


def main():
    model_dir, data = sys.argv[1], sys.argv[2]
    encoder = SentenceTransformer(model_dir, device="cpu")
    embed = lambda texts: encoder.encode(texts, normalize_embeddings=True, batch_size=64)
    clinc = json.load(open(f"{data}/clinc150_oos/data_full.json"))
    train = [tuple(r) for k in ("train", "val", "oos_train", "oos_val") for r in clinc[k]]
    test = [tuple(r) for k in ("test", "oos_test") for r in clinc[k]]
    study("CLINC150 full", embed, train, test)
    banking = {k: [(r["text"], r["category"]) for r in csv.DictReader(open(f"{data}/banking77/{k}.csv"))] for k in ("train", "test")}
    study("BANKING77", embed, banking["train"], banking["test"])


if __name__ == "__main__":
    main()
