"""The schema. Portable SQL only: the same code runs on SQLite and PostgreSQL.

Natural keys (village code, unit name, round "YYYY-MM", form ID) are unique
so that re-imports and re-scans update instead of duplicating.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import JSON, Boolean, Date, DateTime, Float, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship


class Base(DeclarativeBase):
    pass


# --- registry -----------------------------------------------------------

class Village(Base):
    __tablename__ = "village"
    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(100))
    county: Mapped[str] = mapped_column(String(50), index=True)
    town: Mapped[str] = mapped_column(String(50))
    population: Mapped[int | None] = mapped_column(Integer)
    poor_population: Mapped[int | None] = mapped_column(Integer)
    income_last_year_yuan: Mapped[float | None] = mapped_column(Float)

    units: Mapped[list[VillageUnit]] = relationship(back_populates="village", cascade="all, delete-orphan")
    team: Mapped[WorkTeam | None] = relationship(back_populates="village", cascade="all, delete-orphan")
    first_secretary: Mapped[FirstSecretary | None] = relationship(
        back_populates="village", cascade="all, delete-orphan"
    )


class SponsorUnit(Base):
    __tablename__ = "sponsor_unit"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    level: Mapped[str] = mapped_column(String(10))  # "city" | "county"
    county: Mapped[str | None] = mapped_column(String(50))
    # The official order of institutions (机构序列) in which the notice lists units.
    sort_order: Mapped[int | None] = mapped_column(Integer)


class VillageUnit(Base):
    __tablename__ = "village_unit"
    village_id: Mapped[int] = mapped_column(ForeignKey("village.id", ondelete="CASCADE"), primary_key=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("sponsor_unit.id", ondelete="CASCADE"), primary_key=True)
    village: Mapped[Village] = relationship(back_populates="units")
    unit: Mapped[SponsorUnit] = relationship()


class WorkTeam(Base):
    __tablename__ = "work_team"
    id: Mapped[int] = mapped_column(primary_key=True)
    village_id: Mapped[int] = mapped_column(ForeignKey("village.id", ondelete="CASCADE"), unique=True)
    size: Mapped[int | None] = mapped_column(Integer)
    leader: Mapped[str | None] = mapped_column(String(50))
    village: Mapped[Village] = relationship(back_populates="team")


class FirstSecretary(Base):
    __tablename__ = "first_secretary"
    id: Mapped[int] = mapped_column(primary_key=True)
    village_id: Mapped[int] = mapped_column(ForeignKey("village.id", ondelete="CASCADE"), unique=True)
    name: Mapped[str | None] = mapped_column(String(50))
    unit: Mapped[str | None] = mapped_column(String(100))
    phone: Mapped[str | None] = mapped_column(String(20))
    village: Mapped[Village] = relationship(back_populates="first_secretary")


# --- groups, per round --------------------------------------------------

class GroupMember(Base):
    """One person on one group's roster for one round (Annex 1)."""

    __tablename__ = "group_member"
    __table_args__ = (UniqueConstraint("round", "group_no", "name"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    round: Mapped[str] = mapped_column(String(7), index=True)
    group_no: Mapped[int] = mapped_column(Integer)
    role: Mapped[str] = mapped_column(String(10))  # leader | member | liaison
    name: Mapped[str] = mapped_column(String(50))
    title: Mapped[str | None] = mapped_column(String(100))
    phone: Mapped[str | None] = mapped_column(String(20))
    position: Mapped[int] = mapped_column(Integer, default=0)


class GroupCoverage(Base):
    """Which counties a group covers in a round."""

    __tablename__ = "group_coverage"
    round: Mapped[str] = mapped_column(String(7), primary_key=True)
    county: Mapped[str] = mapped_column(String(50), primary_key=True)
    group_no: Mapped[int] = mapped_column(Integer)


# --- rounds -------------------------------------------------------------

class Round(Base):
    __tablename__ = "round"
    id: Mapped[str] = mapped_column(String(7), primary_key=True)  # "2015-08"
    start: Mapped[dt.date] = mapped_column(Date)
    end: Mapped[dt.date] = mapped_column(Date)
    group_report_due: Mapped[dt.date] = mapped_column(Date)
    self_inspection_due: Mapped[dt.date] = mapped_column(Date)
    planned_at: Mapped[dt.datetime] = mapped_column(DateTime)


class Lottery(Base):
    __tablename__ = "lottery"
    round: Mapped[str] = mapped_column(ForeignKey("round.id", ondelete="CASCADE"), primary_key=True)
    seed: Mapped[str] = mapped_column(Text)
    algorithm: Mapped[str] = mapped_column(String(50))
    algorithm_version: Mapped[str] = mapped_column(String(20))
    population_sha256: Mapped[str] = mapped_column(String(64))
    # {county: {"population": [codes in order], "drawn": [codes]}}
    result: Mapped[dict[str, Any]] = mapped_column(JSON)
    drawn_at: Mapped[dt.datetime] = mapped_column(DateTime)


class RoundVillage(Base):
    __tablename__ = "round_village"
    round: Mapped[str] = mapped_column(ForeignKey("round.id", ondelete="CASCADE"), primary_key=True)
    village_id: Mapped[int] = mapped_column(ForeignKey("village.id"), primary_key=True)
    group_no: Mapped[int] = mapped_column(Integer)
    reason: Mapped[str] = mapped_column(String(20))  # full | lottery | rectification
    visit_order: Mapped[int] = mapped_column(Integer)
    village: Mapped[Village] = relationship()


class RectificationItem(Base):
    """A problem found (一个“否”) that must be fixed and re-inspected."""

    __tablename__ = "rectification_item"
    __table_args__ = (UniqueConstraint("village_id", "origin_round", "indicator_key"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    village_id: Mapped[int] = mapped_column(ForeignKey("village.id"), index=True)
    origin_round: Mapped[str] = mapped_column(String(7))
    indicator_key: Mapped[str] = mapped_column(String(30))
    description: Mapped[str] = mapped_column(Text)
    deadline: Mapped[dt.date | None] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(10), default="open")  # open | closed
    closed_round: Mapped[str | None] = mapped_column(String(7))
    closed_form_id: Mapped[str | None] = mapped_column(String(40))


# --- printed sheets -----------------------------------------------------

class IssuedSheet(Base):
    """A record sheet this workspace printed; a scan must match one."""

    __tablename__ = "issued_sheet"
    form_id: Mapped[str] = mapped_column(String(40), primary_key=True)
    round: Mapped[str] = mapped_column(ForeignKey("round.id", ondelete="CASCADE"), index=True)
    village_id: Mapped[int] = mapped_column(ForeignKey("village.id"))
    group_no: Mapped[int] = mapped_column(Integer)
    layout_version: Mapped[str] = mapped_column(String(10))
    pages: Mapped[int] = mapped_column(Integer)
    # Which rectification item sits at which numbered row on page 2.
    rectification_item_ids: Mapped[list[int]] = mapped_column(JSON, default=list)
    docx_path: Mapped[str] = mapped_column(Text)
    pdf_path: Mapped[str | None] = mapped_column(Text)
    pdf_pages: Mapped[list[int]] = mapped_column(JSON, default=list)
    issued_at: Mapped[dt.datetime] = mapped_column(DateTime)


# --- scans --------------------------------------------------------------

class ScanFile(Base):
    __tablename__ = "scan_file"
    id: Mapped[int] = mapped_column(primary_key=True)
    sha256: Mapped[str] = mapped_column(String(64), unique=True)
    path: Mapped[str] = mapped_column(Text)
    page_count: Mapped[int | None] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(12))  # open | done | rejected
    reason: Mapped[str | None] = mapped_column(Text)
    scanned_at: Mapped[dt.datetime] = mapped_column(DateTime)


class ScanPage(Base):
    """One input page, in exactly one state: recorded, review or rejected."""

    __tablename__ = "scan_page"
    __table_args__ = (UniqueConstraint("file_id", "page_no"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    file_id: Mapped[int] = mapped_column(ForeignKey("scan_file.id", ondelete="CASCADE"))
    page_no: Mapped[int] = mapped_column(Integer)  # from 1 within the file
    status: Mapped[str] = mapped_column(String(10))
    reason: Mapped[str | None] = mapped_column(Text)
    form_id: Mapped[str | None] = mapped_column(String(40), index=True)
    sheet_page: Mapped[int | None] = mapped_column(Integer)
    alignment_error_mm: Mapped[float | None] = mapped_column(Float)
    image_path: Mapped[str | None] = mapped_column(Text)
    # The whole machine reading: fields, raw measures, confidences, signatures.
    reading: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    read_at: Mapped[dt.datetime] = mapped_column(DateTime)
    # Revision 0002: which reader read it, and whether a rejection may change on a later read.
    reader_version: Mapped[str | None] = mapped_column(String(20))
    # Why a rejected page may read differently later: "tool" or "round:YYYY-MM" (the round asked for).
    retry_hint: Mapped[str | None] = mapped_column(String(20))
    # Earlier outcomes of a page read again: [{status, reason, read_at, reader_version, retry_hint}].
    history: Mapped[list[dict[str, Any]] | None] = mapped_column(JSON)


class ReviewItem(Base):
    __tablename__ = "review_item"
    id: Mapped[int] = mapped_column(primary_key=True)
    scan_page_id: Mapped[int] = mapped_column(ForeignKey("scan_page.id", ondelete="CASCADE"), index=True)
    form_id: Mapped[str | None] = mapped_column(String(40), index=True)
    field_key: Mapped[str] = mapped_column(String(40))
    reason: Mapped[str] = mapped_column(Text)
    machine_value: Mapped[str | None] = mapped_column(Text)
    crop_path: Mapped[str | None] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(10), default="open")  # open | resolved
    resolved_value: Mapped[str | None] = mapped_column(Text)
    resolved_by: Mapped[str | None] = mapped_column(String(50))
    resolved_at: Mapped[dt.datetime | None] = mapped_column(DateTime)


# --- duties beyond the visit: attendance, counties' reports (issue 18) ---

class AttendanceRecord(Base):
    """A first secretary's days in the village for one round's month (from the 考勤表)."""

    __tablename__ = "attendance_record"
    __table_args__ = (UniqueConstraint("round", "village_id"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    round: Mapped[str] = mapped_column(String(7), index=True)
    village_id: Mapped[int] = mapped_column(ForeignKey("village.id", ondelete="CASCADE"))
    secretary: Mapped[str | None] = mapped_column(String(50))
    days_present: Mapped[int] = mapped_column(Integer)
    source: Mapped[str] = mapped_column(String(10))  # summary | daily
    file_name: Mapped[str] = mapped_column(Text)
    file_sha256: Mapped[str] = mapped_column(String(64))
    imported_at: Mapped[dt.datetime] = mapped_column(DateTime)
    village: Mapped[Village] = relationship()


class CountyReport(Base):
    """One file of a county's monthly self-inspection report (自查自纠), as received."""

    __tablename__ = "county_report"
    __table_args__ = (UniqueConstraint("round", "county", "sha256"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    round: Mapped[str] = mapped_column(String(7), index=True)
    county: Mapped[str] = mapped_column(String(50))
    received_on: Mapped[dt.date] = mapped_column(Date)
    sha256: Mapped[str] = mapped_column(String(64))
    original_name: Mapped[str] = mapped_column(Text)
    path: Mapped[str] = mapped_column(Text)
    recorded_at: Mapped[dt.datetime] = mapped_column(DateTime)


# --- the web desk ---------------------------------------------------------

class DeskUser(Base):
    """A person who signs in to the desk. ``group_no`` is set for role ``group`` only."""

    __tablename__ = "desk_user"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(50), unique=True)
    role: Mapped[str] = mapped_column(String(10))  # admin | group | viewer
    group_no: Mapped[int | None] = mapped_column(Integer)
    password_hash: Mapped[str] = mapped_column(Text)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    failed_logins: Mapped[int] = mapped_column(Integer, default=0)
    first_failed_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    locked_until: Mapped[dt.datetime | None] = mapped_column(DateTime)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime)


class DeskSession(Base):
    """A signed-in browser. The cookie carries the token; logout deletes the row, so a replayed cookie is dead."""

    __tablename__ = "desk_session"
    id: Mapped[int] = mapped_column(primary_key=True)
    token_sha256: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("desk_user.id", ondelete="CASCADE"), index=True)
    csrf_token: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime)
    expires_at: Mapped[dt.datetime] = mapped_column(DateTime)


class Job(Base):
    """Heavy work the desk hands to its worker process (scan, notice, sheets, reports)."""

    __tablename__ = "job"
    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(20))
    round: Mapped[str | None] = mapped_column(String(7), index=True)
    params: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    status: Mapped[str] = mapped_column(String(10), index=True)  # queued | running | done | failed
    progress_done: Mapped[int] = mapped_column(Integer, default=0)
    progress_total: Mapped[int | None] = mapped_column(Integer)
    message: Mapped[str | None] = mapped_column(Text)
    result: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    created_by: Mapped[str] = mapped_column(String(50))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime)
    started_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    finished_at: Mapped[dt.datetime | None] = mapped_column(DateTime)


class AuditEntry(Base):
    """One change made through the desk: who, when, what, the value before and after."""

    __tablename__ = "audit_entry"
    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[dt.datetime] = mapped_column(DateTime, index=True)
    user_name: Mapped[str] = mapped_column(String(50), index=True)
    action: Mapped[str] = mapped_column(String(40))
    target: Mapped[str] = mapped_column(Text)
    before: Mapped[str | None] = mapped_column(Text)
    after: Mapped[str | None] = mapped_column(Text)


# --- scans: concurrency and retries (revision 0002) -----------------------

class ScanClaim(Base):
    """A page being read right now by one scan process.

    Inserting the row is the claim: the primary key lets exactly one of any
    number of concurrent scans have it. The row is removed in the same
    transaction that stores the page; a claim left by a process that died is
    taken over by the next scan.
    """

    __tablename__ = "scan_claim"
    file_id: Mapped[int] = mapped_column(ForeignKey("scan_file.id", ondelete="CASCADE"), primary_key=True)
    page_no: Mapped[int] = mapped_column(Integer, primary_key=True)
    owner: Mapped[str] = mapped_column(String(200))  # host:pid:process start:nonce
    claimed_at: Mapped[dt.datetime] = mapped_column(DateTime)

