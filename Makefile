# casebot: `make run` starts the assistant on SQLite with demo data; `make test` runs every check.
# Every install comes from the lock file (uv.lock), through uv, which is itself pinned with hashes.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
TOOLS  := .tools
UV     := $(TOOLS)/bin/uv
HOST   ?= 127.0.0.1
PORT   ?= 8080
export UV_PROJECT_ENVIRONMENT := $(VENV)

.PHONY: run chat demo demo-code test test-latest fuzz lock lint typecheck bench bench-peers clean i18n catalogs wheel axe

# uv's own venv is made without pip (seeding pip is most of a fresh machine's set-up time): the
# system pip installs uv into it (`pip --python`, pip 22.3+); without one, the venv gets pip.
$(UV): requirements/uv.txt
	$(PYTHON) -m venv --without-pip $(TOOLS)
	$(PYTHON) -m pip --disable-pip-version-check --python $(TOOLS)/bin/python install --quiet \
		--require-hashes -r requirements/uv.txt 2>/dev/null \
	|| { $(TOOLS)/bin/python -m ensurepip --default-pip >/dev/null \
		&& $(TOOLS)/bin/python -m pip install --quiet --disable-pip-version-check \
			--require-hashes -r requirements/uv.txt; }
	touch $(UV)

# What running needs (the lock's runtime part), and what the checks need besides (the dev extra).
RUN_STAMP := $(VENV)/.installed-run
DEV_STAMP := $(VENV)/.installed-dev
$(RUN_STAMP): pyproject.toml uv.lock $(UV)
	$(UV) sync --quiet --frozen --inexact --python $(PYTHON)
	touch $(RUN_STAMP)
$(DEV_STAMP): pyproject.toml uv.lock $(UV)
	$(UV) sync --quiet --frozen --extra dev --python $(PYTHON)
	touch $(DEV_STAMP) $(RUN_STAMP)

# axe-core (npm registry, pinned) for the widget's accessibility scan in the browser tests; not
# vendored: only the tests load it, into the page under test.
AXE_VERSION := 4.14.1
AXE := $(TOOLS)/axe/node_modules/axe-core/axe.min.js
axe: $(AXE)  ## axe-core for the widget's accessibility test (needs npm)
$(AXE):
	npm install --silent --no-save --no-package-lock --no-audit --no-fund --prefix $(TOOLS)/axe axe-core@$(AXE_VERSION)

# The compiled catalogs (.mo, not in git) the assistant reads; rebuilt when a .po changes.
# (A wheel or sdist build compiles them by itself: setup.py.)
CATALOGS := bot/locales/.compiled
$(CATALOGS): $(wildcard bot/locales/*/LC_MESSAGES/casebot.po) $(RUN_STAMP)
	$(BIN)/python scripts/i18n.py compile
	touch $(CATALOGS)

catalogs: $(CATALOGS)

i18n: $(DEV_STAMP)  ## extract every message into bot/locales/casebot.pot, update each locale's .po, compile
	$(BIN)/python scripts/i18n.py all
	touch $(CATALOGS)

run: $(RUN_STAMP) $(CATALOGS)  ## the assistant on its embedded default: SQLite under ./var, demo data, http://127.0.0.1:8080 (PORT=8081 for another port)
	$(BIN)/casebot serve --demo --host $(HOST) --port $(PORT)

chat: $(RUN_STAMP) $(CATALOGS)  ## the assistant in this terminal, with the demo data
	$(BIN)/casebot chat --demo

demo-code: $(RUN_STAMP)  ## the demo account's current authenticator code
	@$(BIN)/python -c "from datetime import datetime, UTC; from core.accounts.otp import totp; print(totp('JBSWY3DPEHPK3PXP', datetime.now(UTC)))"

demo: $(RUN_STAMP) $(CATALOGS)
	$(BIN)/casebot demo

lint: $(DEV_STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: $(DEV_STAMP)
	$(BIN)/mypy

test: lint typecheck $(CATALOGS)  ## every check: lint, types, and the whole test suite
	$(BIN)/pytest

# The property tests and fuzz targets (hypothesis, schemathesis), long: HYPOTHESIS_PROFILE=fuzz
# (tests/conftest.py, tests/fuzzing.py). FUZZ_EXAMPLES per property test, FUZZ_SCALE times the
# brief count for the targets that go through a server; hypothesis keeps what fails in
# .hypothesis/ and replays it first next time.
FUZZ_TESTS    = $(shell grep -rlE --include='test_*.py' '@given|RuleBasedStateMachine|schemathesis' tests)
FUZZ_EXAMPLES ?= 2000
FUZZ_SCALE    ?= 20
fuzz: $(DEV_STAMP) $(CATALOGS)  ## the fuzz targets and property tests with many more examples (tens of minutes)
	HYPOTHESIS_PROFILE=fuzz CASEBOT_FUZZ_EXAMPLES=$(FUZZ_EXAMPLES) CASEBOT_FUZZ_SCALE=$(FUZZ_SCALE) \
		$(BIN)/pytest $(FUZZ_TESTS) $(FUZZ_ARGS)

lock: $(UV)  ## refresh uv.lock to the newest versions pyproject.toml allows (a dependency change is a lock change)
	$(UV) lock --upgrade

# The suite on the newest versions pyproject.toml allows, not the locked ones, in a venv of its
# own: drift (a new Babel's CLDR data, say) is seen on purpose, not on a Monday morning.
test-latest: $(UV)  ## the whole suite on the newest allowed versions (may fail: that is what it is for)
	rm -rf .venv-latest
	$(UV) venv --quiet --python $(PYTHON) .venv-latest
	$(UV) pip install --quiet --python .venv-latest/bin/python --upgrade -e '.[dev]'
	.venv-latest/bin/python scripts/i18n.py compile
	.venv-latest/bin/pytest -p no:cacheprovider

wheel: $(UV)  ## the wheel and sdist users install (dist/), catalogs compiled in
	$(UV) build --out-dir dist

bench: $(DEV_STAMP) $(CATALOGS)  ## benchmarks of the core, the web chat, live agents and `serve --workers 1/2` on SQLite and PostgreSQL, into benchmarks/RESULTS.md (BENCH_ARGS=--quick)
	$(BIN)/python -m benchmarks.bench_core $(BENCH_ARGS)
	$(BIN)/python -m benchmarks.bench_telegram
	$(BIN)/python -m benchmarks.bench_engine $(BENCH_ARGS)
	$(BIN)/python -m benchmarks.bench_web $(BENCH_ARGS)
	$(BIN)/python -m benchmarks.bench_workers $(BENCH_ARGS)
	$(BIN)/python -m benchmarks.bench_import $(BENCH_ARGS)
	$(BIN)/python -m benchmarks.bench_understanding
	$(BIN)/python -m benchmarks.bench_proofs $(BENCH_ARGS)
	$(BIN)/python -m benchmarks.bench_uscis $(BENCH_ARGS)
	$(BIN)/python -m benchmarks.bench_sms
	$(BIN)/python -m benchmarks.bench_notify $(BENCH_ARGS)
	$(BIN)/python -m benchmarks.bench_flood
	$(BIN)/python -m benchmarks.bench_agents $(BENCH_ARGS)

# The peers benchmark compares casebot's Telegram path with the same flow on python-telegram-bot
# and on aiogram + aiogram-dialog. Those frameworks are no dependency of casebot's: they get an
# environment of their own (benchmarks/peers/.venv) from their own lock (benchmarks/peers/uv.lock).
# aiogram's storage is Redis at 127.0.0.1:6379 (redis-server; redis-cli reads its memory use).
PEERS_STAMP := benchmarks/peers/.venv/.installed
$(PEERS_STAMP): benchmarks/peers/pyproject.toml benchmarks/peers/uv.lock $(UV)
	UV_PROJECT_ENVIRONMENT=.venv $(UV) sync --quiet --frozen --project benchmarks/peers --python $(PYTHON)
	touch $(PEERS_STAMP)

bench-peers: $(DEV_STAMP) $(CATALOGS) $(PEERS_STAMP)  ## casebot's Telegram path beside python-telegram-bot and aiogram, into benchmarks/RESULTS.md (BENCH_ARGS=--quick)
	$(BIN)/python -m benchmarks.peers.harness $(BENCH_ARGS)

clean:
	rm -rf $(VENV) .venv-latest benchmarks/peers/.venv $(TOOLS) var dist build .pytest_cache .mypy_cache .ruff_cache test-artifacts
