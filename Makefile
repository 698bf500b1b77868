# Set-up and everyday commands. `make demo` and `make test` install first when needed.
PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed
# Every distribution of the repo (the core, plugins/*, pynomaly-*), installed editable from its local path in one
# resolver call — never from the index: the PyPI name "pynomaly" belongs to an unrelated project.
PLUGIN_PROJECTS := $(wildcard plugins/*/pyproject.toml pynomaly-*/pyproject.toml)
DISTS  := -e ".[dev]" $(foreach p,$(PLUGIN_PROJECTS),-e $(dir $(p)))
SOURCES := pyproject.toml constraints.txt Makefile $(PLUGIN_PROJECTS)
# Reference implementations the time-series metric tests compare against (Tatbul et al.'s prts, TSB-AD's VUS). Both
# are pure Python and pin numpy<2 and a deep-learning stack they do not need for these functions: without their
# dependencies (--no-deps) they import and run beside NumPy 2.
REFERENCE_PKGS := prts==1.0.0.3 TSB-AD==1.5

.PHONY: install browser demo test lint bench clean

install: $(STAMP) browser

# Headless chromium for the web-UI test of pynomaly-server: Debian's package (Playwright cannot download browsers
# here), installed only when it is missing and apt-get exists; without it that one test is skipped.
browser:
	@if [ ! -x /usr/bin/chromium ] && command -v apt-get >/dev/null 2>&1; then \
		(apt-get update -q && apt-get install -y -q chromium) || \
		echo "warning: could not install chromium; the browser test of pynomaly-server will be skipped"; \
	fi

$(STAMP): $(SOURCES)
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -c constraints.txt $(DISTS)
	$(PY) -m pip install --quiet --no-deps $(REFERENCE_PKGS)
	touch $(STAMP)

demo: install
	mkdir -p demo-output
	$(VENV)/bin/pynomaly plugins list
	$(VENV)/bin/pynomaly detect examples/data/cardio.npz --detector ecod --top 5 --output demo-output/cardio-ecod.csv
	$(VENV)/bin/pynomaly detect examples/data/sensors.csv --labels label --detector hbos --top 5 \
		--output demo-output/sensors-hbos.json
	$(VENV)/bin/pynomaly train examples/data/sensors.csv --columns $(SENSOR_COLUMNS) --detector mahalanobis \
		--output demo-output/sensors-model --overwrite
	$(VENV)/bin/pynomaly score demo-output/sensors-model examples/data/sensors.csv --columns $(SENSOR_COLUMNS) \
		--labels label --top 3

SENSOR_COLUMNS := temperature,pressure,vibration,current,humidity

test: install
	$(PY) -m pytest -q

lint: install
	$(VENV)/bin/ruff check .

bench: install
	$(PY) benchmarks/bench_builtin.py
	$(PY) benchmarks/bench_cold_start.py

clean:
	rm -rf $(VENV) demo-output .pytest_cache .ruff_cache
