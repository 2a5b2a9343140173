# Quick start: `make run` (install, index the seed, open the chat) and `make test`.
HOST ?= 127.0.0.1
PORT ?= 7860
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test index ask lint bench clean chromium

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check -e '.[dev]' 2>&1 | grep -v "is ignored: it is neither" || true
	$(BIN)/python -c "import chat, indexer, faiss, bm25s, sentence_transformers"
	touch $(STAMP)

index: $(STAMP)
	$(BIN)/peelqa index

run: index
	$(BIN)/peelqa serve --host $(HOST) --port $(PORT)

ask: $(STAMP)
	$(BIN)/peelqa ask "$(Q)"

# Browser tests drive Debian's Chromium; install it when missing (never `playwright install`).
chromium:
	@test -x /usr/bin/chromium || { SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq chromium >/dev/null; }

test: $(STAMP) chromium
	$(BIN)/python -m pytest

lint: $(STAMP)
	$(BIN)/ruff check .

bench: $(STAMP)
	$(BIN)/python benchmarks/latency.py
	$(BIN)/python benchmarks/quality.py
	$(BIN)/python benchmarks/api_latency.py

clean:
	rm -rf $(VENV) index .pytest_cache
