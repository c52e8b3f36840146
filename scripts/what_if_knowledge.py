"""What if the knowledge checks were different? Re-decides recorded `kindly eval` decisions.

`kindly eval <dataset> --decisions out.jsonl` records every test ticket's evidence. This script
keeps every other reason the policy raised and re-applies the intent threshold and the knowledge
checks as `crates/kindly-core/src/policy/knowledge.rs` does them:

- the knowledge to answer from is the best approved hit that agrees with the predicted intent
  (names it, or names no intent);
- it must score >= --min-score (`min_knowledge_score`);
- knowledge for a different answer may not lead it by more than --max-rival-lead
  (`max_rival_lead`);
- knowledge for a different answer within --margin (`min_margin`) of it is ambiguous, unless the
  intent reaches its threshold (it always does here: below it, the ticket is handed off anyway).

With the defaults it reproduces the recorded decisions of the current policy. For each file it
prints the share answered and its precision at the recorded (calibrated) intent thresholds; with
an out-of-scope label (`oos`), the share of out-of-scope tickets handed off, the share of in-scope
ones answered correctly, and the best single intent threshold that hands off >= 95% of out of
scope (what `kindly eval` reports as `one_threshold_*`). `--grid` prints those numbers for a grid
of --min-score and --max-rival-lead: run it on development splits (`scripts/dev_splits.py`), not
on the test split, to choose the defaults.

It also counts, among the in-scope tickets handed off, those with one reason alone.

    python3 scripts/what_if_knowledge.py out.jsonl [more.jsonl ...] \\
        [--min-score 0.5] [--max-rival-lead 0.2] [--margin 0.03] [--grid]
"""
from collections import Counter
import argparse
import json

CHECKED = {"knowledge_intent_mismatch", "ambiguous_knowledge", "no_knowledge_match",
           "low_intent_confidence"}
OUT_OF_SCOPE = "oos"


def chosen_knowledge(evidence, threshold, min_score, max_rival_lead):
    """The knowledge the policy would answer from, or None for a handoff."""
    intent = evidence.get("intent")
    if intent is None or intent["confidence"] < threshold:
        return None
    approved = [k for k in evidence["knowledge"] if k["status"] == "approved"]
    agreeing = [k for k in approved if not k["intents"] or intent["intent"] in k["intents"]]
    if not agreeing or agreeing[0]["score"] < min_score:
        return None
    chosen = agreeing[0]
    rival = next((k for k in approved
                  if k is not chosen and not set(k["intents"]) & set(chosen["intents"])), None)
    if rival and rival["score"] - chosen["score"] > max_rival_lead:
        return None
    # A rival within the margin is settled by the intent, which reached its threshold; knowledge
    # without an intent cannot be settled.
    if rival and chosen["score"] - rival["score"] < MARGIN and not chosen["intents"]:
        return None
    return chosen


class Replay:
    """The recorded tickets re-decided with some knowledge checks."""

    def __init__(self, rows, min_score, max_rival_lead):
        self.rows = rows
        self.min_score, self.max_rival_lead = min_score, max_rival_lead

    def outcome(self, row, threshold=None):
        decision = row["decision"]
        if {r["code"] for r in decision["reasons"]} - CHECKED:
            return None
        evidence = decision["evidence"]
        threshold = evidence["intent_threshold"] if threshold is None else threshold
        return chosen_knowledge(evidence, threshold, self.min_score, self.max_rival_lead)

    def shares(self, threshold=None):
        """(answered, precision, out of scope handed off, in scope answered correctly)."""
        answered = correct = out_answered = out_total = 0
        for row in self.rows:
            hit = self.outcome(row, threshold)
            out = row["truth"] == OUT_OF_SCOPE
            out_total += out
            if hit is not None:
                answered += 1
                correct += not out and row["truth"] in hit["intents"]
                out_answered += out
        in_total = len(self.rows) - out_total
        return (answered / len(self.rows), correct / max(answered, 1),
                1 - out_answered / max(out_total, 1), correct / max(in_total, 1), out_total)

    def one_threshold(self, floor=0.95):
        """The single intent threshold (steps of 0.005) with the most in-scope tickets answered
        correctly while >= floor of the out-of-scope ones are handed off."""
        best = None
        for step in range(201):
            t = step * 0.005
            _, _, out, inside, _ = self.shares(t)
            if out >= floor and (best is None or inside > best[1]):
                best = (t, inside, out)
        return best

    def line(self):
        answered, precision, out, inside, out_total = self.shares()
        text = f"answered {answered:.1%} at precision {precision:.2%}"
        if out_total:
            text += f", out of scope handed off {out:.1%}, in scope answered correctly {inside:.1%}"
            best = self.one_threshold()
            if best:
                text += f"; one threshold {best[0]:.3f}: {best[1]:.1%} at {best[2]:.1%}"
        return text


def reasons_alone(rows):
    alone = Counter()
    for row in rows:
        decision = row["decision"]
        codes = {r["code"] for r in decision["reasons"]}
        if row["truth"] != OUT_OF_SCOPE and decision["outcome"]["kind"] != "answer" and len(codes) == 1:
            alone[codes.pop()] += 1
    return ", ".join(f"{code} {n}" for code, n in alone.most_common())


parser = argparse.ArgumentParser()
parser.add_argument("decisions", nargs="+")
parser.add_argument("--min-score", type=float, default=0.5)
parser.add_argument("--max-rival-lead", type=float, default=0.2)
parser.add_argument("--margin", type=float, default=0.03)
parser.add_argument("--grid", action="store_true",
                    help="a grid of --min-score and --max-rival-lead instead of one setting")
args = parser.parse_args()
MARGIN = args.margin
for path in args.decisions:
    rows = [json.loads(line) for line in open(path)]
    print(path)
    if args.grid:
        for min_score in (0.4, 0.45, 0.5, 0.55, 0.6):
            for lead in (0.0, 0.1, 0.2, 1.0):
                print(f"  min score {min_score:<4} max rival lead {lead:<4}:",
                      Replay(rows, min_score, lead).line())
        continue
    print(f"  min score {args.min_score}, max rival lead {args.max_rival_lead}:",
          Replay(rows, args.min_score, args.max_rival_lead).line())
    print("  in scope, handed off for one reason alone (as recorded):", reasons_alone(rows))
