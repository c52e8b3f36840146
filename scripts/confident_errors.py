#!/usr/bin/env python3
"""The wrong predictions among the most confident ones: what stands between a coverage and 99%.

Ranks every ticket of a `kindly eval … --decisions out.jsonl` file by its intent confidence, as
"coverage at precision p" does, keeps the top `--coverage` share and prints the wrong ones (an
out-of-scope ticket, truth `oos`, is always wrong) with the count that 99% precision allows.

    python3 scripts/confident_errors.py target/eval/banking77-decisions.jsonl --coverage 0.8

With `--also` decisions of other runs on the same tickets (other settings, seeds or features),
it says how many of those runs named the same wrong intent for each error (systematic errors: no
reranking of these runs moves them), and the coverage at 99% precision of each run and of their
averaged confidence (each intent scored by the mean of the confidences of the runs that chose it).

    python3 scripts/confident_errors.py base.jsonl --also layer3.jsonl maxpool.jsonl

With `--train` the training csv (text, category) the run learnt from, it asks whether the errors
lean to frequent intents: how many predicted an intent with more training examples than the true
one, and the mean log ratio of the two counts (near 0: class priors do not explain the errors).

    python3 scripts/confident_errors.py dev.jsonl --train target/dev/banking77/train.csv
"""
import argparse
import csv
import json
import math
from collections import Counter, defaultdict


def load(path):
    """(text, truth, predicted intent, confidence) per ticket, in the file's order."""
    rows = []
    for line in open(path):
        row = json.loads(line)
        intent = row["decision"]["evidence"].get("intent") or {}
        rows.append((row["text"], row["truth"], intent.get("intent"), intent.get("confidence", 0.0),
                     intent.get("nearest_example")))
    return rows


def coverage_at(scored, precision=0.99):
    """The largest share of tickets, most confident first, answered at `precision` or better."""
    scored = sorted(scored, key=lambda s: -s[0])
    best = right = 0
    for k, (_, correct) in enumerate(scored, 1):
        right += correct
        if right / k >= precision:
            best = k
    return best / len(scored)


def is_right(truth, predicted):
    return predicted == truth and truth != "oos"


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("decisions")
    parser.add_argument("--coverage", type=float, default=0.8)
    parser.add_argument("--also", nargs="*", default=[], help="decisions of other runs on the same tickets")
    parser.add_argument("--train", help="the training csv (text, category), to compare intent frequencies")
    args = parser.parse_args()
    rows = load(args.decisions)
    others = [load(path) for path in args.also]
    for path, other in zip(args.also, others):
        if [r[0] for r in other] != [r[0] for r in rows]:
            raise SystemExit(f"{path} holds other tickets, or another order, than {args.decisions}")
    order = sorted(range(len(rows)), key=lambda i: -rows[i][3])
    top = order[: int(args.coverage * len(rows))]
    wrong = [i for i in top if not is_right(rows[i][1], rows[i][2])]
    print(f"{len(top)} most confident of {len(rows)}: {len(wrong)} wrong, 99% precision allows {int(0.01 * len(top))}")
    for i in wrong:
        text, truth, predicted, confidence, nearest = rows[i]
        near = f"{nearest:.2f}" if nearest is not None else "-"
        same = f" [same wrong intent in {sum(o[i][2] == predicted for o in others)}/{len(others)} other runs]" if others else ""
        print(f"{confidence:.3f} (nearest {near}) {truth} -> {predicted}{same}: {text[:100]}")
    if args.train:
        with open(args.train, newline="") as f:
            counts = Counter(row[1] for row in list(csv.reader(f))[1:])
        pairs = [(counts[rows[i][2]], counts[rows[i][1]]) for i in wrong if counts[rows[i][1]]]
        if pairs:
            more = sum(p > t for p, t in pairs)
            ratio = sum(math.log(p / t) for p, t in pairs if p) / len(pairs)
            print(f"{more} of {len(pairs)} errors predicted an intent more frequent in training than the true one; "
                  f"mean log ratio of the counts {ratio:+.3f}")
    if not others:
        return
    runs = [rows] + others
    for path, run in zip([args.decisions] + args.also, runs):
        print(f"coverage at 99% precision {100 * coverage_at([(r[3], is_right(r[1], r[2])) for r in run]):.2f}%  {path}")
    averaged = []
    for i, (_, truth, *_rest) in enumerate(rows):
        votes = defaultdict(float)
        for run in runs:
            if run[i][2] is not None:
                votes[run[i][2]] += run[i][3] / len(runs)
        intent, score = max(votes.items(), key=lambda v: v[1]) if votes else (None, 0.0)
        averaged.append((score, is_right(truth, intent)))
    print(f"coverage at 99% precision {100 * coverage_at(averaged):.2f}%  the {len(runs)} runs' averaged confidence")


if __name__ == "__main__":
    main()
