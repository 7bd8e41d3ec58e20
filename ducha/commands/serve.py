"""``ducha serve``: the web desk (督查工作台) for the office network."""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
from typing import Any

from ducha.cli_helpers import console, workspace_of

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8000
WORKER_STOP_SECONDS = 10


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser("serve", help="启动督查工作台（网页），供本机或办公室局域网使用")
    parser.add_argument("--host", default=DEFAULT_HOST,
                        help=f"监听地址（默认 {DEFAULT_HOST} 只允许本机访问；局域网使用填 0.0.0.0）")
    parser.add_argument("--port", type=int, default=DEFAULT_PORT, help=f"端口（默认 {DEFAULT_PORT}）")
    parser.add_argument("--upload-limit-mb", type=float, help="单个上传文件的大小上限（MB，默认 200）")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    import uvicorn

    from ducha.db.migrate import upgrade_to_head
    from ducha.desk.app import DeskSettings, create_app

    workspace = workspace_of(args)
    upgrade_to_head(workspace.db_url)
    settings = DeskSettings()
    if args.upload_limit_mb is not None:
        settings = DeskSettings(upload_limit_bytes=int(args.upload_limit_mb * 1024 * 1024))
    app = create_app(workspace, settings)
    worker = subprocess.Popen([
        sys.executable, "-m", "ducha.desk.jobs", "--workspace", str(workspace.root), "--db", workspace.db_url,
        "--parent-pid", str(os.getpid()),
    ])
    shown = "本机" if args.host == DEFAULT_HOST else args.host
    console().print(f"督查工作台已启动：http://{args.host}:{args.port}/ （{shown}；按 Ctrl+C 停止）")
    try:
        uvicorn.run(app, host=args.host, port=args.port, log_level="warning", access_log=False)
    finally:
        worker.terminate()
        try:
            worker.wait(WORKER_STOP_SECONDS)
        except subprocess.TimeoutExpired:
            worker.kill()
            worker.wait()
    return 0
