#!/usr/bin/env python3
"""Development splits carved from the *training* data, to choose defaults without the test splits.

- `<out>/banking77/`: BANKING77's training split minus 3,080 questions drawn with a fixed seed
  (`train.csv`), and those questions (`test.csv`).
- `<out>/clinc150.json`: CLINC150 full with its validation split as the test split (`train` →
  train, `val` → test, `oos_train` → oos_train, `oos_val` → oos_test).

    python3 scripts/dev_splits.py ../shared/data target/dev [seed]

A seed other than 2026 draws another BANKING77 development split (the studies average over
2026, 1 and 2).
    kindly eval target/dev/banking77 --decisions target/dev/banking77-decisions.jsonl
    kindly eval target/dev/clinc150.json --decisions target/dev/clinc150-decisions.jsonl
"""
import csv
import json
import random
import sys
from pathlib import Path

SEED, ROWS = 2026, 3080


def main():
    data, out = Path(sys.argv[1]), Path(sys.argv[2])
    seed = int(sys.argv[3]) if len(sys.argv) > 3 else SEED
    (out / "banking77").mkdir(parents=True, exist_ok=True)
    with open(data / "banking77" / "train.csv", newline="") as f:
        reader = csv.reader(f)
        header, rows = next(reader), list(reader)
    held = set(random.Random(seed).sample(range(len(rows)), ROWS))
    for name, keep in (("train.csv", lambda i: i not in held), ("test.csv", lambda i: i in held)):
        with open(out / "banking77" / name, "w", newline="") as f:
            writer = csv.writer(f)
            writer.writerow(header)
            writer.writerows(r for i, r in enumerate(rows) if keep(i))
    clinc = json.load(open(data / "clinc150_oos" / "data_full.json"))
    dev = {"train": clinc["train"], "val": [], "test": clinc["val"],
           "oos_train": clinc["oos_train"], "oos_val": [], "oos_test": clinc["oos_val"]}
    json.dump(dev, open(out / "clinc150.json", "w"))


if __name__ == "__main__":
    main()
