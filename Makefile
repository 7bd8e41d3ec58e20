# Two commands do all of the set-up: `make demo` and `make test`.
VENV := .venv
PY := $(VENV)/bin/python
export OMP_THREAD_LIMIT := 1

.PHONY: setup demo desk test lint typecheck bench clean lock

$(VENV)/.ducha-installed: pyproject.toml requirements.lock scripts/setup.sh
	bash scripts/setup.sh

setup: $(VENV)/.ducha-installed

demo: setup
	bash scripts/demo.sh

# The web desk on the demo workspace (made first if missing); prints a demo login.
desk: setup
	bash scripts/desk.sh

test: setup
	bash scripts/run_tests.sh

typecheck: setup
	$(VENV)/bin/mypy

lint: setup
	$(VENV)/bin/ruff check .

bench: setup
	$(PY) benchmarks/bench_sheets.py
	$(PY) benchmarks/bench_scan.py
	$(PY) benchmarks/bench_digit_fields.py
	$(PY) benchmarks/bench_empty_slots.py
	[ -d demo-output/ducha-data ] || bash scripts/demo.sh
	$(PY) benchmarks/bench_review.py

# Re-resolve every dependency to its newest allowed release, with hashes. Run on purpose,
# then `make test` before committing the new lock.
lock:
	python3 -m pip install -q uv
	python3 -m uv pip compile pyproject.toml --extra dev --generate-hashes --python-version 3.11 --no-header --upgrade -o requirements.lock

clean:
	rm -rf ducha-data demo-output .pytest_cache
