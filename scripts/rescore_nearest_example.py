#!/usr/bin/env python3
"""Coverage at fixed precisions if the intent confidence used another nearest-example power.

`kindly eval <dataset> --decisions out.jsonl` records each ticket's intent confidence and, when
the model uses it, the similarity of the nearest example of the intent (`nearest_example`). The
confidence is `blend × nearest_example ^ power`; given the power the run used, this recovers the
blend and re-scores every ticket at other powers, sweeping one threshold as `kindly eval` does
for "coverage at precision p" (an answered out-of-scope ticket counts as wrong). A ticket with
no example of its intent among the neighbours scores 0 at every power.

    python3 scripts/rescore_nearest_example.py out.jsonl [--used 0.5] [--out-of-scope-share 0.18]

`--out-of-scope-share` weights the out-of-scope tickets (truth `oos`) to that share of all
tickets: CLINC150's validation split has 100 among 3,100, its test split 1,000 among 5,500.
"""
import argparse
import json

POWERS = [0.0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.75, 1.0]
PRECISIONS = [0.99, 0.98, 0.95]


def coverage(scored, precision):
    """Largest weighted share answered by one threshold at or above `precision`."""
    total = sum(w for _, _, w in scored)
    right = answered = best = 0.0
    ordered = sorted(scored, key=lambda s: -s[0])
    for i, (score, correct, weight) in enumerate(ordered):
        right += weight * correct
        answered += weight
        tied = i + 1 < len(ordered) and ordered[i + 1][0] == score
        if not tied and right >= precision * answered:
            best = answered
    return best / total if total else 0.0


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("decisions")
    parser.add_argument("--used", type=float, default=0.5, help="the power the run used")
    parser.add_argument("--out-of-scope-share", type=float, default=None)
    args = parser.parse_args()
    rows = []
    for line in open(args.decisions):
        row = json.loads(line)
        intent = row["decision"]["evidence"].get("intent")
        out = row["truth"] == "oos"
        if intent is None:
            rows.append((0.0, 0.0, False, out))
            continue
        near = intent.get("nearest_example") or 0.0
        blend = intent["confidence"] / near ** args.used if near > 0 else 0.0
        rows.append((blend, near, row["truth"] == intent["intent"] and not out, out))
    outside = sum(r[3] for r in rows)
    weight = 1.0
    if args.out_of_scope_share and outside:
        share = args.out_of_scope_share
        weight = share / (1 - share) * (len(rows) - outside) / outside
    print(f"{len(rows)} tickets, {outside} out of scope (weight {weight:.2f}); coverage at precision "
          + " / ".join(f"{p:.0%}" for p in PRECISIONS))
    for power in POWERS:
        scored = [(b * n ** power if n > 0 else 0.0, c, weight if o else 1.0) for b, n, c, o in rows]
        print(f"  power {power:<4} " + " / ".join(f"{coverage(scored, p):.1%}" for p in PRECISIONS))


if __name__ == "__main__":
    main()
