# Quick start: `make run` (install, index the seed, open the chat) and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test index ask lint bench clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check -e '.[dev]' 2>&1 | grep -v "is ignored: it is neither" || true
	$(BIN)/python -c "import chat, indexer, faiss, bm25s, sentence_transformers"
	touch $(STAMP)

index: $(STAMP)
	$(BIN)/peelqa index

run: index
	$(BIN)/peelqa ask "Is Cleveland good at investigating crime?"

ask: $(STAMP)
	$(BIN)/peelqa ask "$(Q)"

test: $(STAMP)
	$(BIN)/python -m pytest

lint: $(STAMP)
	$(BIN)/ruff check .

bench: $(STAMP)
	$(BIN)/python benchmarks/latency.py

clean:
	rm -rf $(VENV) index .pytest_cache
