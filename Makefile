# clustersim: `make run` runs the main job on its defaults, `make test` runs the tests.
.PHONY: run test lint format bench venv clean

venv:
	@bash scripts/bootstrap.sh

run: venv
	.venv/bin/clustersim $(ARGS)

test: venv
	.venv/bin/python -m pytest $(PYTEST_ARGS)

lint: venv
	.venv/bin/ruff check .
	.venv/bin/ruff format --check .

format: venv
	.venv/bin/ruff format .
	.venv/bin/ruff check --fix .

bench: venv
	.venv/bin/python benchmarks/bench_model.py

clean:
	rm -rf .venv outputs multirun .pytest_cache .ruff_cache
