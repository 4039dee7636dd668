#!/usr/bin/env bash
# `make demo`: the whole pipeline (data -> SFT -> baseline -> RAFT -> final benchmark) on the
# embedded tiny model, on the CPU, with no download. Extra arguments go to `halo-forge demo`
# (e.g. `bash scripts/demo.sh --quick`); rerunning resumes the run in runs/demo.
set -euo pipefail

cd "$(dirname "$0")/.."
exec .venv/bin/halo-forge demo "$@"
