#!/usr/bin/env python3
"""Coverage at 99% precision if the intent confidence were discounted by the retrieval margin.

`kindly eval <dataset> --decisions out.jsonl` records, per ticket, the intent confidence and the
closest knowledge (one hit per article, with the article's intents and its best-matching
question's similarity). For an intent dataset each article is one intent, so this gives the
similarity of the nearest example of the predicted intent (s_pred) and of any other intent
(s_other). This re-scores every ticket as `confidence × max(s_pred − s_other + d, 1e-6) ^ g`
over a grid of g and d, and prints coverage at 99% precision per decisions file and the mean,
sweeping one threshold as `kindly eval` does.

    python3 scripts/rescore_retrieval_margin.py dev.jsonl dev1.jsonl dev2.jsonl
"""
import json
import sys


def load(path):
    rows = []
    for line in open(path, encoding="utf-8"):
        record = json.loads(line)
        evidence = record["decision"]["evidence"]
        intent = evidence.get("intent")
        if not intent:
            rows.append((0.0, False, 0.0, 0.0))
            continue
        predicted = intent["intent"]
        hits = evidence["knowledge"]
        s_pred = max((k["score"] for k in hits if predicted in k["intents"]), default=0.0)
        s_other = max((k["score"] for k in hits if predicted not in k["intents"]), default=0.0)
        rows.append((intent["confidence"], predicted == record["truth"], s_pred, s_other))
    return rows


def coverage(rows, score, precision=0.99):
    ordered = sorted(rows, key=score, reverse=True)
    right = best = 0
    for i, row in enumerate(ordered):
        right += row[1]
        if right >= precision * (i + 1):
            best = i + 1
    return best / len(rows)


def main():
    splits = [load(path) for path in sys.argv[1:]]
    if not splits:
        sys.exit(__doc__)

    def report(name, score):
        values = [coverage(rows, score) * 100 for rows in splits]
        print(f"{name:28s}", " / ".join(f"{v:.2f}%" for v in values), f"mean {sum(values) / len(values):.2f}%")

    report("confidence alone", lambda r: r[0])
    for g in [0.1, 0.25, 0.5, 1.0]:
        for d in [0.05, 0.1, 0.2]:
            report(f"margin g={g} d={d}", lambda r, g=g, d=d: r[0] * max(r[2] - r[3] + d, 1e-6) ** g)


if __name__ == "__main__":
    main()
