"""Open review items of a round by kind, and what is settled meanwhile (read-only).

Usage: python scripts/review_counts.py WORKSPACE [ROUND]  (prints JSON; the README's issue-16 review figures).
Also runs against older code (no ``validity`` on the results): it then prints the item counts only.
"""
import json
import sys
from collections import Counter

from sqlalchemy import select
from sqlalchemy.orm import Session

from ducha.db.models import IssuedSheet, ReviewItem, ScanPage, Village
from ducha.workspace import open_workspace

ROUND = sys.argv[2] if len(sys.argv) > 2 else "2015-08"
ws = open_workspace(sys.argv[1])
CONFLICT = "同一张表扫描了两次"
PRINTED = "二维码与打印编号不一致"
out = {}
with Session(ws.engine()) as session:
    forms = {s.form_id: s for s in session.scalars(select(IssuedSheet).where(IssuedSheet.round == ROUND))}
    items = [i for i in session.scalars(select(ReviewItem).where(ReviewItem.status == "open")) if i.form_id in forms]
    from ducha.review import kind_of  # present before and after

    def kind(i):
        if i.reason.startswith(CONFLICT):
            return "conflict"
        if PRINTED in i.reason:
            return "printed_id"
        if "走访人数不超过本村人口" in i.reason:
            return "amount:population"
        k = kind_of(i.field_key)
        if k == "page" and i.field_key != "page":
            return "survey"  # awareness survey answers (their own kind of form)
        return k

    rows = Counter(kind(i) for i in items)
    conflict_decisions = len({(i.form_id, i.field_key) for i in items if i.reason.startswith(CONFLICT)})
    out["open_items_by_kind"] = dict(rows)
    out["open_items_total"] = len(items)
    out["conflict_decisions"] = conflict_decisions
    by_form = {}
    for i in items:
        by_form.setdefault(i.form_id, set()).add(kind(i))
    out["sheets_with_open_items"] = len(by_form)
    out["sheets_only_amounts_open"] = sum(1 for k in by_form.values() if k <= {"amount", "amount:population"})
    # Population breaches the new check finds in the stored readings (same pure function the scan now calls).
    from ocr.numbers import VISITED_COUNT_KEYS, population_breaches

    pops = dict(session.execute(select(Village.id, Village.population)).all())
    breaches = 0
    for page in session.scalars(select(ScanPage).where(ScanPage.form_id.in_(forms), ScanPage.status != "rejected")):
        fields = (page.reading or {}).get("fields", {})
        visited = {k: fields[k].get("value") for k in VISITED_COUNT_KEYS
                   if k in fields and not fields[k].get("problem") and isinstance(fields[k].get("value"), int | float)}
        breaches += len(population_breaches(visited, pops.get(forms[page.form_id].village_id)))
    out["population_breaches_in_readings"] = breaches
    try:
        from ducha.results import load_form_results

        results = load_form_results(session, ROUND)
        back = [r for r in results if r.status != "missing"]
        out["record_sheets_back"] = len(back)
        out["status"] = dict(Counter(r.status for r in back))
        if hasattr(back[0], "validity"):
            out["validity"] = dict(Counter(str(r.validity) for r in back))
            out["review_sheets_validity_decided"] = dict(Counter(str(r.validity) for r in back if r.status == "review"))
            out["only_amounts_open"] = sum(r.only_amounts_open for r in back)
            out["review_sheets_ticks_all_decided"] = sum(
                1 for r in back if r.status == "review" and len(r.decided_indicators()) == len(r.indicators))
    except Exception as exc:  # noqa: BLE001 - a measuring script: report, do not hide
        out["results_error"] = repr(exc)
print(json.dumps(out, ensure_ascii=False, indent=1))
