"""What if the knowledge checks were different? Re-decides recorded `kindly eval` decisions.

`kindly eval <dataset> --decisions out.jsonl` records every test ticket's evidence. This script
keeps every other reason the policy raised and re-applies only the knowledge checks, two ways:

- current: the top approved knowledge must score >= 0.6, be about the predicted intent, and lead
  the best knowledge about another intent by 0.03 unless the confident intent names it (what
  `policy.rs` does; it reproduces the recorded decisions);
- about-intent: answer from the best approved knowledge about the predicted intent, handing off
  only when none was retrieved, it scores < 0.6, or another intent's knowledge beats it by > 0.03.

It also counts, among the in-scope tickets handed off, those with one reason alone, and the
answers given although knowledge for another answer came within 0.03 (the intent settled it).

    python3 scripts/what_if_knowledge.py out.jsonl [more.jsonl ...] [--min-score 0.6] [--margin 0.03]

`--min-score` and `--margin` change the about-intent variant only (the current one follows the
policy's defaults).
"""
from collections import Counter
import argparse
import json

KNOWLEDGE = {"knowledge_intent_mismatch", "ambiguous_knowledge", "no_knowledge_match",
             "low_intent_confidence"}
MIN_SCORE, MARGIN, OUT_OF_SCOPE = 0.6, 0.03, "oos"


def chosen_knowledge(evidence, about_intent):
    intent = evidence.get("intent")
    if intent is None or intent["confidence"] < evidence["intent_threshold"]:
        return None
    approved = [k for k in evidence["knowledge"] if k["status"] == "approved"]
    if not approved:
        return None
    if about_intent:
        about = [k for k in approved if intent["intent"] in k["intents"]]
        if not about or about[0]["score"] < ABOUT_MIN_SCORE:
            return None
        best = about[0]
        rival = next((k for k in approved if not set(k["intents"]) & set(best["intents"])), None)
        return None if rival and rival["score"] - best["score"] > ABOUT_MARGIN else best
    best = approved[0]
    if best["score"] < MIN_SCORE or (best["intents"] and intent["intent"] not in best["intents"]):
        return None
    rival = next((k for k in approved[1:] if not set(k["intents"]) & set(best["intents"])), None)
    # A confident intent that names the best knowledge settles a close rival.
    settled = intent["intent"] in best["intents"]
    return None if rival and best["score"] - rival["score"] < MARGIN and not settled else best


def replay(rows, about_intent):
    answered = correct = out_answered = out_total = in_total = in_correct = 0
    for row in rows:
        decision = row["decision"]
        other = {r["code"] for r in decision["reasons"]} - KNOWLEDGE
        out = row["truth"] == OUT_OF_SCOPE
        out_total += out
        in_total += not out
        hit = None if other else chosen_knowledge(decision["evidence"], about_intent)
        if hit is not None:
            answered += 1
            right = not out and row["truth"] in hit["intents"]
            correct += right
            in_correct += right
            out_answered += out
    line = f"answered {answered / len(rows):.1%} at precision {correct / max(answered, 1):.2%}"
    if out_total:
        line += (f", out of scope handed off {1 - out_answered / out_total:.1%}, "
                 f"in scope answered correctly {in_correct / in_total:.1%}")
    return line


def reasons_alone(rows):
    alone = Counter()
    for row in rows:
        decision = row["decision"]
        codes = {r["code"] for r in decision["reasons"]}
        if row["truth"] != OUT_OF_SCOPE and decision["outcome"]["kind"] != "answer" and len(codes) == 1:
            alone[codes.pop()] += 1
    return ", ".join(f"{code} {n}" for code, n in alone.most_common())


def settled_answers(rows):
    settled = [r for r in rows if "runner-up" in r["decision"]["summary"]]
    right = sum(r["truth"] in knowledge_of(r["decision"])["intents"] for r in settled)
    return f"{len(settled)} ({len(settled) / len(rows):.1%} of tickets), {right / max(len(settled), 1):.1%} right"


def knowledge_of(decision):
    chosen = decision["outcome"]["knowledge"]
    return next(k for k in decision["evidence"]["knowledge"] if k["reference"] == chosen)


parser = argparse.ArgumentParser()
parser.add_argument("decisions", nargs="+")
parser.add_argument("--min-score", type=float, default=MIN_SCORE)
parser.add_argument("--margin", type=float, default=MARGIN)
args = parser.parse_args()
ABOUT_MIN_SCORE, ABOUT_MARGIN = args.min_score, args.margin
for path in args.decisions:
    rows = [json.loads(line) for line in open(path)]
    print(path)
    print("  current:     ", replay(rows, about_intent=False))
    print(f"  about-intent (>= {ABOUT_MIN_SCORE}, margin {ABOUT_MARGIN}):", replay(rows, about_intent=True))
    print("  in scope, handed off for one reason alone:", reasons_alone(rows))
    print("  answered although close knowledge for another answer (the intent settled it):",
          settled_answers(rows))
