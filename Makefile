# Everything a bare Debian 12 machine needs is installed or built by these
# targets, idempotently; the second run is quick.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
DEBS := mosquitto mosquitto-clients rabbitmq-server openssl build-essential libffi-dev pkg-config libmbedtls-dev quilt dpkg-dev gcc-multilib

.PHONY: all deps venv micropython vendor setup test demo bench soak clean

all: test

deps:
	@sh scripts/ensure-debs.sh $(DEBS)

$(VENV)/.installed: requirements.txt pyproject.toml
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	@$(PY) -m pip install -q --disable-pip-version-check -r requirements.txt
	@$(PY) -m pip install -q --disable-pip-version-check --no-deps -e .
	@touch $@

venv: $(VENV)/.installed

# Builds the unix port once (cached outside the checkout); prints its path last.
micropython: deps
	@sh scripts/build-micropython.sh

vendor: venv
	@$(PY) -m host_tools vendor >/dev/null

setup: deps venv vendor
	@sh scripts/build-micropython.sh >/dev/null
	@sh scripts/build-micropython.sh esp32model >/dev/null
	@sh scripts/build-micropython.sh esp32model-frozen >/dev/null

test: setup
	$(PY) -m pytest -q tests

demo: setup
	$(PY) -m host_tools demo

bench: setup
	@$(PY) -m host_tools bench

# A week of virtual time with faults, under both builds (tests/soak); SEED=n for another draw.
SEED ?= 1
soak: setup
	@$(PY) -m tests.soak.run --days 7 --seed $(SEED)

clean:
	rm -rf build $(VENV) .pytest_cache
