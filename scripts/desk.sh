#!/usr/bin/env bash
# `make desk`: the web desk on the demo workspace, with a demo admin login.
set -euo pipefail
cd "$(dirname "$0")/.."

DUCHA=".venv/bin/ducha"
WS="${DESK_WORKSPACE:-demo-output/ducha-data}"
HOST="${DESK_HOST:-127.0.0.1}"
PORT="${DESK_PORT:-8000}"
# Demo only: a real office creates its own users with `ducha user add` and a password of its own.
DEMO_USER="演示管理员"
DEMO_PASSWORD="ducha-demo-2015"

[ -f "$WS/workspace.json" ] || bash scripts/demo.sh
PASSWORD_NOTE=""
if ! $DUCHA --workspace "$WS" user list --json | grep -q "\"$DEMO_USER\""; then
  echo "$DEMO_PASSWORD" | $DUCHA --workspace "$WS" user add "$DEMO_USER" --role admin --password-stdin
else
  PASSWORD_NOTE="（账号早已建立；如密码改过，请用改过的密码）"
fi
echo
echo "== 督查工作台（演示） =="
echo "  地址：http://$HOST:$PORT/"
echo "  演示账号：$DEMO_USER"
echo "  演示密码：$DEMO_PASSWORD$PASSWORD_NOTE"
echo "  （仅供演示；正式使用请用 ducha user add 建立自己的账号）"
echo
exec $DUCHA --workspace "$WS" serve --host "$HOST" --port "$PORT"
