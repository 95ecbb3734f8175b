# camtwin: the two entry points are `make demo` (install everything, build,
# run the demo street, then the demo experiment) and `make test` (install
# everything, build, run the tests).
# The build shares one profile and one target folder that survives between
# runs on the same machine, so dependencies (Bevy, tract, rapier) build once.

export CARGO_TARGET_DIR ?= $(HOME)/.cache/camtwin/target
export PATH := $(HOME)/.cargo/bin:$(PATH)
CARGO ?= cargo
OUT ?= out/demo

.PHONY: demo experiment test setup system models eval build lint fmt bench

demo: setup
	$(CARGO) run --locked --bin camtwin -- run scenarios/demo.toml --out $(OUT)
	$(CARGO) run --locked --bin camtwin -- experiment experiments/demo_street.toml --out out

# The demo experiment alone: out/demo_street/report.html.
experiment: setup
	$(CARGO) run --locked --bin camtwin -- experiment experiments/demo_street.toml --out out

test: setup
	$(CARGO) test --locked --workspace --lib --bins --tests

setup: system models eval build

system:
	bash scripts/setup-system.sh

models:
	bash scripts/fetch-models.sh
	bash scripts/fetch-face-model.sh

eval:
	bash scripts/setup-eval.sh

build:
	$(CARGO) build --locked --workspace --all-targets

lint:
	$(CARGO) fmt --all -- --check
	$(CARGO) clippy --locked --workspace --all-targets -- -D warnings

fmt:
	$(CARGO) fmt --all

bench: setup
	bash scripts/bench.sh
