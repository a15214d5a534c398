# mamoru — two commands: `make run` and `make test`.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
PORT   ?= 8600

.PHONY: run test lint typecheck pytest bench clean browser

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

## run: set up, initialize the workspace, load the demo organization if empty, serve on 127.0.0.1:$(PORT)
run: $(STAMP)
	$(BIN)/mamoru init
	$(BIN)/mamoru demo --if-empty
	$(BIN)/mamoru serve --host 127.0.0.1 --port $(PORT)

## test: set up, lint, type-check and run the whole test suite
test: $(STAMP) lint typecheck pytest

lint: $(STAMP)
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench
	$(BIN)/lint-imports

typecheck: $(STAMP)
	$(BIN)/mypy

## browser: Debian's Chromium for the page tests (driven by Playwright with executable_path) and a Japanese
## font (fonts-noto-cjk), without which Chromium draws every Japanese character as a box; no download
CHROMIUM ?= /usr/bin/chromium
CJK_FONT ?= /usr/share/fonts/opentype/noto
browser:
	@test -x $(CHROMIUM) || (command -v apt-get >/dev/null && [ "$$(id -u)" = 0 ] && \
	  (DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium >/dev/null 2>&1 || \
	   (apt-get update -q >/dev/null 2>&1 && DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium >/dev/null 2>&1))) || \
	  echo "chromium is not installed: the browser tests will skip (install it with: apt-get install chromium)"
	@test -d $(CJK_FONT) || (command -v apt-get >/dev/null && [ "$$(id -u)" = 0 ] && \
	  (DEBIAN_FRONTEND=noninteractive apt-get install -y -q fonts-noto-cjk >/dev/null 2>&1 || \
	   (apt-get update -q >/dev/null 2>&1 && DEBIAN_FRONTEND=noninteractive apt-get install -y -q fonts-noto-cjk >/dev/null 2>&1))) || \
	  echo "fonts-noto-cjk is not installed: Japanese shows as boxes in the browser tests' screenshots (install it with: apt-get install fonts-noto-cjk)"

## pytest: the whole suite on SQLite and, at the same time, the tests whose workspace moves with it on
## PostgreSQL (skipped with a reason when PostgreSQL is unreachable, a failure under CI=true); each run
## in parallel (pytest-xdist, WORKERS processes, each with its own databases). The PostgreSQL run's
## report follows the SQLite run's.
WORKERS ?= 2
PG_LOG := .pytest-postgresql.log
pytest: $(STAMP) browser
	@MAMORU_TEST_DB=postgresql $(BIN)/pytest -q -n $(WORKERS) --dist worksteal -p no:cacheprovider > $(PG_LOG) 2>&1 & pg=$$!; \
	$(BIN)/pytest -q -n $(WORKERS) --dist worksteal; sqlite=$$?; \
	wait $$pg; postgres=$$?; echo "== the PostgreSQL run"; cat $(PG_LOG); \
	test $$sqlite -eq 0 && test $$postgres -eq 0

BENCH_STAMP := $(VENV)/.bench-installed

$(BENCH_STAMP): $(STAMP)
	$(BIN)/pip install --quiet -e '.[dev,bench]'
	touch $(BENCH_STAMP)

## bench: run every benchmark in bench/ (each prints a JSON summary as its last line)
bench: $(BENCH_STAMP)
	@set -e; for f in bench/[!_]*.py; do echo "== $$f"; $(BIN)/python $$f; done

clean:
	rm -rf $(VENV) .mamoru .pytest_cache .mypy_cache .ruff_cache $(PG_LOG)
