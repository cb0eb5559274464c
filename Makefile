# clustersim: `make run` runs the main job on its defaults, `make test` runs the tests.
.PHONY: run test lint format bench venv clean

venv:
	@bash scripts/bootstrap.sh

# The flagship experiment (configs/experiment/town_vs_metropolis.yaml) on its defaults; it
# resumes if interrupted and prints where the report is. ARGS go to clustersim-experiment run.
run: venv
	.venv/bin/clustersim-experiment run town_vs_metropolis $(ARGS)

test: venv
	.venv/bin/python -m pytest -n 2 --dist loadfile --no-loadscope-reorder $(PYTEST_ARGS)

lint: venv
	.venv/bin/ruff check .
	.venv/bin/ruff format --check .
	.venv/bin/lint-imports

format: venv
	.venv/bin/ruff format .
	.venv/bin/ruff check --fix .

bench: venv
	.venv/bin/python benchmarks/bench_model.py

clean:
	rm -rf .venv outputs multirun .pytest_cache .ruff_cache
