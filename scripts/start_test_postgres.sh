#!/usr/bin/env bash
# Starts a throwaway PostgreSQL cluster for the test run and prints its URL:
#   export DUCHA_TEST_PG_URL=$(scripts/start_test_postgres.sh)
# Data lives under /tmp and is wiped first; stop it with
#   scripts/start_test_postgres.sh --stop
set -euo pipefail

PORT="${DUCHA_TEST_PG_PORT:-54329}"
DATA_DIR="${DUCHA_TEST_PG_DIR:-/tmp/ducha-test-pg}"
LOG_FILE="$DATA_DIR.log"
PG_USER=postgres

bin_dir=""
for candidate in /usr/lib/postgresql/*/bin; do
  [ -x "$candidate/initdb" ] && bin_dir="$candidate"
done
if [ -z "$bin_dir" ]; then
  echo "找不到 PostgreSQL（initdb）。请先运行 scripts/setup.sh 安装 postgresql。" >&2
  exit 1
fi

# initdb refuses to run as root, so run the server as the postgres user then.
as_pg() {
  if [ "$(id -u)" -eq 0 ]; then
    su -s /bin/sh "$PG_USER" -c "$*"
  else
    sh -c "$*"
  fi
}

if [ -f "$DATA_DIR/postmaster.pid" ]; then
  as_pg "'$bin_dir/pg_ctl' -D '$DATA_DIR' -m immediate stop" >/dev/null 2>&1 || true
fi
if [ "${1:-}" = "--stop" ]; then
  exit 0
fi

rm -rf "$DATA_DIR" "$LOG_FILE"
mkdir -p "$DATA_DIR"
[ "$(id -u)" -eq 0 ] && chown "$PG_USER" "$DATA_DIR"
touch "$LOG_FILE"
[ "$(id -u)" -eq 0 ] && chown "$PG_USER" "$LOG_FILE"

as_pg "'$bin_dir/initdb' -D '$DATA_DIR' -U ducha --auth=trust --encoding=UTF8 --locale=C.UTF-8" >/dev/null
# Durability is pointless for a throwaway cluster and costs the test run time.
as_pg "'$bin_dir/pg_ctl' -D '$DATA_DIR' -l '$LOG_FILE' -w -o \"-p $PORT -k /tmp -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off\" start" >/dev/null
as_pg "'$bin_dir/createdb' -h 127.0.0.1 -p $PORT -U ducha ducha_test"

echo "postgresql+psycopg://ducha@127.0.0.1:$PORT/ducha_test"
