# Two commands do all the set-up on a fresh machine:
#   make demo   - runs the main job (writes everything into out/)
#   make test   - runs the test suite
# Both create .venv (standard venv module) when missing, install the package with
# its dev extras, and install the Debian packages the project needs when run as root.

PYTHON ?= python3
VENV   ?= .venv
PY      = $(VENV)/bin/python
OUT    ?= out
# Debian packages: "<command>:<package>" pairs; installed when the command is missing.
DEB_DEPS = dot:graphviz chromium:chromium chromedriver:chromium-driver

.PHONY: demo test test-fast test-latest lint bench docs strip reproduce sysdeps venv clean

# The environment is the lock file's (the exact versions the stored reproduction results were
# made with), then the package itself without resolving dependencies again.
$(VENV)/.installed: pyproject.toml requirements.lock
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements.lock
	$(PY) -m pip install --quiet --no-deps -e .
	@touch $@

venv: $(VENV)/.installed

sysdeps:
	@missing=""; for pair in $(DEB_DEPS); do cmd=$${pair%%:*}; pkg=$${pair##*:}; \
	  command -v $$cmd >/dev/null 2>&1 || missing="$$missing $$pkg"; done; \
	if [ -n "$$missing" ]; then \
	  if [ "$$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then \
	    echo "installing Debian packages:$$missing"; \
	    DEBIAN_FRONTEND=noninteractive apt-get update -qq && \
	    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing >/dev/null; \
	  else \
	    echo "warning: Debian packages missing:$$missing (install them with apt-get as root); features that need them will be skipped" >&2; \
	  fi; \
	fi

demo: venv sysdeps
	$(VENV)/bin/smesurvey demo --out $(OUT)

# lint first, then the fast tests, then the slow ones (recovery studies, notebooks, reproduction),
# so that a failure shows early
test: venv sysdeps
	$(VENV)/bin/ruff check .
	$(PY) -m pytest -m "not slow"
	$(PY) -m pytest -m slow

# the same tests against the newest releases of every dependency (in .venv-latest)
test-latest: sysdeps
	@test -x .venv-latest/bin/python || $(PYTHON) -m venv .venv-latest
	.venv-latest/bin/python -m pip install --quiet --upgrade pip
	.venv-latest/bin/python -m pip install --quiet --upgrade --upgrade-strategy eager -e '.[dev]'
	.venv-latest/bin/python -m pytest

test-fast: venv sysdeps
	$(PY) -m pytest -m "not slow"

lint: venv
	$(VENV)/bin/ruff check .

bench: venv sysdeps
	$(PY) -m benchmarks

# executed notebooks as HTML (full-size parameters) in $(OUT)/docs
docs: venv sysdeps
	$(PY) tools/notebooks.py docs $(OUT)/docs

# remove outputs from the notebooks before committing
strip: venv
	$(PY) tools/notebooks.py strip

# exact reproduction: the pinned environment (requirements.lock, as every target uses), then smesurvey reproduce
reproduce: venv sysdeps
	$(VENV)/bin/smesurvey reproduce --out $(OUT)/reproduce

clean:
	rm -rf $(OUT) .pytest_cache build *.egg-info .venv-latest
