#!/usr/bin/env bash
# `make test`: the whole suite, with the storage tests also run against a
# throwaway local PostgreSQL cluster (stopped again on exit).
set -euo pipefail
cd "$(dirname "$0")/.."
export OMP_THREAD_LIMIT=1

if [ -z "${DUCHA_TEST_PG_URL:-}" ]; then
  # A port and a folder of this run's own: two `make test` runs on one machine
  # (two clones) must not stop each other's cluster.
  DUCHA_TEST_PG_PORT="${DUCHA_TEST_PG_PORT:-$(.venv/bin/python -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')}"
  DUCHA_TEST_PG_DIR="${DUCHA_TEST_PG_DIR:-$(mktemp -d /tmp/ducha-test-pg.XXXXXX)}"
  export DUCHA_TEST_PG_PORT DUCHA_TEST_PG_DIR
  if url=$(bash scripts/start_test_postgres.sh); then
    export DUCHA_TEST_PG_URL="$url"
    trap 'bash scripts/start_test_postgres.sh --stop; rm -rf "$DUCHA_TEST_PG_DIR" "$DUCHA_TEST_PG_DIR.log"' EXIT
  else
    echo "警告：无法启动测试用 PostgreSQL，PostgreSQL 部分的测试将跳过。" >&2
    [ "${CI:-}" != "true" ] || { echo "CI 中必须运行 PostgreSQL 测试。" >&2; exit 1; }
  fi
fi

.venv/bin/python -m pytest -q -n 2 --dist loadfile "$@"
