#!/usr/bin/env bash
# The test command of the README (and of CI): set up what is missing, then run the whole suite
# with one pytest-xdist worker per core, each test file on one worker (its module fixtures, such
# as a trained checkpoint or the docs' workspace, are built once).
#
#   bash tools/run_tests.sh [pytest options]       # e.g. -k flip; -n 0 runs in one process
#
#   MGPOSE_TEST_WORKERS   workers (default: the number of cores)
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
bash tools/install.sh
PY=${PYTHON:-python3}
# One OpenMP thread per process: tests start several processes (workers, gloo ranks, tools,
# demos) and torch's default of one thread per core oversubscribes a small machine badly
# (measured 2 s vs 13 s per training step of the tiny model on a busy 2-core box).
export OMP_NUM_THREADS=${OMP_NUM_THREADS:-1}
# Tests live in tests/ and are collected by name; an empty collection would be a broken checkout.
set +e
"$PY" -m pytest tests -q -p no:cacheprovider -n "${MGPOSE_TEST_WORKERS:-auto}" --dist loadfile "$@"
status=$?
set -e
if [ "$status" -eq 5 ]; then
  echo "no tests were collected from tests/: the checkout is broken" >&2
  exit 1
fi
exit "$status"
