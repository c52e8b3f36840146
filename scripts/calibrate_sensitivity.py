"""Checks the sensitivity thresholds in models/sensitivity-exemplars.toml.

For each category it prints the highest score of any routine question (every sample question of
the knowledge base, plus a few routine tickets) and the scores of sensitive examples. A threshold
belongs between the two. Kindly scores the whole ticket and each clause, as this script does.

    .venv-bench/bin/python scripts/calibrate_sensitivity.py
"""
import tomllib, glob, re, numpy as np
from sentence_transformers import SentenceTransformer
import sys
m = SentenceTransformer(sys.argv[1] if len(sys.argv) > 1 else "models/all-MiniLM-L6-v2", device="cpu")
ex = tomllib.load(open("models/sensitivity-exemplars.toml","rb"))
routine = []
for f in sorted(glob.glob("knowledge-base/kb-*.md")):
    fm = open(f).read().split("+++")[1]
    d = tomllib.loads(fm)
    routine += d["questions"]
routine += ["Where is my order? I bought a Lumo Cam on Monday.","I want to cancel my Lumo Plus subscription please","How do I cancel my order before it ships?","Please cancel my subscription, I don't use the camera any more.","I'd like to return my speaker, it's not for me.", "Can I get a refund for the purifier?", "Can you call me back about my order?", "My order is late, can you check?"]
sensitive = {
 "bereavement": ["My mum passed away in October and I need to cancel her Lumo Plus subscription.", "My husband died last month. How do I transfer his camera to my account?", "I'm writing because my father passed away and his Lumo account is still charging him."],
 "anger_or_frustration": ["This is absolutely ridiculous. Your camera is garbage and your support is useless, I am so angry.", "I am furious, the purifier broke after a week and nobody cares.", "Unbelievable. Worst customer service ever, fix my speaker now."],
 "repeated_contact": ["This is the third time I'm writing about my refund and still nothing has happened!", "I've already contacted you twice about the missing item and no one replied.", "Once again I'm asking about my delivery, I wrote last week too."],
 "cancellation_or_churn": ["After this experience I'm switching to a different brand, please close my account for good.", "I'm done with Lumo. Going to a competitor.", "Honestly I regret buying Lumo and I won't be buying from you again."],
 "legal_threat": ["If you don't refund me by Friday I will take you to court, my solicitor is ready.", "I'm contacting my lawyer about the faulty camera.", "I will report Lumo to consumer protection if this is not fixed."],
 "safety_or_injury": ["My Lumo Air purifier started smoking and there was a burning smell, the plug is melted.", "The speaker battery swelled up and my son burned his finger.", "Sparks came out of the Hub when I plugged it in."],
 "vulnerability": ["I've lost my job and can't afford the Lumo Plus payment this month, please help, I'm struggling.", "I'm 84, I live alone and I can't work out how to set up the camera.", "Money is really tight and this double charge means I can't pay rent."],
 "human_requested": ["I don't want a bot answer, please let me speak to a real person about my order.", "Can I talk to an actual human about my refund?", "Please have a manager call me about my warranty claim."],
}
def sents(t):
    parts=[p.strip() for p in re.split(r"[.!?\n;,]| and | but ", t) if len(p.split())>=3]
    return parts if len(parts)>=2 else []
def vecs(t): return m.encode([t]+sents(t), normalize_embeddings=True)
E = {c: m.encode(v["exemplars"], normalize_embeddings=True) for c,v in ex.items()}
U = {c: m.encode(v["unlike"], normalize_embeddings=True) for c,v in ex.items() if v.get("unlike")}
def score(t):
    # As Kindly does: a part closer to one of the category's `unlike` sentences does not count.
    V = vecs(t); out = {}
    for c in E:
        s = (V@E[c].T).max(1)
        if c in U: s = np.where(s > (V@U[c].T).max(1), s, 0.0)
        out[c] = float(s.max())
    return out
R = [score(t) for t in routine]
for c in E:
    rmax = sorted(((r[c],t) for r,t in zip(R,routine)), reverse=True)[:2]
    smin = [round(score(t)[c],2) for t in sensitive[c]]
    print(f"{c:22} thr={ex[c]['threshold']} routine max={rmax[0][0]:.2f} ({rmax[0][1][:50]}) 2nd={rmax[1][0]:.2f} | sensitive={smin}")
