# The two commands of the README: `make report` and `make test`.
# Each creates the virtual environment if missing, installs derive into it,
# installs a TeX engine from Debian packages when none is present (as root),
# then runs the job.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.derive-installed

.PHONY: report test benchmark tex clean

report: $(STAMP) tex
	$(PY) -m derive report $(ARGS)

test: $(STAMP) tex
	$(PY) -m pytest $(ARGS)

# The benchmark's JAX peers come with the `bench` extra, installed here on first use.
benchmark: $(STAMP)
	$(PY) -c "import jax" 2>/dev/null || $(PY) -m pip install --quiet -e '.[test,bench]'
	$(PY) benchmarks/chain_vs_autograd.py $(ARGS)

tex:
	@sh tools/ensure-tex.sh

$(STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet -e '.[test]'
	touch $(STAMP)

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache
	find output -mindepth 1 ! -name README.md -delete
