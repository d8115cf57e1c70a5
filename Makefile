# Two commands on a fresh machine (see README): `make demo` and `make test`.
# Both create or refresh .venv on their own; re-running them is cheap.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
# verl 0.9 needs transformers < 5.11, the main stack has 5.25: verl gets its own environment.
VERL_VENV := .venv-verl
VERL_BIN := $(VERL_VENV)/bin
VERL_STAMP := $(VERL_VENV)/.installed

export HF_HUB_OFFLINE := 1
export TOKENIZERS_PARALLELISM := false

.PHONY: venv venv-verl browser demo test test-verl test-fast bench style quality clean

$(STAMP): pyproject.toml constraints.txt $(wildcard setup.py) $(wildcard src/srlkit/rewards/_csimilarity.c)
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	# torch 2.13.0 is pinned for the set-up: a CPU wheel of it is on this machine's disk.
	$(BIN)/python -m pip install -q "torch==2.13.0"
	# constraints.txt pins every package to the versions this commit was tested with.
	$(BIN)/python -m pip install -q -c constraints.txt -e ".[test]"
	touch $(STAMP)

venv: $(STAMP)

# srlkit with verl 0.9.1 (docs/verl.md): the same torch wheel, verl's transformers range.
$(VERL_STAMP): pyproject.toml constraints-verl.txt $(wildcard setup.py) $(wildcard src/srlkit/rewards/_csimilarity.c)
	test -x $(VERL_BIN)/python || $(PYTHON) -m venv $(VERL_VENV)
	$(VERL_BIN)/python -m pip install -q --upgrade pip
	$(VERL_BIN)/python -m pip install -q "torch==2.13.0"
	$(VERL_BIN)/python -m pip install -q -c constraints-verl.txt -e ".[test,verl]"
	touch $(VERL_STAMP)

venv-verl: $(VERL_STAMP)

# The browser tests (tests/report) drive Debian's chromium through Playwright (the `test` extra),
# so no browser is downloaded. Installed here when missing and apt-get is usable (root, or
# password-less sudo); otherwise those tests skip and say why. A no-op once chromium is there.
browser:
	@if [ ! -x /usr/bin/chromium ] && command -v apt-get >/dev/null 2>&1; then \
	  if [ "$$(id -u)" = 0 ]; then SUDO=""; elif sudo -n true 2>/dev/null; then SUDO="sudo -n"; \
	  else SUDO=skip; fi; \
	  if [ "$$SUDO" != skip ]; then \
	    ($$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq chromium) \
	      || echo "could not install chromium: the browser tests will be skipped"; \
	  else echo "apt-get needs root: the browser tests will be skipped (apt-get install chromium)"; fi; \
	fi

demo: $(STAMP)
	$(BIN)/srl demo

# The suite, then verl's own classes in .venv-verl (where a missing verl fails, never skips).
test: $(STAMP) browser test-verl
	$(BIN)/python -m pytest -q -m "not verl"

test-verl: $(VERL_STAMP)
	SRLKIT_REQUIRE_VERL=1 $(VERL_BIN)/python -m pytest -q -m verl tests/integrations/verl

test-fast: $(STAMP) browser
	$(BIN)/python -m pytest -q -m "not slow and not multiprocess and not verl"

style: $(STAMP)
	$(BIN)/ruff format src tests benchmarks

quality: $(STAMP)
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/ruff format --check src tests benchmarks

clean:
	rm -rf $(VENV) $(VERL_VENV) build dist src/*.egg-info
