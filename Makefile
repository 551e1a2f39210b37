# Every target installs what it needs first (npm ci from the committed lock).
CONFIG ?= config.yaml
NPM ?= npm

.PHONY: all install gen build run run-postgres test test-sqlite typecheck api-test integration-test integration-test-postgres build-testclient bench clean

all: build

node_modules/.installed: package.json package-lock.json
	$(NPM) ci --no-audit --no-fund
	@touch $@

install: node_modules/.installed

gen: install
	node scripts/gen.mjs

build: install
	node scripts/build.mjs

## run: serve on 8090 with SQLite (./runs.db); CONFIG=other.yaml to change
run: build
	$(NPM) start -- --config $(CONFIG)

run-postgres: build
	$(NPM) start -- --config config-postgres.yaml

## test: every test, PostgreSQL ones included (127.0.0.1:5432, user postgres)
test: gen
	$(NPM) test -- $(TEST_ARGS)

typecheck: gen
	npx tsc --noEmit -p .

clean:
	rm -rf dist gen runs.db runs.db-shm runs.db-wal bench/results
