# The README's two commands are `make run` and `make test`; each sets up whatever is missing:
# the virtual environment from requirements.lock, the spaCy pipeline, the database and the model.
SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help
.DELETE_ON_ERROR:

# Rasa 3.6 runs on Python 3.8 to 3.10 only: use pyenv's 3.10, else any python3.10 on PATH.
PYENV_ROOT ?= $(shell pyenv root 2>/dev/null || echo $(HOME)/.pyenv)
PYTHON310 ?= $(or $(lastword $(sort $(wildcard $(PYENV_ROOT)/versions/3.10.*/bin/python3.10))),$(shell command -v python3.10 2>/dev/null))

VENV := .venv
PY := $(VENV)/bin/python
RASA := $(VENV)/bin/rasa
UV := $(VENV)/bin/uv
UV_VERSION := 0.13.9

# Patients' messages never leave the clinic's machines: no telemetry, no error reports.
export RASA_TELEMETRY_ENABLED := false
export TF_CPP_MIN_LOG_LEVEL := 2
export SQLALCHEMY_SILENCE_UBER_WARNING := 1
export PYTHONUNBUFFERED := 1

# `make train SPACY_BASE=en_core_web_md` builds the pipeline on that package if it is installed.
SPACY_BASE ?= blank
SPACY_PIPELINE := build/spacy/clinic_en
MODEL := models/current.tar.gz
# The project's quality floor for NLU on the held-out messages.
MIN_MACRO_F1 := 0.90
TRAIN_INPUTS := config.yml $(shell find domain data -name '*.yml' 2>/dev/null) $(SPACY_PIPELINE)/meta.json

.PHONY: help install run shell train test validate pytest conversation-tests nlu-eval evaluate bench \
        annotate-conversations channel-urls telegram-webhook cluster \
        lint format lock db handoffs purge staff-token clean system-packages FORCE

help: ## list the targets
	@grep -hE '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-18s %s\n", $$1, $$2}'

# ---------------------------------------------------------------- set-up
$(VENV)/.installed: requirements.lock pyproject.toml
	@if [ -z "$(PYTHON310)" ]; then \
	  echo "error: Python 3.10 not found. Rasa 3.6 needs Python 3.8-3.10." >&2; \
	  echo "  Looked in $(PYENV_ROOT)/versions/3.10.*/bin and for python3.10 on PATH." >&2; \
	  echo "  Install it (pyenv install 3.10, or your system's python3.10 and python3.10-venv)" >&2; \
	  echo "  or point to it: make $(MAKECMDGOALS) PYTHON310=/path/to/python3.10" >&2; \
	  exit 1; fi
	@if [ -x $(PY) ] && ! $(PY) -c 'import sys; sys.exit(sys.version_info[:2] != (3, 10))'; then \
	  echo "$(VENV) is not Python 3.10: recreating it"; rm -rf $(VENV); fi
	test -x $(PY) || $(PYTHON310) -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --disable-pip-version-check uv==$(UV_VERSION)
	$(UV) pip install --quiet --python $(PY) --require-hashes -r requirements.lock
	$(UV) pip install --quiet --python $(PY) --no-deps -e .
	$(RASA) telemetry disable >/dev/null
	touch $@

install: $(VENV)/.installed ## create .venv from requirements.lock

lock: ## re-resolve every dependency into requirements.lock
	$(UV) pip compile pyproject.toml --extra dev --python-version 3.10 --generate-hashes \
	  --quiet -o requirements.lock

# The base is a file whose content changes only when SPACY_BASE does, so switching rebuilds.
build/spacy/base.txt: FORCE
	@mkdir -p $(@D); echo "$(SPACY_BASE)" | cmp -s - $@ || echo "$(SPACY_BASE)" > $@

$(SPACY_PIPELINE)/meta.json: knowledge/vocabulary.yml clinic/language/build.py clinic/language/vocabulary.py build/spacy/base.txt | $(VENV)/.installed
	$(PY) -m clinic.language.build --vocabulary knowledge/vocabulary.yml --base $(SPACY_BASE) --out $(SPACY_PIPELINE)

system-packages: ## install the Debian packages the tests start (PostgreSQL, Redis, nginx, Chromium), if missing
	scripts/system_packages.sh

db: $(VENV)/.installed ## create or upgrade the clinic database (DATABASE_URL, default var/clinic.db)
	$(PY) -m clinic db upgrade

# ---------------------------------------------------------------- model
# Retrains only when the config, domain, training data or spaCy pipeline changed (file times);
# --force because Rasa's own cache cannot see a changed spaCy pipeline behind the same path.
$(MODEL): $(TRAIN_INPUTS) | $(VENV)/.installed
	$(RASA) train --config config.yml --domain domain --data data --out models \
	  --fixed-model-name current --force

train: $(MODEL) ## train the model if data or config changed

# ---------------------------------------------------------------- run
run: $(MODEL) db ## run Rasa (:5005), the action server (:5055); Ctrl-C stops all
	$(PY) -m stack

shell: $(MODEL) db ## talk to the assistant in this terminal
	$(PY) -m stack --shell

handoffs: db ## list conversations waiting for staff
	$(PY) -m clinic handoffs list

purge: db ## remove conversations and health records older than clinic.yml's retention (run daily)
	$(PY) -m clinic purge

staff-token: db ## issue a staff API token: make staff-token NAME="Jo Reilly"
	@test -n "$(NAME)" || { echo 'usage: make staff-token NAME="Jo Reilly"' >&2; exit 2; }
	$(PY) -m clinic staff add "$(NAME)"

channel-urls: $(VENV)/.installed ## print the webhook URLs to paste into the Twilio and Meta consoles
	$(PY) -m gateway.setup urls

telegram-webhook: $(VENV)/.installed ## register the Telegram webhook with its secret token
	$(PY) -m gateway.setup telegram

# ---------------------------------------------------------------- tests
validate: $(VENV)/.installed ## rasa data validate, failing on warnings
	$(RASA) data validate --config config.yml --domain domain --data data --fail-on-warnings

pytest: $(MODEL) db system-packages ## the Python tests (core, actions, safety over all responses, REST)
	$(PY) -m pytest

CONVERSATION_TESTS = $(RASA) test core --model $(MODEL) --stories tests --e2e \
	  --out results/conversations --no-plot

conversation-tests: $(MODEL) ## the conversation tests in tests/test_*.yml
	$(CONVERSATION_TESTS) --fail-on-prediction-errors

annotate-conversations: $(SPACY_PIPELINE)/meta.json ## mark vocabulary entities in the conversation tests
	$(PY) scripts/annotate_conversations.py

nlu-eval: $(MODEL) ## NLU on the held-out file: per-intent F1, fails below the macro-F1 floor
	$(PY) scripts/evaluate_nlu.py --model $(MODEL) --data tests/nlu/holdout.yml \
	  --out results/nlu --min-macro-f1 $(MIN_MACRO_F1)

test: validate pytest conversation-tests nlu-eval ## every test, from a fresh clone
	@echo "make test: all passed"

cluster: $(MODEL) system-packages ## the production profile: PostgreSQL, Redis, 2 of each process behind nginx
	$(PY) -m stack.cluster --instances $(INSTANCES)

INSTANCES ?= 2

# Trains both assistants from scratch (about 6 minutes) unless BENCH_ARGS=--skip-training.
BENCH_ARGS ?=
bench: $(MODEL) db ## speed and memory of every path, against the stock `rasa init` assistant
	$(PY) -m bench $(BENCH_ARGS)

# Every part runs and is reported even when an earlier one misses its floor; then it fails.
evaluate: $(MODEL) ## quality report in results/summary.md; fails below the project's floors
	$(CONVERSATION_TESTS)
	$(PY) scripts/evaluate_nlu.py --model $(MODEL) --data tests/nlu/holdout.yml \
	  --out results/nlu --min-macro-f1 0
	$(PY) scripts/evaluate.py --results results --min-macro-f1 $(MIN_MACRO_F1)

lint: $(VENV)/.installed ## ruff
	$(VENV)/bin/ruff check clinic clinic_nlu clinic_channel actions gateway scripts stack bench tests
	$(VENV)/bin/ruff format --check clinic clinic_nlu clinic_channel actions gateway scripts stack bench tests

format: $(VENV)/.installed
	$(VENV)/bin/ruff check --fix clinic clinic_nlu clinic_channel actions gateway scripts stack bench tests
	$(VENV)/bin/ruff format clinic clinic_nlu clinic_channel actions gateway scripts stack bench tests

clean: ## remove everything make built (keeps .venv)
	rm -rf build models results .rasa var/*.db

FORCE:
