#!/usr/bin/env bash
# Installs everything ducha needs on Debian, idempotently: system packages
# (only those missing), the venv at .venv and the pip packages.
set -euo pipefail
cd "$(dirname "$0")/.."

APT_PACKAGES=(
  libreoffice-writer-nogui        # docx -> PDF, headless
  tesseract-ocr tesseract-ocr-chi-sim tesseract-ocr-eng
  fonts-noto-cjk                  # 黑体 / 小标宋 substitutes
  texlive-lang-chinese            # FandolFang (仿宋)
  fonts-arphic-ukai               # 楷体
  poppler-utils                   # pdftoppm for looking at output
  postgresql                      # the PostgreSQL test run
  chromium                        # the web desk's browser tests (Playwright drives /usr/bin/chromium)
)

missing=()
for pkg in "${APT_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
done
if [ ${#missing[@]} -gt 0 ]; then
  SUDO=""
  [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  echo "安装系统软件包：${missing[*]}"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

PY=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
  "$PY" -m venv .venv
fi
stamp=.venv/.ducha-installed
if [ ! -f "$stamp" ] || [ pyproject.toml -nt "$stamp" ] || [ requirements.lock -nt "$stamp" ]; then
  # Exactly the locked versions, checked against their hashes: a new upstream
  # release cannot change what a fresh clone installs (`make lock` refreshes it).
  .venv/bin/pip install -q --require-hashes --no-deps -r requirements.lock
  .venv/bin/pip install -q --no-deps -e .
  touch "$stamp"
fi
