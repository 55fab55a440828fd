# Two commands for a fresh Debian/Ubuntu machine: `make demo` and `make test`.
# Everything else here is what those two need.

PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
PIP    := $(PY) -m pip
EDGE   := $(VENV)/bin/edge
export YOLO_OFFLINE := 1

# Debian packages: ffmpeg writes H.264, Mosquitto is the broker tests start (with certificates
# from openssl), GStreamer serves RTSP.
APT_PACKAGES := ffmpeg mosquitto mosquitto-clients openssl gstreamer1.0-tools python3-gi \
	gir1.2-gst-rtsp-server-1.0 gstreamer1.0-plugins-good gstreamer1.0-plugins-bad \
	gstreamer1.0-plugins-ugly gstreamer1.0-libav

.PHONY: setup system-packages demo test lint typecheck unit clean

setup: system-packages $(VENV)/.installed

system-packages:
	@missing=""; for p in $(APT_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -z "$$missing" ]; then exit 0; fi; \
	if [ "$$(id -u)" = 0 ]; then \
		echo "installing system packages:$$missing"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $$missing; \
	else \
		echo "missing system packages:$$missing (run as root, or: sudo apt-get install$$missing)" >&2; exit 1; \
	fi

# torch is pinned to the CPU-capable pair available on this machine's disk; a bare
# `ultralytics` install would otherwise pull the newest CUDA build (gigabytes).
$(VENV)/.installed: pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PIP) install -q --upgrade pip
	$(PIP) install -q torch==2.14.1 torchvision==0.29.1
	$(PIP) install -q -e '.[dev]'
	touch $@

# The sample clips through one worker per camera, an embedded broker and the aggregator,
# ending in the week's report, the alerts raised and the report chart (out/demo/).
demo: setup
	$(EDGE) config check configs/site.yaml
	$(EDGE) demo configs/site.yaml

lint: setup
	$(VENV)/bin/ruff check .

typecheck: setup
	$(VENV)/bin/mypy

unit: setup
	$(VENV)/bin/pytest -q

test: lint typecheck unit

clean:
	rm -rf $(VENV) out .pytest_cache .mypy_cache .ruff_cache
