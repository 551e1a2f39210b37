# Every target installs what it needs first (npm ci from the committed lock).
CONFIG ?= config.yaml
NPM ?= npm

# The Node.js every target runs on: the machine's own when it is 22 or newer,
# otherwise a pinned Node 24 unpacked from the npm registry into .node/
# (scripts/node-env.sh). RUNS_NODE_MAJOR=22 (or 24) asks for that major.
NODE_INFO := $(shell bash scripts/node-env.sh)
ifeq ($(NODE_INFO),)
$(error scripts/node-env.sh could not provide Node.js 22 or newer (see the message above))
endif
NODE_BIN := $(patsubst BIN=%,%,$(firstword $(NODE_INFO)))
NODE_WHY := $(patsubst WHY=%,%,$(wordlist 2,999,$(NODE_INFO)))
ifneq ($(NODE_BIN),)
export PATH := $(NODE_BIN):$(PATH)
export npm_config_nodedir := $(abspath $(NODE_BIN)/..)
endif
$(info $(NODE_WHY))

.PHONY: all install gen build run run-postgres test test-sqlite typecheck api-test integration-test integration-test-postgres build-testclient bench clean

all: build

node_modules/.installed: package.json package-lock.json
	$(NPM) ci --no-audit --no-fund
	@touch $@

install: node_modules/.installed

gen: install
	$(NPM) run gen

build: install
	$(NPM) run build

## run: serve on 8090 with SQLite (./runs.db); CONFIG=other.yaml to change
run: build
	$(NPM) start -- --config $(CONFIG)

run-postgres: build
	$(NPM) start -- --config config-postgres.yaml

## test: every test, PostgreSQL ones included (127.0.0.1:5432, user postgres)
test: gen
	$(NPM) test -- $(TEST_ARGS)

typecheck: gen
	$(NPM) run typecheck

clean:
	rm -rf dist gen runs.db runs.db-shm runs.db-wal bench/results

## api-test: the API tests (the whole service on a random port, generated clients, both databases)
api-test: gen
	$(NPM) test -- test/api

## integration-test: start the built service on a fresh SQLite file, run the seed README's 7-step client, stop it
integration-test: build
	bash scripts/integration.sh sqlite

## integration-test-postgres: the same on PostgreSQL (127.0.0.1:5432, database flyte_runs_integration, created if missing)
integration-test-postgres: build
	bash scripts/integration.sh postgres

## build-testclient: bundle the integration client into dist/testclient.js (run: node dist/testclient.js [ENDPOINT])
build-testclient: gen
	node scripts/build.mjs --entry test/client/integration.ts --out dist/testclient.js

## bench: CreateRun load and growth checks against baselines measured in the same run (bench/README.md);
## prints a table and writes bench/results/<timestamp>.json. Quick smoke run: make bench BENCH_QUICK=1
bench: build
	node bench/build.mjs
	node bench/.build/driver.js

## bench-watch: 100 and 1000 WatchRuns streams while CreateRun runs every 10 ms, vs a bare fan-out baseline
bench-watch: build
	node bench/build.mjs
	BENCH_ONLY=watch BENCH_PAIRS=$${BENCH_PAIRS:-1} node bench/.build/driver.js
