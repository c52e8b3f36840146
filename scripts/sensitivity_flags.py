"""How often each sensitive category flags routine queries, with and without its `unlike` sentences.

Reads one split of a CLINC150 json file (default: `data_full.json`'s `val`, in-scope queries
only), embeds the queries and the exemplar file with Kindly's own embedder (the `embed_lines`
example) and scores each whole query as Kindly does: the closest exemplar, set aside when an
`unlike` sentence of the category is closer. Prints, per category, the queries flagged without
and with `unlike`, and the labels of those still flagged.

    python3 scripts/sensitivity_flags.py [../shared/data/clinc150_oos/data_full.json [val]]
"""
from collections import Counter
import json
import pathlib
import subprocess
import sys
import tempfile
import tomllib

import numpy as np

ROOT = pathlib.Path(__file__).resolve().parent.parent
data = sys.argv[1] if len(sys.argv) > 1 else str(ROOT / "../shared/data/clinc150_oos/data_full.json")
split = sys.argv[2] if len(sys.argv) > 2 else "val"
queries = [(text, label) for text, label in json.load(open(data))[split] if label != "oos"]
exemplars = tomllib.load(open(ROOT / "models/sensitivity-exemplars.toml", "rb"))


def embed(lines):
    with tempfile.TemporaryDirectory() as tmp:
        src, out = pathlib.Path(tmp, "lines.txt"), pathlib.Path(tmp, "lines.f32")
        src.write_text("".join(line.replace("\n", " ") + "\n" for line in lines))
        subprocess.run(["cargo", "run", "-q", "--release", "-p", "kindly-model", "--example", "embed_lines",
                        "--", "models/all-MiniLM-L6-v2", str(src), str(out)], cwd=ROOT, check=True,
                       stderr=subprocess.DEVNULL)
        return np.fromfile(out, dtype="<f4").reshape(len(lines), -1)


Q = embed([text for text, _ in queries])
for category, c in exemplars.items():
    best = (Q @ embed(c["exemplars"]).T).max(1)
    before = best >= c["threshold"]
    after = before.copy()
    if c.get("unlike"):
        after &= best > (Q @ embed(c["unlike"]).T).max(1)
    labels = Counter(queries[i][1] for i in np.flatnonzero(after))
    print(f"{category:22} flagged {before.sum():3d} without unlike, {after.sum():3d} with; "
          f"still: {', '.join(f'{label} {n}' for label, n in labels.most_common(6))}")
