#!/usr/bin/env python3
"""The wrong predictions among the most confident ones: what stands between a coverage and 99%.

Ranks every ticket of a `kindly eval … --decisions out.jsonl` file by its intent confidence, as
"coverage at precision p" does, keeps the top `--coverage` share and prints the wrong ones (an
out-of-scope ticket, truth `oos`, is always wrong) with the count that 99% precision allows.

    python3 scripts/confident_errors.py target/eval/banking77-decisions.jsonl --coverage 0.8
"""
import argparse
import json


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("decisions")
    parser.add_argument("--coverage", type=float, default=0.8)
    args = parser.parse_args()
    rows = []
    for line in open(args.decisions):
        row = json.loads(line)
        intent = row["decision"]["evidence"].get("intent") or {}
        predicted = intent.get("intent")
        right = predicted == row["truth"] and row["truth"] != "oos"
        rows.append((intent.get("confidence", 0.0), right, row["truth"], predicted, intent.get("nearest_example"), row["text"]))
    rows.sort(key=lambda r: -r[0])
    top = rows[: int(args.coverage * len(rows))]
    wrong = [r for r in top if not r[1]]
    print(f"{len(top)} most confident of {len(rows)}: {len(wrong)} wrong, 99% precision allows {int(0.01 * len(top))}")
    for confidence, _, truth, predicted, nearest, text in wrong:
        near = f"{nearest:.2f}" if nearest is not None else "-"
        print(f"{confidence:.3f} (nearest {near}) {truth} -> {predicted}: {text[:100]}")


if __name__ == "__main__":
    main()
