"""The list of rounds and each round's dashboard."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response
from sqlalchemy import select

from ducha.db.models import Round
from ducha.desk.deps import DbSession, User, render

router = APIRouter()


@router.get("/")
def index(request: Request, session: DbSession, user: User) -> Response:
    rounds = list(session.scalars(select(Round.id).order_by(Round.id.desc())))
    return render(request, "index.html", {"rounds": rounds})
