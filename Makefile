SWIFT ?= swift
CONFIG ?= config/herald.yaml

.PHONY: setup build release run test lint format bench clean

setup:
	bash scripts/install-deps.sh

build: setup
	$(SWIFT) build

release: setup
	$(SWIFT) build -c release --product herald

# Sets up and runs the daemon on the example configuration (SQLite under ./var), beside the local outbox that
# every example notifier points at (see scripts/run-local.sh).
run: release
	CONFIG=$(CONFIG) bash scripts/run-local.sh

# Sets up and runs the whole test suite.
test: setup
	$(SWIFT) build --build-tests
	scripts/with-postgres.sh --optional $(SWIFT) test --skip-build

lint:
	$(SWIFT) format lint --strict --recursive Sources Tests Benchmarks Package.swift

format:
	$(SWIFT) format format --in-place --recursive Sources Tests Benchmarks Package.swift

# The end-to-end benchmark (release build): W1 and the latency run.
bench: setup
	$(SWIFT) build -c release --product herald
	$(SWIFT) build -c release --product herald-benchmark
	.build/release/herald-benchmark --herald .build/release/herald

clean:
	rm -rf .build var
