#!/usr/bin/env python3
"""A validation stream for `kindly eval --replay`, drawn from BANKING77's *training* split.

The replay's targets are measured on the test split, so its knobs are chosen on this stream
instead: 3,080 training questions (as many as the test split has), drawn with a fixed seed,
written as a BANKING77 folder whose `test.csv` is that draw (the replay reads only the test
split; `train.csv` is copied so that the folder is a valid dataset).

    python3 scripts/banking77_validation_stream.py ../shared/data/banking77 target/banking77-validation
    kindly eval target/banking77-validation --replay

An optional third argument draws another stream with another seed (2027 and 2028 were used to
tell a real change from the stream's path dependence):

    python3 scripts/banking77_validation_stream.py ../shared/data/banking77 target/banking77-validation-2027 2027
"""
import csv
import random
import shutil
import sys
from pathlib import Path

SEED = 2026
ROWS = 3080


def main():
    source, out = Path(sys.argv[1]), Path(sys.argv[2])
    seed = int(sys.argv[3]) if len(sys.argv) > 3 else SEED
    with open(source / "train.csv", newline="") as f:
        reader = csv.reader(f)
        header = next(reader)
        rows = list(reader)
    sample = random.Random(seed).sample(rows, ROWS)
    out.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(source / "train.csv", out / "train.csv")
    with open(out / "test.csv", "w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(header)
        writer.writerows(sample)
    print(f"{len(sample)} of {len(rows)} training questions written to {out / 'test.csv'} (seed {seed})")


if __name__ == "__main__":
    main()
