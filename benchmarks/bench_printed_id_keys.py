"""Damaged QR codes under many signing keys: is every page still identified by its printed ID?

Each workspace draws its own key, and the key decides the 16 MAC characters printed on every
sheet, so the characters OCR must read differ from workspace to workspace. The fault test
(``tests/test_scan_faults.py``) reads 16 damaged pages under one fixed key; this reads them under
``--keys`` fresh keys (a workspace printed again for each), and lists every page missed.

    .venv/bin/python benchmarks/bench_printed_id_keys.py [--keys 50] [--sheets 4] [--bilevel] [--workdir DIR]

Found by this, before the fix (2 of about 120 keys, 16 pages each): a MAC's 4 read as A in every
look, and a torn QR code read as "013257", which stopped the printed ID from being tried.
Exit status 1 when any page was missed or named a wrong village.
"""

from __future__ import annotations

import argparse
import os
import secrets
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("OMP_THREAD_LIMIT", "1")
REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
# The tests' planned workspace (sample registry, roster, round planned with the sample seed) and group.
sys.path.insert(0, str(REPO / "tests"))

import cv2
from bench_scan import RECORD_SHEET, ROUND
from conftest import fill_workspace, smallest_group
from sqlalchemy import select
from sqlalchemy.orm import Session

from ducha.cli import main as cli_main
from ducha.db.models import IssuedSheet
from ducha.scan import load_layouts
from ducha.simulate import _render
from ducha.workspace import KEY_FILE_NAME, copy_workspace, create
from forms.geometry import load_layout
from generator.qr_damage import QR_DAMAGES, damaged_qr_scan
from ocr.align import align
from ocr.pages import _decode_png, decode_jpeg
from ocr.reader import read_page


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--keys", type=int, default=50)
    parser.add_argument("--sheets", type=int, default=4, help="sheets a key (16 pages for 4)")
    parser.add_argument("--workdir", type=Path)
    parser.add_argument("--bilevel", action="store_true", help="1-bit PNG scans instead of gray and colour JPEG")
    args = parser.parse_args()
    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="bench-keys-"))
    base = create(workdir / "base")
    fill_workspace(base)
    group = smallest_group(base, ROUND)
    layouts = load_layouts()
    layout = load_layout(RECORD_SHEET, 1)
    missed: list[str] = []
    pages = 0
    started = time.monotonic()
    for k in range(args.keys):
        ws = copy_workspace(base, workdir / f"key-{k}")
        (ws.root / KEY_FILE_NAME).write_text(secrets.token_hex(32) + "\n", encoding="ascii")
        if cli_main(["--workspace", str(ws.root), "sheets", ROUND, "--group", str(group)]) != 0:
            raise SystemExit("印表失败")
        key = ws.key()
        with Session(ws.engine()) as session:
            sheets = list(session.scalars(select(IssuedSheet).order_by(IssuedSheet.form_id)))[: args.sheets]
        for n, sheet in enumerate(sheets):
            page = _render(sheet.pdf_path or "", sheet.pdf_pages[0])
            homography = align(cv2.cvtColor(page, cv2.COLOR_RGB2GRAY), layout).homography
            for m, kind in enumerate(QR_DAMAGES):
                data, dpi, mode = damaged_qr_scan(page, homography, layout, n, m, bilevel=args.bilevel)
                reading = read_page((_decode_png if args.bilevel else decode_jpeg)(data, 1), layouts, key)
                pages += 1
                village = sheet.form_id.split("-", 2)[2]
                if reading.rejected is not None or reading.village_code != village:
                    name = workdir / f"missed-key{k}-sheet{n}-{kind}-{int(dpi)}-{mode}.{'png' if args.bilevel else 'jpg'}"
                    name.write_bytes(data)
                    missed.append(f"密钥 {k}（{ws.root / KEY_FILE_NAME}）{sheet.form_id} {kind} {dpi:.0f} dpi {mode}："
                                  f"{reading.rejected or '村代码 ' + str(reading.village_code)}，图像 {name}")
        print(f"  密钥 {k + 1}/{args.keys}：累计 {pages} 页，未识别 {len(missed)}（{time.monotonic() - started:.0f} 秒）",
              flush=True)
    print(f"二维码损坏的页：{pages} 页（{args.keys} 把密钥，每把 {args.sheets} 张表 × {len(QR_DAMAGES)} 种损坏），"
          f"未由打印编号识别或归错村：{len(missed)}")
    for line in missed:
        print("  " + line)
    return 1 if missed else 0


if __name__ == "__main__":
    raise SystemExit(main())
