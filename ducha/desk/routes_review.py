"""The review grid and the conflict screen: thin shells over ``ducha.review``.

A group member's scope is fixed here from the signed-in user, and the
service refuses any item outside it, so editing an item id in a URL shows
nothing of another group's villages. Images are served only for items
the user may see, from paths stored in the database, never from the URL.
"""

from __future__ import annotations

import time
from typing import Annotated, Any

from fastapi import APIRouter, Form, Path, Request
from fastapi.responses import FileResponse, JSONResponse, RedirectResponse, Response

from ducha import review
from ducha.desk.audit import audit
from ducha.desk.auth import CurrentUser
from ducha.desk.deps import Changer, DbSession, render
from ducha.desk.errors import Forbidden, NotFound
from ducha.review import KIND_LABELS, KINDS, ReviewScope
from forms.form_spec import described_group
from forms.record_sheet import INDICATORS_BY_KEY
from forms.values import display_value

router = APIRouter()

HTTP_FORBIDDEN = 403
HTTP_NOT_FOUND = 404
HTTP_CONFLICT = 409
HTTP_UNPROCESSABLE = 422
# The grid's images change only when the scan is redone; a reviewer moving back and forth reloads none.
IMAGE_MAX_AGE_S = 3600
ROUND_PATTERN = r"^\d{4}-\d{2}$"
CONFLICT_KIND = "conflict"
EMPTY_BOX = "□"
RoundId = Annotated[str, Path(pattern=ROUND_PATTERN)]
# The review grid's value keys (review.js reads them from each card): key -> the value as a person writes it.
TICK_KEYS = {"1": "是", "2": "否", "0": "未填"}
RECTIFICATION_KEYS = {"1": "已整改", "2": "未整改", "0": "未填"}
SIGNATURE_KEYS = {"s": "已签", "e": "未签"}
AMOUNT_BLANK_KEY = "-"  # an amount left empty on paper; digits and "." are typed as they are


def value_keys(item: review.QueueItem) -> dict[str, str] | None:
    """The keys that set this item's value; None for an amount (typed) or a whole page (Enter only)."""
    if item.kind == "tick":
        return RECTIFICATION_KEYS if item.field_key.startswith("rect_") else TICK_KEYS
    if item.kind == "signature":
        return SIGNATURE_KEYS
    if item.kind == "choice":
        return choice_keys(item.field_key)
    return None


def choice_keys(field_key: str) -> dict[str, str] | None:
    """1, 2, 3 … for a choice group's boxes in their printed order, 0 for none ticked."""
    found = described_group(field_key)
    if found is None:
        return None
    keys = {str(n): choice.label for n, choice in enumerate(found[1].column.choices, start=1)}
    keys["0"] = "未填"
    return keys


def scope_of(user: CurrentUser, round_id: str | None = None) -> ReviewScope:
    if user.role == "admin":
        return ReviewScope(round_id, None)
    if user.role == "group" and user.group_no is not None:
        return ReviewScope(round_id, user.group_no)
    raise Forbidden("您的账号没有复核权限")


def _status_of(error: review.ReviewError) -> int:
    if isinstance(error, review.ReviewForbiddenError):
        return HTTP_FORBIDDEN
    if isinstance(error, review.ReviewItemNotFoundError):
        return HTTP_NOT_FOUND
    if isinstance(error, (review.ReviewStaleError, review.NothingToUndoError)):
        return HTTP_CONFLICT
    return HTTP_UNPROCESSABLE


def _refused(error: review.ReviewError) -> JSONResponse:
    return JSONResponse({"ok": False, "error": str(error)}, status_code=_status_of(error))


def _for_image(error: review.ReviewError) -> Exception:
    if isinstance(error, review.ReviewForbiddenError):
        return Forbidden(str(error))
    return NotFound(str(error))


def _timed(response: Response, started: float) -> Response:
    response.headers["Server-Timing"] = f"app;dur={(time.perf_counter() - started) * 1000:.1f}"
    return response


def _question(item: review.QueueItem, round_id: str) -> str | None:
    indicator = INDICATORS_BY_KEY.get(item.field_key)
    return indicator.text.replace("{year}", round_id[:4]) if indicator else None


def _reason(item: review.QueueItem) -> str:
    # The reader writes an empty comb box as "_"; a clerk reads an empty box better as one.
    return item.reason.replace("_", EMPTY_BOX) if item.kind == "amount" else item.reason


def _tabs(session: DbSession, scope: ReviewScope) -> list[dict[str, Any]]:
    counts = review.queue_counts(session, scope)
    tabs = [{"kind": kind, "label": KIND_LABELS[kind], "count": counts[kind]} for kind in KINDS]
    tabs.append({"kind": CONFLICT_KIND, "label": review.CONFLICT_LABEL, "count": counts[CONFLICT_KIND]})
    return tabs


@router.get("/review/{round_id}")
def review_home(round_id: RoundId, session: DbSession, user: Changer) -> Response:
    counts = review.queue_counts(session, scope_of(user, round_id))
    first = next((kind for kind in (*KINDS, CONFLICT_KIND) if counts[kind]), KINDS[0])
    return RedirectResponse(f"/review/{round_id}/{first}", status_code=303)


@router.get("/review/{round_id}/{kind}")
def review_grid(request: Request, round_id: RoundId, kind: str, session: DbSession, user: Changer) -> Response:
    if kind not in (*KINDS, CONFLICT_KIND):
        raise NotFound("没有这一类复核项目")
    scope = scope_of(user, round_id)
    conflicts = kind == CONFLICT_KIND
    items = review.review_queue(session, scope, None if conflicts else kind, conflicts=conflicts)  # type: ignore[arg-type]
    cards = []
    for item in items:
        card: dict[str, Any] = {"item": item, "question": _question(item, round_id), "reason": _reason(item),
                                "value_keys": value_keys(item)}
        if conflicts:
            card["conflict"] = review.conflict_view(session, item.id, scope)
        cards.append(card)
    return render(request, "conflict.html" if conflicts else "review.html", {
        "round_id": round_id,
        "kind": kind,
        "kind_label": review.CONFLICT_LABEL if conflicts else KIND_LABELS[kind],
        "tabs": _tabs(session, scope),
        "cards": cards,
        "scope": scope,
        "blank_key": AMOUNT_BLANK_KEY,
    })


@router.post("/review/item/{item_id}/settle")
def settle(item_id: int, value: Annotated[str, Form(max_length=40)], session: DbSession, user: Changer) -> Response:
    started = time.perf_counter()
    try:
        done = review.settle(session, item_id, value, user.name, scope_of(user))
    except review.ReviewError as error:
        session.rollback()
        return _timed(_refused(error), started)
    audit(session, user, review.AUDIT_SETTLE, done.target, review.audit_label(done.before),
          review.audit_label(done.after))
    session.commit()
    return _timed(JSONResponse({
        "ok": True,
        "item_id": done.item_id,
        "value": done.after,
        "label": display_value(done.after),
        "page_recorded": done.page_recorded,
    }), started)


@router.post("/review/{round_id}/undo")
def undo(round_id: RoundId, session: DbSession, user: Changer) -> Response:
    started = time.perf_counter()
    try:
        done = review.undo_last(session, user.name, scope_of(user, round_id))
    except review.ReviewError as error:
        session.rollback()
        return _timed(_refused(error), started)
    audit(session, user, review.AUDIT_UNDO, done.target, review.audit_label(done.before),
          review.audit_label(done.after))
    session.commit()
    item = review.queue_item(session, done.item_id, scope_of(user, round_id))
    return _timed(JSONResponse({
        "ok": True,
        "item_id": done.item_id,
        "kind": CONFLICT_KIND if item.conflict else item.kind,
        "kind_label": review.CONFLICT_LABEL if item.conflict else KIND_LABELS[item.kind],
        "before": done.before,
        "before_label": display_value(done.before),
        "target": f"{item.place} {item.field_label}",
    }), started)


@router.get("/review/item/{item_id}/crop.jpg")
def crop_image(request: Request, item_id: int, session: DbSession, user: Changer) -> Response:
    try:
        item = review.queue_item(session, item_id, scope_of(user))
    except review.ReviewError as error:
        raise _for_image(error) from error
    path = review.crop_file(request.app.state.workspace.root, item)
    if path is None:
        raise NotFound("此项没有证据图像")
    return FileResponse(path, media_type="image/jpeg", headers={"Cache-Control": f"private, max-age={IMAGE_MAX_AGE_S}"})


@router.get("/review/item/{item_id}/page")
def page_view(request: Request, item_id: int, session: DbSession, user: Changer) -> Response:
    try:
        view = review.page_view(session, request.app.state.workspace.root, item_id, scope_of(user))
    except review.ReviewError as error:
        return _refused(error)
    return JSONResponse({
        "ok": True,
        "url": f"/review/item/{item_id}/page.jpg",
        "width": view.width_px,
        "height": view.height_px,
        "box": view.box,
        "whole_page": view.whole_page,
    })


@router.get("/review/item/{item_id}/page.jpg")
def page_image(request: Request, item_id: int, session: DbSession, user: Changer) -> Response:
    try:
        view = review.page_view(session, request.app.state.workspace.root, item_id, scope_of(user))
    except review.ReviewError as error:
        raise _for_image(error) from error
    return FileResponse(view.path, media_type="image/jpeg", headers={"Cache-Control": f"private, max-age={IMAGE_MAX_AGE_S}"})


@router.get("/review/item/{item_id}/conflict/{side}.jpg")
def conflict_image(request: Request, item_id: int, side: str, session: DbSession, user: Changer) -> Response:
    if side not in ("this", "other"):
        raise NotFound("找不到这个页面")
    try:
        data = review.conflict_crop(session, request.app.state.workspace.root, item_id, side,  # type: ignore[arg-type]
                                    scope_of(user))
    except review.ReviewError as error:
        raise _for_image(error) from error
    return Response(data, media_type="image/jpeg", headers={"Cache-Control": f"private, max-age={IMAGE_MAX_AGE_S}"})
