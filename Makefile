# Two commands do all the set-up on a fresh machine (see README.md):
#   make demo   — install into .venv and run the main job on the bundled example release
#   make test   — install into .venv and run ruff, mypy, the import-linter contracts and pytest
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
# torch is pinned here (not in pyproject) so the install takes the CPU wheel on this machine's
# disk; users keep the loose range of pyproject.toml.
TORCH  ?= torch==2.13.0

.PHONY: venv demo test lint unit bench clean llama fuzz

$(BIN)/gates: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q "$(TORCH)" -e ".[dev]"
	touch $@

venv: $(BIN)/gates

# llama.cpp through llama-cpp-python: the independent GGUF consumer the tests run. It compiles
# llama.cpp (~7 min on 2 cores), so the wheel is built once into a cache and reused; portable
# CPU flags keep the cached wheel valid on another machine of the same architecture.
WHEELS ?= $(HOME)/.cache/albor-gates/wheels
LLAMA  ?= llama-cpp-python==0.3.36
$(VENV)/.llama: $(BIN)/gates
	mkdir -p $(WHEELS)
	ls $(WHEELS)/llama_cpp_python-*.whl >/dev/null 2>&1 || \
	  CMAKE_ARGS="-DGGML_NATIVE=OFF" CMAKE_BUILD_PARALLEL_LEVEL=2 \
	  $(BIN)/python -m pip wheel -q --no-deps "$(LLAMA)" -w $(WHEELS)
	$(BIN)/python -m pip install -q --find-links $(WHEELS) "$(LLAMA)"
	touch $@

llama: $(VENV)/.llama

demo: venv
	@# exit 1 is a NO-GO verdict, a completed run; 2 and above are errors.
	$(BIN)/gates dogfood --force -o dogfood-demo; rc=$$?; [ $$rc -le 1 ] || exit $$rc

lint: venv
	$(BIN)/ruff check albor_gates tests benchmarks examples
	$(BIN)/ruff format --check albor_gates tests benchmarks examples
	$(BIN)/mypy
	$(BIN)/lint-imports

unit: venv llama
	$(BIN)/python -m pytest -q

test: lint unit

bench: venv
	$(BIN)/python benchmarks/run_all.py

# Mutation fuzzing of specs, evidence, safetensors and GGUF headers (issue 11); not in `make
# test`: 10^5 inputs take ~10 minutes on 2 cores. FUZZ_COUNT=N for a shorter or longer run.
FUZZ_COUNT ?= 100000
fuzz: venv
	$(BIN)/python tests/fuzz/fuzz_gates.py --count $(FUZZ_COUNT)

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache .hypothesis
