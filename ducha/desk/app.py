"""The desk application: ``create_app(workspace)``.

Every route is a thin shell over a ``ducha`` service; heavy work (scans,
documents) is queued as a ``Job`` for the worker process (``ducha.desk.jobs``).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

from fastapi import Depends, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from sqlalchemy.orm import sessionmaker
from starlette.exceptions import HTTPException as StarletteHTTPException

from ducha.desk import (
    routes_admin,
    routes_auth,
    routes_counties,
    routes_dashboard,
    routes_jobs,
    routes_notice,
    routes_upload,
)
from ducha.desk.deps import render, require_csrf
from ducha.desk.errors import DeskError, NotSignedIn
from ducha.desk.paths import STATIC_DIR
from ducha.errors import DuchaError
from ducha.workspace import Workspace

UPLOAD_LIMIT_MB = 200
LOG_DIR_NAME = "logs"
LOG_FILE_NAME = "desk.log"
HTTP_INTERNAL_ERROR = 500

_HTTP_MESSAGES = {
    404: "找不到这个页面",
    405: "不支持这种请求方式",
}


@dataclass(frozen=True)
class DeskSettings:
    upload_limit_bytes: int = UPLOAD_LIMIT_MB * 1024 * 1024


def desk_logger(workspace: Workspace) -> logging.Logger:
    """Tracebacks go here, never to the browser."""
    logger = logging.getLogger(f"ducha.desk.{workspace.root}")
    if not logger.handlers:
        folder = workspace.output_dir(LOG_DIR_NAME)
        handler = logging.FileHandler(folder / LOG_FILE_NAME, encoding="utf-8")
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(message)s"))
        logger.addHandler(handler)
        logger.setLevel(logging.INFO)
        logger.propagate = False
    return logger


def create_app(workspace: Workspace, settings: DeskSettings | None = None) -> FastAPI:
    app = FastAPI(title="督查工作台", docs_url=None, redoc_url=None, openapi_url=None,
                  dependencies=[Depends(require_csrf)])
    engine = workspace.engine()
    app.state.workspace = workspace
    app.state.engine = engine
    app.state.sessionmaker = sessionmaker(engine, expire_on_commit=False)
    app.state.workspace_key = workspace.key()
    app.state.settings = settings or DeskSettings()
    app.state.log = desk_logger(workspace)

    app.mount("/static", StaticFiles(directory=str(STATIC_DIR)), name="static")
    for module in (routes_auth, routes_dashboard, routes_upload, routes_counties, routes_jobs, routes_notice,
                   routes_admin):
        app.include_router(module.router)
    _include_review(app)
    _install_error_pages(app)
    return app


def _include_review(app: FastAPI) -> None:
    # The review grid is built alongside; the desk works without it until it lands.
    app.state.has_review = (Path(__file__).parent / "routes_review.py").exists()
    if app.state.has_review:
        from ducha.desk import routes_review

        app.include_router(routes_review.router)


def _wants_redirect(request: Request) -> bool:
    return request.method == "GET" and "text/html" in request.headers.get("accept", "") and not request.headers.get("HX-Request")


def _install_error_pages(app: FastAPI) -> None:
    @app.exception_handler(NotSignedIn)
    async def not_signed_in(request: Request, exc: NotSignedIn) -> Response:
        if _wants_redirect(request):
            return RedirectResponse("/login", status_code=303)
        response = render(request, "error.html", {"message": str(exc)}, status_code=exc.status)
        response.headers["HX-Redirect"] = "/login"
        return response

    @app.exception_handler(DeskError)
    async def desk_error(request: Request, exc: DeskError) -> Response:
        return render(request, "error.html", {"message": str(exc)}, status_code=exc.status)

    @app.exception_handler(DuchaError)
    async def ducha_error(request: Request, exc: DuchaError) -> Response:
        return render(request, "error.html", {"message": str(exc)}, status_code=400)

    @app.exception_handler(RequestValidationError)
    async def bad_request(request: Request, exc: RequestValidationError) -> Response:
        return render(request, "error.html", {"message": "请求的参数不正确"}, status_code=400)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> Response:
        message = _HTTP_MESSAGES.get(exc.status_code, "请求无法完成")
        return render(request, "error.html", {"message": message}, status_code=exc.status_code)

    @app.exception_handler(Exception)
    async def internal_error(request: Request, exc: Exception) -> Response:
        request.app.state.log.exception("内部错误：%s %s", request.method, request.url.path)
        return render(request, "error.html", {"message": "内部错误，已记入工作区 logs/desk.log，请联系维护人员"},
                      status_code=HTTP_INTERNAL_ERROR)
