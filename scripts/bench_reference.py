"""The reference side of `kindly bench`: sentence-transformers (PyTorch, CPU) on the same texts.

Usage: python bench_reference.py MODEL_DIR TEXTS_JSON BATCH_SIZES(comma-separated) ROUNDS
Prints one JSON object: {"batch_size": texts_per_second, ...} (best of ROUNDS, after a warm-up).
"""

import json
import sys
import time

import torch
from sentence_transformers import SentenceTransformer


def main() -> None:
    model_dir, texts_path, sizes, rounds = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
    texts = json.load(open(texts_path, encoding="utf-8"))
    model = SentenceTransformer(model_dir, device="cpu")
    model.encode(texts[:32], batch_size=32, normalize_embeddings=True)  # warm-up
    out = {"torch_threads": torch.get_num_threads()}
    for size in (int(s) for s in sizes.split(",")):
        best = 0.0
        for _ in range(rounds):
            start = time.perf_counter()
            for i in range(0, len(texts), size):
                model.encode(texts[i : i + size], batch_size=size, normalize_embeddings=True)
            best = max(best, len(texts) / (time.perf_counter() - start))
        out[str(size)] = best
    print(json.dumps(out))


if __name__ == "__main__":
    main()
