# 丽水市职称评审工作流平台 — developer commands (GNU make).
#   make run    create/upgrade the database, load models and demo data, serve on $(HOST):$(PORT)
#   make test   install test dependencies (and Chromium) and run ruff + the whole pytest suite
#   make lint   ruff only
#   make bench  benchmarks (bench/)
#   make clean  caches and build artefacts (keeps .venv and instance/)

SHELL := /bin/bash
.DEFAULT_GOAL := help

# Prefer python3.11 when present, else python3 (must be 3.11).
PYTHON ?= $(shell command -v python3.11 2>/dev/null || echo python3)
VENV := .venv
BIN := $(VENV)/bin

HOST ?= 127.0.0.1
PORT ?= 5000
# `make run` is the demo environment: the clock may be set by administrators and timers
# sweep in-process every TIMER_INTERVAL seconds. Production (APP_ENV=production) never
# allows a clock override.
CLOCK_OVERRIDE ?= $(if $(filter production,$(APP_ENV)),0,1)
TIMER_INTERVAL ?= 30

# Pass TEST_DATABASE_URL through to pytest whether it comes from the environment or the
# command line (make test TEST_DATABASE_URL=postgresql+psycopg://...).
ifdef TEST_DATABASE_URL
export TEST_DATABASE_URL
endif

.PHONY: help run test lint bench clean distclean venv node-deps chromium

help:
	@echo "make run    启动演示环境（http://$(HOST):$(PORT)，演示密码 demo-pass-2026）"
	@echo "make test   安装测试依赖并运行 ruff 与全部测试（TEST_DATABASE_URL=postgresql+psycopg://... 则在 PostgreSQL 上运行）"
	@echo "make lint   仅运行 ruff"
	@echo "make bench  运行性能基准（bench/）"
	@echo "make clean  清理缓存与构建产物（保留 .venv 与 instance/）；make distclean 另删 .venv"

# --- environment -----------------------------------------------------------------------

$(BIN)/python:
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info[:2] == (3, 11) else 1)' || \
	  { echo "需要 Python 3.11（当前 $(PYTHON): $$($(PYTHON) --version 2>&1)）；可用 make PYTHON=/path/to/python3.11 指定" >&2; exit 1; }
	$(PYTHON) -m venv $(VENV)

venv: $(BIN)/python

# Reinstall only when pyproject.toml is newer than the stamp.
$(VENV)/.installed-run: pyproject.toml | $(BIN)/python
	$(BIN)/pip install -q -e .
	@touch $@

$(VENV)/.installed-test: pyproject.toml | $(BIN)/python
	$(BIN)/pip install -q -e ".[test]"
	@touch $@

# Browser-side dependencies, once there is a package.json.
node-deps:
	@if [ -f package.json ]; then \
	  if [ ! -d node_modules ] || [ package.json -nt node_modules ]; then \
	    npm install --no-audit --no-fund && touch node_modules; \
	  fi; \
	fi

# Browser tests drive Debian's Chromium (/usr/bin/chromium) through Playwright.
chromium:
	@if [ -x /usr/bin/chromium ]; then \
	  :; \
	elif [ "$$(id -u)" = 0 ]; then \
	  echo "安装 Chromium（浏览器测试需要 /usr/bin/chromium）…"; \
	  { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium; } || \
	    echo "警告：Chromium 安装失败；浏览器测试将被跳过。" >&2; \
	else \
	  echo "注意：没有 /usr/bin/chromium，且当前不是 root，无法自动安装（sudo apt-get install chromium）。浏览器测试将被跳过。" >&2; \
	fi

# --- commands --------------------------------------------------------------------------

run: $(VENV)/.installed-run node-deps
	HOST='$(HOST)' PORT='$(PORT)' CLOCK_OVERRIDE='$(CLOCK_OVERRIDE)' TIMER_INTERVAL='$(TIMER_INTERVAL)' \
	  $(BIN)/flask --app app run-server

test: $(VENV)/.installed-test chromium node-deps
	$(BIN)/ruff check .
	$(BIN)/pytest

lint: $(VENV)/.installed-test
	$(BIN)/ruff check .

bench: $(VENV)/.installed-run
	@if [ -f bench/__main__.py ]; then \
	  $(BIN)/python -m bench; \
	else \
	  echo "还没有性能基准（bench/__main__.py 不存在）。"; \
	fi

clean:
	rm -rf build dist *.egg-info .pytest_cache .ruff_cache test-artifacts
	find . -path ./$(VENV) -prune -o -path ./node_modules -prune -o -name __pycache__ -type d -print0 | xargs -0 rm -rf
	@echo "已清理缓存与构建产物；数据库与上传文件（instance/）未动。"

distclean: clean
	rm -rf $(VENV) node_modules
