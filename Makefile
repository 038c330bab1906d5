# Entry points. `make test` installs what it needs (venv, Docker engine, images) and runs everything.
SHELL := /bin/bash
VENV ?= $(CURDIR)/.venv
export PATH := $(VENV)/bin:$(PATH)
export ANSIBLE_CONFIG := $(CURDIR)/ansible.cfg
SCENARIO ?=
BENCH ?=

.PHONY: test setup venv engine images compose-plugins prom-tools lint sanity unit integration molecule build docs bench demo demo-destroy clean

test:                 ## everything CI runs: setup, lint, sanity, unit, integration, molecule, build
	@bash scripts/run-tests.sh

setup: venv engine images   ## install tools, start a Docker engine, build test images

venv:
	@bash scripts/setup-venv.sh

engine:
	@bash scripts/setup-docker-engine.sh

images: engine
	@bash scripts/build-test-images.sh

compose-plugins:      ## the extra Compose releases the compose tests also run against (sid's 2.40.3), into .cache/compose
	@bash scripts/setup-compose-plugins.sh

prom-tools:           ## promtool and amtool (Debian sid's, Prometheus 3.x) into .cache/tools/bin, for the rule tests
	@bash scripts/setup-prom-tools.sh

lint: venv            ## ansible-lint (production), yamllint, ruff, argument_specs vs defaults, docs/plugins up to date
	yamllint -s .
	ruff check .
	ansible-lint --profile production
	python scripts/check_argument_specs.py
	@bash scripts/module-docs.sh --check

sanity: venv          ## ansible-test sanity on a copy laid out as ansible_collections/aistack/selfhosted
	@bash scripts/sanity.sh

unit: venv prom-tools ## pytest for modules, module_utils, filters, and the alert rules (promtool test rules)
	pytest tests/unit

integration: venv engine images compose-plugins   ## modules against real servers (compose tests on each Compose release)
	pytest tests/integration

molecule: venv engine images      ## all Molecule scenarios, or one with SCENARIO=name
	@bash scripts/molecule.sh $(SCENARIO)

build: venv           ## build the collection tarball and check it installs and resolves by FQCN
	@bash scripts/build-collection.sh

docs: venv            ## render docs/plugins/ (module and filter reference) from the plugins' documentation
	@bash scripts/module-docs.sh

bench: venv engine images   ## benchmarks (not part of `make test`); BENCH=converge for one
	@bash scripts/bench.sh $(BENCH)

demo: venv engine images   ## a disposable local inference host (site.yml -l inference), then its URL and login
	@bash scripts/demo.sh

demo-destroy:         ## remove the demo host and its data
	docker rm -f -v aistack-demo

clean:
	rm -rf .build tests/output *.tar.gz
