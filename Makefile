# casebot: `make run` starts the assistant on SQLite with demo data; `make test` runs every check.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: run chat demo demo-code test lint typecheck bench clean i18n catalogs

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

# The compiled catalogs (.mo, not in git) the assistant reads; rebuilt when a .po changes.
CATALOGS := locales/.compiled
$(CATALOGS): $(wildcard locales/*/LC_MESSAGES/casebot.po) $(STAMP)
	$(BIN)/python scripts/i18n.py compile
	touch $(CATALOGS)

catalogs: $(CATALOGS)

i18n: $(STAMP)  ## extract every message into locales/casebot.pot, update each locale's .po, compile
	$(BIN)/python scripts/i18n.py all
	touch $(CATALOGS)

run: $(STAMP) $(CATALOGS)  ## the assistant on its embedded default: SQLite under ./var, demo data, http://127.0.0.1:8080
	$(BIN)/casebot serve

chat: $(STAMP) $(CATALOGS)  ## the assistant in this terminal
	$(BIN)/casebot chat

demo-code: $(STAMP)  ## the demo account's current authenticator code
	@$(BIN)/python -c "from datetime import datetime, UTC; from core.accounts.otp import totp; print(totp('JBSWY3DPEHPK3PXP', datetime.now(UTC)))"

demo: $(STAMP) $(CATALOGS)
	$(BIN)/casebot demo

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: $(STAMP)
	$(BIN)/mypy

test: lint typecheck $(CATALOGS)  ## every check: lint, types, and the whole test suite
	$(BIN)/pytest

bench: $(STAMP) $(CATALOGS)  ## benchmarks of the core on SQLite and PostgreSQL, into benchmarks/RESULTS.md (BENCH_ARGS=--quick)
	$(BIN)/python -m benchmarks.bench_core $(BENCH_ARGS)
	$(BIN)/python -m benchmarks.bench_telegram
	$(BIN)/python -m benchmarks.bench_engine $(BENCH_ARGS)
	$(BIN)/python -m benchmarks.bench_web $(BENCH_ARGS)
	$(BIN)/python -m benchmarks.bench_import $(BENCH_ARGS)
	$(BIN)/python -m benchmarks.bench_understanding
	$(BIN)/python -m benchmarks.bench_proofs $(BENCH_ARGS)

clean:
	rm -rf $(VENV) var .pytest_cache .mypy_cache .ruff_cache test-artifacts
