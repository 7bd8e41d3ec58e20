#!/usr/bin/env bash
# `make test`: the whole suite, with the storage tests also run against a
# throwaway local PostgreSQL cluster (stopped again on exit).
set -euo pipefail
cd "$(dirname "$0")/.."
export OMP_THREAD_LIMIT=1

if [ -z "${DUCHA_TEST_PG_URL:-}" ]; then
  if url=$(bash scripts/start_test_postgres.sh); then
    export DUCHA_TEST_PG_URL="$url"
    trap 'bash scripts/start_test_postgres.sh --stop' EXIT
  else
    echo "警告：无法启动测试用 PostgreSQL，PostgreSQL 部分的测试将跳过。" >&2
    [ "${CI:-}" != "true" ] || { echo "CI 中必须运行 PostgreSQL 测试。" >&2; exit 1; }
  fi
fi

.venv/bin/python -m pytest -q -n 2 --dist loadfile "$@"
