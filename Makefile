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

.PHONY: demo test test-fast lint bench docs strip reproduce sysdeps venv clean

$(VENV)/.installed: pyproject.toml
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
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

test: venv sysdeps
	$(PY) -m pytest

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

# exact reproduction: the pinned environment (requirements.lock) in .venv-lock, then smesurvey reproduce
reproduce: sysdeps
	@test -x .venv-lock/bin/python || $(PYTHON) -m venv .venv-lock
	.venv-lock/bin/python -m pip install --quiet -r requirements.lock
	.venv-lock/bin/python -m pip install --quiet --no-deps -e .
	.venv-lock/bin/smesurvey reproduce --out $(OUT)/reproduce

clean:
	rm -rf $(OUT) .pytest_cache build *.egg-info .venv-lock
