"""Compute reference sentence vectors with sentence-transformers (the reference implementation).

Kindly's embedder test compares its own vectors with these (cosine >= 0.999 each).
Run once, commit the output:

    python3 scripts/reference_embeddings.py models/all-MiniLM-L6-v2 > tests/fixtures/reference_embeddings.json
"""

import json
import sys

from sentence_transformers import SentenceTransformer

SENTENCES = [
    "Where is my order? It was supposed to arrive on Tuesday.",
    "How do I reset my password for the Lumo app?",
    "My father passed away last week and I need to close his account.",
    "I want a refund NOW. This is the third time I'm writing to you!!!",
    "The purifier's filter light keeps blinking red even after I replaced the filter.",
    "ok",
    "Café crème, naïve façade: ünïcödé and emoji 🎉 should tokenize fine.",
    # Longer than the model's 256-token limit: checks truncation matches the reference.
    " ".join(["My Lumo Cam stopped recording motion events after the latest firmware update"] * 30),
]


def main() -> None:
    model_dir = sys.argv[1]
    model = SentenceTransformer(model_dir, device="cpu")
    vectors = model.encode(SENTENCES, normalize_embeddings=True, batch_size=8)
    json.dump(
        {
            "model": "sentence-transformers/all-MiniLM-L6-v2",
            "produced_by": "scripts/reference_embeddings.py",
            "cases": [{"text": s, "vector": [round(float(x), 7) for x in v]} for s, v in zip(SENTENCES, vectors)],
        },
        sys.stdout,
        ensure_ascii=False,
    )


if __name__ == "__main__":
    main()
