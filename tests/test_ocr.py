"""The pure reader on sheets drawn from the measured layout.

Each test draws what a person would put on the sheet (``generator``),
degrades the page like a scanner would, and checks what the reader says.
The stand-in page has the real layout's markers, QR code and boxes; the
whole-pipeline tests on LibreOffice-rendered sheets are in test_scan.py.
"""

from __future__ import annotations

import io
import os
from pathlib import Path

import cv2
import numpy as np
import pytest
from PIL import Image

from forms import qr_payload
from forms.geometry import PageLayout, load_layout
from forms.record_sheet import NUMERIC_FIELDS_BY_KEY
from generator import degrade, handwriting
from generator import simulate as sim
from ocr.align import (
    MARKER_IDS,
    align,
    find_markers,
    markers_completed,
    restore_faded_lines,
    restore_faded_lines_stack,
    rows_percentile_u8,
)
from ocr.errors import AlignmentError, SourceError
from ocr.identify import ISSUED_MAC_MAX_EDITS, _edits, _edits_to_each, identities_in, issued_by_mac
from ocr.marks import (
    BILEVEL_BLANK_PAIR_REASON,
    BOX_CORRECTION_MIN_RATIO,
    BOX_FILL_MIN_RATIO,
    classify_box,
    classify_pair,
    paper_level_of,
)
from ocr.pages import MAX_PAGE_PIXELS, PageImage, PageSource, _decode_png, decode_jpeg
from ocr.reader import (
    BILEVEL_EMPTY_SLOT_REASON,
    UNANSWERED_INDICATORS_REASON,
    UNANSWERED_INDICATORS_REVIEW_MIN,
    PageReading,
    read_page,
)
from ocr.refine import refine_alignment
from ocr.signatures import BILEVEL_TRACE_REASON, SEAL_TRACE_REASON, _seal_traces, is_bilevel, measure_area

os.environ.setdefault("OMP_THREAD_LIMIT", "1")
KEY = bytes(range(32))
RNG_SEED = 7
OTHER_KEY = bytes(range(1, 33))
SHEET = qr_payload.SheetId("2015-08", "511902101201", 1, "rs1")


@pytest.fixture(scope="module")
def layouts() -> dict[tuple[str, int], PageLayout]:
    return {("rs1", 1): load_layout("rs1", 1), ("rs1", 2): load_layout("rs1", 2)}


@pytest.fixture(scope="module")
def blank_sheet(layouts: dict[tuple[str, int], PageLayout]) -> tuple[np.ndarray, np.ndarray]:
    return sim.stand_in_sheet(layouts[("rs1", 1)], qr_payload.encode(SHEET, KEY))


def _plan(layouts: dict[tuple[str, int], PageLayout], unanswered: tuple[int, ...] = (2,)) -> sim.PagePlan:
    """Indicators answered 是, 否, 是, ... in turn, those at ``unanswered`` left blank (several blank on one
    page go to review: ``test_several_indicators_read_unanswered_on_one_page_go_to_review``)."""
    plan = sim.PagePlan(form_id=SHEET.form_id, sheet_page=1)
    values = ["yes", "no", "yes"]
    for i, key in enumerate(k.split(".")[0] for k in layouts[("rs1", 1)].boxes if k.endswith(".yes")):
        plan.fields[key] = "blank" if i in unanswered else values[i % len(values)]
    plan.signatures = {"village_head": "signed", "first_secretary": "empty", "group_member": "signed"}
    return plan


def _filled(layouts: dict[tuple[str, int], PageLayout], blank_sheet: tuple[np.ndarray, np.ndarray],
            seed: int = 1, seal: bool = False, unanswered: tuple[int, ...] = (2,)) -> tuple[np.ndarray, sim.PagePlan]:
    page, homography = blank_sheet[0].copy(), blank_sheet[1]
    plan = _plan(layouts, unanswered)
    rng = np.random.default_rng(seed)
    layout = layouts[("rs1", 1)]
    for key, value in plan.fields.items():
        for box, wanted in ((f"{key}.yes", "yes"), (f"{key}.no", "no")):
            if value == wanted:
                rect = sim._rect_px(homography, layout.boxes[box])
                handwriting.draw_tick(page, rect, ("check", "cross", "dot")[seed % 3], rng, pen=handwriting.PENS[2])
    for slot, state in plan.signatures.items():
        rect = sim._rect_px(homography, layout.boxes[slot])
        if state == "signed":
            handwriting.draw_signature(page, rect, rng)
        if seal and slot == "first_secretary":
            handwriting.draw_seal(page, (rect[0] + rect[2] * 0.6, rect[1] + rect[3] * 0.5), rng)
    return page, plan


def _as_page(image: np.ndarray) -> PageImage:
    bgr = image if image.ndim == 2 else cv2.cvtColor(image, cv2.COLOR_RGB2BGR)
    ok, data = cv2.imencode(".jpg", bgr, [cv2.IMWRITE_JPEG_QUALITY, 90])
    assert ok
    return decode_jpeg(data.tobytes(), 1)


def _check(reading: PageReading, plan: sim.PagePlan, one_bit: bool = False) -> None:
    """``one_bit``: the page was scanned 1-bit (decoded as JPEG here, the reader sees it by its levels)."""
    assert reading.rejected is None
    assert reading.form_id_ok if hasattr(reading, "form_id_ok") else True
    assert (reading.round, reading.village_code, reading.sheet_page) == ("2015-08", "511902101201", 1)
    for key, value in plan.fields.items():
        assert reading.fields[key]["value"] == value, (key, reading.fields[key])
    for slot, state in plan.signatures.items():
        if state == "empty" and one_bit:
            # A light pen can leave nothing on a 1-bit scan: an empty slot there is checked on paper.
            assert reading.signatures[slot]["state"] == "uncertain", (slot, reading.signatures[slot])
            assert (slot, BILEVEL_EMPTY_SLOT_REASON) in reading.review
            continue
        assert reading.signatures[slot]["state"] == state, (slot, reading.signatures[slot])
    assert reading.validity == ("review" if one_bit else "invalid")


@pytest.mark.parametrize(
    "name",
    ["turn90", "turn180", "turn270", "skew", "blur_noise_jpeg", "bilevel", "photo", "dpi150", "dpi600"],
)
def test_reads_every_tick_and_signature_through_each_degradation(name: str, layouts, blank_sheet) -> None:
    page, plan = _filled(layouts, blank_sheet, seed=len(name))
    rng = np.random.default_rng(7)
    if name.startswith("turn"):
        out = degrade.rotate_quarter(degrade.to_gray(page), {"turn90": 1, "turn180": 2, "turn270": 3}[name])
    elif name == "skew":
        out = degrade.skew(page, rng, angle_deg=-4.5)
    elif name == "blur_noise_jpeg":
        out = degrade.jpeg(degrade.gaussian_noise(degrade.blur(degrade.to_gray(page), rng, sigma_px=1.2), rng,
                                                  sigma_levels=10), rng, quality=40)
    elif name == "bilevel":
        out = degrade.to_bilevel(page, 170)
    elif name == "photo":
        out = degrade.perspective_photo(page, rng)
    elif name == "dpi150":
        out, _ = degrade.rescale(degrade.to_gray(page), rng, 300, dpi=150)
    else:
        out, _ = degrade.rescale(degrade.to_gray(page), rng, 300, dpi=600)
    reading = read_page(_as_page(out), layouts, KEY)
    _check(reading, plan, one_bit=name == "bilevel")
    assert reading.alignment_error_mm is not None and reading.alignment_error_mm < 0.6


def test_several_indicators_read_unanswered_on_one_page_go_to_review(layouts, blank_sheet) -> None:
    """Every indicator is to be answered: one left blank is settled as unanswered, but where several read so,
    a dot too small or a tick too faint may be going unseen on that page (a round no rule was tuned on: three
    dot ticks read as nothing on one copier copy, all settled), so each goes to a person."""
    for unanswered in ((2,), (2, 5), (2, 5, 9)):
        page, plan = _filled(layouts, blank_sheet, seed=4, unanswered=unanswered)
        reading = read_page(_as_page(degrade.to_gray(page)), layouts, KEY)
        blank = [key for key, value in plan.fields.items() if value == "blank"]
        assert len(blank) == len(unanswered)
        for key, value in plan.fields.items():
            if value != "blank":
                assert reading.fields[key]["value"] == value, (key, reading.fields[key])
        reasons = dict(reading.review)
        if len(blank) < UNANSWERED_INDICATORS_REVIEW_MIN:
            assert [reading.fields[key]["value"] for key in blank] == ["blank"] * len(blank)
            assert not set(blank) & set(reasons)
        else:
            assert [reading.fields[key]["value"] for key in blank] == ["uncertain"] * len(blank)
            assert all(reasons[key] == UNANSWERED_INDICATORS_REASON for key in blank), reasons


def test_what_a_light_name_leaves_on_a_1_bit_scan_is_never_an_empty_slot() -> None:
    """A light pen's name can all but vanish through a 1-bit threshold (a round no rule was tuned on: 1.3 mm²
    left of a signed 督查组成员 slot read empty, and the inspection invalid). On a 1-bit scan a piece of stroke
    is never settled as empty; on a gray scan the same piece is a slip of the pen, and a speck is nothing."""
    px_per_mm = 5.0
    area = np.full((70, 300), 255, np.uint8)
    cv2.line(area, (140, 30), (152, 38), 0, thickness=3)
    faded = measure_area(area, 255.0, px_per_mm, bilevel=True)
    assert faded.state == "uncertain" and faded.reason == BILEVEL_TRACE_REASON, faded
    # Before, this little ink (or this short a piece) was an empty slot on any scan.
    assert faded.ink_mm2 <= 3.0 or faded.extent_mm <= 4.0, faded
    assert measure_area(area, 255.0, px_per_mm, bilevel=False).state == "empty"
    speck = np.full((70, 300), 255, np.uint8)
    cv2.circle(speck, (150, 35), 1, 0, thickness=-1)
    assert measure_area(speck, 255.0, px_per_mm, bilevel=True).state == "empty"


def test_red_seal_on_an_empty_slot_is_removed_by_colour(layouts, blank_sheet) -> None:
    page, plan = _filled(layouts, blank_sheet, seed=3, seal=True)
    reading = read_page(_as_page(page), layouts, KEY)
    assert reading.colour
    _check(reading, plan)


def test_gray_seal_never_makes_an_empty_slot_signed(layouts, blank_sheet) -> None:
    for seed in range(4):
        page, _ = _filled(layouts, blank_sheet, seed=seed, seal=True)
        reading = read_page(_as_page(degrade.to_gray(page)), layouts, KEY)
        assert reading.signatures["first_secretary"]["state"] in ("empty", "uncertain")
        assert reading.validity in ("invalid", "review")


def test_a_slip_of_the_pen_in_an_empty_slot_reads_empty_on_gray_and_is_never_signed_on_1_bit(
        layouts, blank_sheet) -> None:
    """A stray stroke or two short slips (under 8 mm of stroke) in an empty slot went to review on every
    scan (12 of the benchmark's 604 pages); on gray and colour pages the slot is empty, and the sheet
    invalid. On a 1-bit page a light pen's name can come apart into such pieces: there it is never
    called empty from the pieces alone, and never signed."""
    layout = layouts[("rs1", 1)]
    gray_states, bilevel_states = [], []
    for seed in range(8):
        page, homography = blank_sheet[0].copy(), blank_sheet[1]
        rng = np.random.default_rng(900 + seed)
        for slot in ("village_head", "first_secretary"):
            handwriting.draw_signature(page, sim._rect_px(homography, layout.boxes[slot]), rng)
        rect = sim._rect_px(homography, layout.boxes["group_member"])
        kind = "long_stroke" if seed % 2 else "stroke"
        for _ in range(1 if seed % 2 else 2):
            handwriting.draw_stray_mark(page, rect, rng, kind, sim.PRINT_PX_PER_MM, pen=handwriting.PENS[seed % 3])
        out, _dpi = degrade.rescale(degrade.to_gray(page), rng, sim.PRINT_DPI, dpi=(200, 300)[seed % 2])
        out = degrade.jpeg(degrade.gaussian_noise(out, rng, sigma_levels=3), rng, quality=80)
        reading = read_page(_as_page(out), layouts, KEY)
        gray_states.append(reading.signatures["group_member"]["state"])
        if gray_states[-1] == "empty":
            assert reading.validity == "invalid"
        buffer = io.BytesIO()
        Image.fromarray(degrade.to_bilevel(out, 170)).convert("1").save(buffer, format="PNG")
        bilevel = read_page(_decode_png(buffer.getvalue(), 1), layouts, KEY)
        assert bilevel.bilevel
        slot = bilevel.signatures["group_member"]
        bilevel_states.append(slot["state"])
        if slot["state"] == "empty":
            assert slot["ink_mm2"] <= 3.0 or slot["extent_mm"] <= 4.0, slot  # only as before: a speck
    assert "signed" not in gray_states + bilevel_states
    assert gray_states.count("empty") >= 7, gray_states


def test_an_empty_slot_on_a_1_bit_copy_whose_light_lines_cut_the_comb_goes_to_review(layouts, blank_sheet) -> None:
    """Benchmark: both signed slots read empty (sheets wrongly invalid) were on 1-bit copies whose low-ink
    lines cut the comb's print, one with no ink left at all. On such a page an empty slot is not settled,
    for that reason; on the same 1-bit page without the lines it is not settled either, since the
    twentieth pass, for the 1-bit page's own reason (``BILEVEL_EMPTY_SLOT_REASON``)."""
    from ocr.reader import BILEVEL_CUT_SLOT_REASON

    layout = layouts[("rs1", 1)]
    page, homography = blank_sheet[0].copy(), blank_sheet[1]
    rng = np.random.default_rng(31)
    for slot in ("village_head", "first_secretary"):
        handwriting.draw_signature(page, sim._rect_px(homography, layout.boxes[slot]), rng, pen=handwriting.PENS[0])

    def one_bit(gray: np.ndarray) -> PageImage:
        buffer = io.BytesIO()
        scanned, _dpi = degrade.rescale(gray, np.random.default_rng(0), sim.PRINT_DPI, dpi=240)
        Image.fromarray(degrade.to_bilevel(scanned, 150)).convert("1").save(buffer, format="PNG")
        return _decode_png(buffer.getvalue(), 1)

    clean = read_page(one_bit(degrade.to_gray(page)), layouts, KEY)
    assert clean.signatures["group_member"]["state"] == "uncertain"
    assert ("group_member", BILEVEL_EMPTY_SLOT_REASON) in clean.review
    assert ("group_member", BILEVEL_CUT_SLOT_REASON) not in clean.review
    # Lines whose cuts through the comb the 1-bit light-line check finds (it finds them on about half the
    # benchmark's 1-bit copies with light lines: the rule is a help, not a cure; gray scans are).
    for seed in (2, 8, 12):
        lined = degrade.low_ink_lines(degrade.to_gray(page), np.random.default_rng(seed), sim.PRINT_PX_PER_MM,
                                      vertical=bool(seed % 2), pitch_mm=3.0)
        reading = read_page(one_bit(lined), layouts, KEY)
        assert reading.rejected is None, (seed, reading.rejected)
        assert reading.signatures["group_member"]["state"] == "uncertain", seed
        assert ("group_member", BILEVEL_CUT_SLOT_REASON) in reading.review, seed
        assert reading.validity == "review", seed


def _signed_under_a_seal(layouts, blank_sheet, seed: int, pen: handwriting.Pen, seal_slot: str = "village_head",
                         empty_slot: str | None = None) -> PageReading:
    """Every slot signed with ``pen`` but ``empty_slot``; a red seal across ``seal_slot``; a gray office scan."""
    page, homography = blank_sheet[0].copy(), blank_sheet[1]
    rng = np.random.default_rng(seed)
    layout = layouts[("rs1", 1)]
    for slot in ("village_head", "first_secretary", "group_member"):
        rect = sim._rect_px(homography, layout.boxes[slot])
        if slot != empty_slot:
            handwriting.draw_signature(page, rect, rng, pen=pen)
        if slot == seal_slot:
            handwriting.draw_seal(page, handwriting.seal_centre_across(rect, rng), rng)
    out = degrade.jpeg(degrade.gaussian_noise(degrade.blur(degrade.to_gray(page), rng, sigma_px=0.8), rng,
                                              sigma_levels=4), rng, quality=75)
    return read_page(_as_page(out), layouts, KEY)


def test_a_dark_pen_under_a_gray_seal_is_read_as_signed(layouts, blank_sheet) -> None:
    """Black or blue-black ink is far darker than red stamp ink on a gray scan: the name shows through the seal."""
    states = []
    for seed in range(6):
        pen = handwriting.PENS[1 + seed % 2]  # heavy blue, black
        reading = _signed_under_a_seal(layouts, blank_sheet, seed, pen)
        assert reading.signatures["village_head"]["seal"], seed
        states.append(reading.signatures["village_head"]["state"])
    assert states.count("signed") >= 5, states
    assert "empty" not in states


def test_a_light_pen_under_a_gray_seal_is_never_read_as_empty(layouts, blank_sheet) -> None:
    """Light-blue ink is as pale as the stamp on a gray scan: the slot may be uncertain, never empty."""
    for seed in range(3):
        reading = _signed_under_a_seal(layouts, blank_sheet, seed, handwriting.PENS[0])
        assert reading.signatures["village_head"]["state"] in ("signed", "uncertain"), seed


def test_an_empty_slot_under_a_gray_seal_beside_dark_names_is_never_signed(layouts, blank_sheet) -> None:
    """The seal's own darkest ink sets the level; nothing of the seal passes for pen."""
    for seed in range(8):
        reading = _signed_under_a_seal(layouts, blank_sheet, seed, handwriting.PENS[2], empty_slot="village_head")
        assert reading.signatures["village_head"]["state"] in ("empty", "uncertain"), seed


def test_a_seal_stamped_twice_over_an_empty_slot_is_never_signed(layouts, blank_sheet) -> None:
    """Two overlapping seals: the second's ring, outside the first's disc, is not a name.

    Seeds 8, 10 and 18 were read "signed" while a found seal hid any other within its radius.
    """
    layout = layouts[("rs1", 1)]
    failures = []
    for seed in range(8, 20):
        page, homography = blank_sheet[0].copy(), blank_sheet[1]
        rng = np.random.default_rng(100 + seed)
        for slot in ("first_secretary", "group_member"):
            handwriting.draw_signature(page, sim._rect_px(homography, layout.boxes[slot]), rng, pen=handwriting.PENS[2])
        rect = sim._rect_px(homography, layout.boxes["village_head"])
        x, y = handwriting.seal_centre_across(rect, rng)
        handwriting.draw_seal(page, (x, y), rng)
        offset_px = rng.uniform(8, 14) * sim.PRINT_PX_PER_MM
        handwriting.draw_seal(page, (x - offset_px, y + rng.uniform(-3, 3) * sim.PRINT_PX_PER_MM), rng)
        out, _ = degrade.rescale(degrade.to_gray(page), rng, sim.PRINT_DPI, dpi=(300, 600)[seed % 2])
        reading = read_page(_as_page(out), layouts, KEY)
        if reading.signatures["village_head"]["state"] not in ("empty", "uncertain"):
            failures.append(seed)
    assert failures == []


def test_stray_stroke_and_speckle_are_not_signatures(layouts, blank_sheet) -> None:
    page, homography = blank_sheet[0].copy(), blank_sheet[1]
    rng = np.random.default_rng(5)
    layout = layouts[("rs1", 1)]
    for slot, kind in (("village_head", "stroke"), ("first_secretary", "speckle"), ("group_member", "stroke")):
        rect = sim._rect_px(homography, layout.boxes[slot])
        handwriting.draw_stray_mark(page, rect, rng, kind)  # type: ignore[arg-type]
    out = degrade.speckle(degrade.to_gray(page), rng, density_per_mpx=300)
    reading = read_page(_as_page(out), layouts, KEY)
    assert {s["state"] for s in reading.signatures.values()} <= {"empty", "uncertain"}
    assert reading.signatures["village_head"]["state"] == "empty"


def test_correction_cancels_a_box_and_two_ticks_go_to_review() -> None:
    empty = classify_box(0.0, 0.0)
    tick = classify_box(BOX_FILL_MIN_RATIO * 6, 0.2)
    filled = classify_box(0.95, 1.0)
    assert (empty.state, tick.state, filled.state) == ("empty", "marked", "filled")
    assert classify_pair(filled, tick, ("yes", "no"), ("是", "否")).value == "no"
    assert classify_pair(filled, empty, ("yes", "no"), ("是", "否")).value == "blank"
    both = classify_pair(tick, tick, ("yes", "no"), ("是", "否"))
    assert both.value == "uncertain" and both.reason
    # On the thresholds themselves the reader does not guess.
    assert classify_box(BOX_FILL_MIN_RATIO, 0.0).state == "uncertain"
    # A speck beside a clear tick is not a second tick, in either box; two specks stay unsure.
    speck = classify_box(BOX_FILL_MIN_RATIO, 0.0)
    assert classify_pair(tick, speck, ("yes", "no"), ("是", "否")).value == "yes"
    assert classify_pair(speck, tick, ("yes", "no"), ("是", "否")).value == "no"
    assert classify_pair(speck, empty, ("yes", "no"), ("是", "否")).value == "uncertain"
    assert classify_pair(speck, speck, ("yes", "no"), ("是", "否")).value == "uncertain"
    assert classify_box(0.6, BOX_CORRECTION_MIN_RATIO).state == "uncertain"


def test_filled_box_on_paper_reads_as_correction(layouts, blank_sheet) -> None:
    page, homography = blank_sheet[0].copy(), blank_sheet[1]
    layout = layouts[("rs1", 1)]
    rng = np.random.default_rng(2)
    handwriting.draw_tick(page, sim._rect_px(homography, layout.boxes["team_1.yes"]), "filled", rng)
    handwriting.draw_tick(page, sim._rect_px(homography, layout.boxes["team_1.no"]), "cross", rng)
    handwriting.draw_tick(page, sim._rect_px(homography, layout.boxes["team_2.yes"]), "check", rng)
    handwriting.draw_tick(page, sim._rect_px(homography, layout.boxes["team_2.no"]), "check", rng)
    reading = read_page(_as_page(degrade.to_gray(page)), layouts, KEY)
    assert reading.fields["team_1"]["value"] == "no"
    assert reading.fields["team_1"]["yes"]["state"] == "filled"
    assert reading.fields["team_2"]["value"] == "uncertain"
    assert ("team_2", "“是”和“否”都打了勾") in reading.review


def test_unreadable_qr_falls_back_to_the_printed_id(layouts, blank_sheet) -> None:
    page = blank_sheet[0].copy()
    layout = layouts[("rs1", 1)]
    homography = blank_sheet[1]
    x, y, w, h = sim._rect_px(homography, layout.qr)
    # Ink spilled over the QR code.
    cv2.rectangle(page, (x + w // 4, y + h // 4), (x + 3 * w // 4, y + 3 * h // 4), (0, 0, 0), thickness=-1)
    out, _ = degrade.rescale(degrade.to_gray(page), np.random.default_rng(0), 300, dpi=300)
    reading = read_page(_as_page(out), layouts, KEY)
    assert reading.id_method == "ocr"
    assert reading.village_code == "511902101201"
    assert any(key == "page" for key, _ in reading.review)


def test_ocr_candidates_fix_confusable_characters() -> None:
    payload = qr_payload.encode(SHEET, KEY)
    garbled = payload.replace("DC1-", "DC1 - ").replace("511902101201", "5119O21O12O1")
    assert [identity.payload for identity in identities_in(garbled, ["rs1"], KEY)] == [payload]


def test_sheet_from_another_workspace_is_rejected(layouts, blank_sheet) -> None:
    page, _ = _filled(layouts, blank_sheet)
    reading = read_page(_as_page(page), layouts, OTHER_KEY)
    assert reading.rejected is not None and "签名校验失败" in reading.rejected


def test_blank_page_is_noted(layouts) -> None:
    page = np.full((1754, 1240), 250, np.uint8)
    reading = read_page(_as_page(degrade.gaussian_noise(page, np.random.default_rng(0), sigma_levels=3)), layouts, KEY)
    assert reading.blank and reading.rejected is not None and "空白页" in reading.rejected


def test_bad_inputs_are_refused_with_reasons(tmp_path: Path) -> None:
    empty = tmp_path / "empty.pdf"
    empty.write_bytes(b"")
    text = tmp_path / "notes.txt"
    text.write_text("不是扫描件")
    broken = tmp_path / "broken.pdf"
    broken.write_bytes(b"%PDF-1.4\n1 0 obj << /Type /Catalog >>\n%%EOF garbage")
    truncated = tmp_path / "cut.jpg"
    buffer = io.BytesIO()
    Image.new("L", (800, 1100), 255).save(buffer, format="JPEG")
    truncated.write_bytes(buffer.getvalue()[:200])
    reasons = {}
    for path in (empty, text, broken):
        with pytest.raises(SourceError) as info:
            PageSource(path)
        reasons[path.name] = str(info.value)
    with pytest.raises(SourceError), PageSource(truncated) as source:
        source.read(1)
    assert "为空" in reasons["empty.pdf"]
    assert "不是" in reasons["notes.txt"]
    assert "PDF" in reasons["broken.pdf"]


def _encrypted_pdf() -> bytes:
    """A one-page PDF locked with the standard security handler (unknown user password)."""
    objs = [b"<< /Type /Catalog /Pages 2 0 R >>", b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
            b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 200 200] >>",
            b"<< /Filter /Standard /V 1 /R 2 /O <" + b"11" * 32 + b"> /U <" + b"22" * 32 + b"> /P -4 >>"]
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for i, obj in enumerate(objs, 1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % i + obj + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objs) + 1)
    for offset in offsets:
        out += b"%010d 00000 n \n" % offset
    out += (b"trailer\n<< /Size %d /Root 1 0 R /Encrypt 4 0 R /ID [<00112233445566778899aabbccddeeff>"
            b"<00112233445566778899aabbccddeeff>] >>\nstartxref\n%d\n%%%%EOF\n" % (len(objs) + 1, xref))
    return bytes(out)


def test_encrypted_pdf_is_refused(tmp_path: Path) -> None:
    locked = tmp_path / "locked.pdf"
    locked.write_bytes(_encrypted_pdf())
    with pytest.raises(SourceError) as info:
        PageSource(locked)
    assert "加密" in str(info.value)


def test_decompression_bomb_is_refused_before_decoding(tmp_path: Path) -> None:
    side = int(MAX_PAGE_PIXELS**0.5) + 100
    bomb = tmp_path / "bomb.png"
    # A huge, almost empty 1-bit PNG compresses to a few kilobytes.
    Image.new("1", (side, side), 1).save(bomb, optimize=True)
    assert bomb.stat().st_size < 5_000_000
    with pytest.raises(SourceError) as info, PageSource(bomb) as source:
        source.read(1)
    assert "过大" in str(info.value)


def _band(page: np.ndarray, centre_px: float, vertical: bool, width_mm: float, darkness_levels: float) -> np.ndarray:
    """A gray roller stripe through ``centre_px`` right across the page."""
    length = page.shape[1] if vertical else page.shape[0]
    profile = degrade._stripe_profile(length, np.array([centre_px]), np.array([width_mm * sim.PRINT_PX_PER_MM / 2]),
                                      sim.PRINT_PX_PER_MM * 0.3)
    return degrade._as_uint8(page.astype(np.float32) - degrade._across(page, profile * darkness_levels, vertical))


@pytest.mark.parametrize("vertical", [False, True])
def test_a_gray_roller_stripe_across_empty_boxes_is_not_a_tick(vertical: bool, layouts, blank_sheet) -> None:
    """Held-out copies had gray roller stripes across empty 是 boxes, read as 是 at confidence 1.0."""
    layout = layouts[("rs1", 1)]
    wrong = []
    for seed in range(4):
        page, plan = _filled(layouts, blank_sheet, seed=seed)
        gray = degrade.to_gray(page)
        rng = np.random.default_rng(seed)
        # Through the 是 boxes of the questions left blank or answered 否 (a vertical one runs down
        # the whole column of 是 boxes, ticked ones too).
        for key, value in plan.fields.items():
            if value == "yes" and not vertical:
                continue
            rect = sim._rect_px(blank_sheet[1], layout.boxes[f"{key}.yes"])
            centre = rect[0] + rect[2] / 2 if vertical else rect[1] + rect[3] / 2
            gray = _band(gray, centre + rng.uniform(-0.3, 0.3) * rect[3], vertical, rng.uniform(1.5, 6.0),
                         rng.uniform(40, 90))
            if vertical:
                break
        reading = read_page(_as_page(gray), layouts, KEY)
        for key, value in plan.fields.items():
            got = reading.fields[key]["value"]
            if got != value and got != "uncertain":
                wrong.append((seed, key, value, got))
            if value == "blank" and got != "blank":
                wrong.append((seed, key, value, got))
    assert wrong == []


ROLLER_BAND_CONTEXTS = Path(__file__).parent / "data" / "signature_contexts" / "copier_roller_bands.npz"
CONTEXT_PX_PER_MM = 5.0


def _signature_context(name: str) -> tuple[np.ndarray, np.ndarray]:
    """The seal-level ink and the bare paper around the slots of a benchmark copier page (gray, no seal)."""
    with np.load(ROLLER_BAND_CONTEXTS) as data:
        rows, cols = (int(v) for v in data[f"{name}_shape"])

        def mask(part: str) -> np.ndarray:
            return np.unpackbits(data[f"{name}_{part}"])[:rows * cols].reshape(rows, cols).astype(bool)

        return mask("seal_ink"), mask("bare")


@pytest.mark.parametrize("name", ["speckled_band_below_names", "speckled_band_beside_names"])
def test_a_speckled_roller_band_is_no_seal_trace_but_a_seal_ring_beside_it_is(name: str) -> None:
    # Two gray copies of the benchmark (seeds 102 and 103) with no seal: a roller band at the copier's
    # threshold runs down the paper below the names as a speckle, and its clumps were taken for a seal's
    # pieces, sending three signed names to review.
    seal_ink, bare = _signature_context(name)
    assert _seal_traces(seal_ink, CONTEXT_PX_PER_MM, bare) == []
    # A seal stamped beside the names on the same paper: its ring's side runs down the bare paper
    # almost as a band does, and its pieces must still count.
    ring = np.zeros(seal_ink.shape, np.uint8)
    cv2.circle(ring, (300, 262), 110, 255, thickness=6)
    cv2.circle(ring, (300, 262), 70, 255, thickness=10)
    stamped = seal_ink | (ring > 0)
    traces = _seal_traces(stamped, CONTEXT_PX_PER_MM, bare)
    assert traces and all(np.hypot(x - 300, y - 262) <= 115 for x, y in traces)


def test_a_black_roller_band_over_a_ticked_box_is_never_read_as_empty(layouts, blank_sheet) -> None:
    """A 1-bit copy's roller band is solid black: a tick under it cannot be seen, and the pair must go to
    review, not read as blank (a fresh simulated round had one such 是 read blank at confidence 1.0)."""
    layout = layouts[("rs1", 1)]
    covered = []
    for seed in range(3):
        page, plan = _filled(layouts, blank_sheet, seed=seed)
        gray = degrade.to_gray(page)
        ticked = [key for key, value in plan.fields.items() if value == "yes" and f"{key}.yes" in layout.boxes]
        for key in ticked[:2]:
            _x, y, _w, h = sim._rect_px(blank_sheet[1], layout.boxes[f"{key}.yes"])
            gray[round(y + 0.2 * h) : round(y + 0.9 * h)] = 0  # right across the page, as a roller's band runs
        reading = read_page(_as_page(gray), layouts, KEY)
        covered += [(seed, key, reading.fields[key]["value"]) for key in ticked[:2]]
    assert covered and all(value in ("yes", "uncertain") for _seed, _key, value in covered), covered


def test_a_1bit_page_is_told_from_a_gray_one(blank_sheet) -> None:
    """The 1-bit signature rule must hold on 1-bit pages, however they were reduced, and never on gray ones."""
    page = degrade.to_gray(blank_sheet[0])
    rng = np.random.default_rng(4)
    bilevel = degrade.to_bilevel(page, 170)
    gray_pages = [degrade.jpeg(degrade.gaussian_noise(page, rng, sigma_levels=3), rng, quality=q) for q in (60, 90)]
    gray_pages.append(degrade.clean_background(degrade.jpeg(page, rng, quality=75)))
    for image in gray_pages:
        assert not is_bilevel(_as_page(image).gray)
    buffer = io.BytesIO()
    Image.fromarray(bilevel).convert("1").save(buffer, format="PNG")
    for decoded in (_decode_png(buffer.getvalue(), 1).gray,
                    cv2.resize(bilevel, (bilevel.shape[1] // 2, bilevel.shape[0] // 2), interpolation=cv2.INTER_AREA)):
        assert is_bilevel(decoded)


@pytest.mark.parametrize("vertical", [False, True])
def test_a_page_whose_qr_code_and_markers_copier_light_lines_cut_is_still_identified(vertical: bool, layouts,
                                                                                       blank_sheet) -> None:
    """Held-out copier pages: periodic low-ink lines (up to 1 mm, keeping 15-60% of the toner) cut the
    QR code's 0.67 mm modules and the markers; such pages were rejected (the code before the rows and
    columns were evened out lost seed 0 in both directions). Lines thicker than the modules can still
    take a code whose toner they left too faint: one page in six may be lost; never another sheet's ID."""
    lost = []
    for seed in range(6):
        page, _plan = _filled(layouts, blank_sheet, seed=seed)
        rng = np.random.default_rng(seed)
        out = degrade.low_ink_lines(degrade.to_gray(page), rng, sim.PRINT_PX_PER_MM, vertical=vertical,
                                    pitch_mm=rng.uniform(2.5, 4.0))
        out, _ = degrade.rescale(out, rng, sim.PRINT_DPI, dpi=200)
        reading = read_page(_as_page(out), layouts, KEY)
        if reading.rejected is not None:
            lost.append((seed, reading.rejected))
        else:
            assert (reading.round, reading.village_code, reading.sheet_page) == ("2015-08", "511902101201", 1)
    assert len(lost) <= 1, lost


def _markers_unreadable(page: np.ndarray, homography: np.ndarray, layout: PageLayout, names: tuple[str, ...],
                        shift_mm: float = 0.0) -> np.ndarray:
    """``page`` (gray) with the cells of the markers ``names`` inked over, as a copy's light lines leave them
    for the ArUco decoder: their squares whole, their codes gone; ``shift_mm`` moves the squares right."""
    out = page.copy()
    mm = sim.PRINT_PX_PER_MM
    for name in names:
        cx, cy = layout.markers[name]
        half = layout.marker_size_mm / 2
        x0, y0 = (homography @ [cx - half, cy - half, 1.0])[:2]
        out[round(y0) : round(y0 + layout.marker_size_mm * mm), round(x0) : round(x0 + layout.marker_size_mm * mm)] = 255
        x0 += shift_mm * mm
        out[round(y0) : round(y0 + layout.marker_size_mm * mm), round(x0) : round(x0 + layout.marker_size_mm * mm)] = 0
    return out


def test_two_markers_whose_codes_a_copy_lost_are_found_where_the_other_two_put_them(layouts, blank_sheet) -> None:
    """Two 1-bit copies of the benchmark kept two markers whole and cut the other two's cells apart:
    the page was not aligned, and one of them not identified. The two decoded markers fix the page's
    scale, turn and shift, and the others are taken as the dark squares of a marker's size there."""
    layout = layouts[("rs1", 1)]
    clean = degrade.to_gray(blank_sheet[0])
    page = _markers_unreadable(clean, blank_sheet[1], layout, ("top_right", "bottom_right"))
    rng = np.random.default_rng(3)
    out, _ = degrade.rescale(degrade.skew(page, rng, angle_deg=1.2), rng, sim.PRINT_DPI, dpi=200)
    clean_out, _ = degrade.rescale(degrade.skew(clean, np.random.default_rng(3), angle_deg=1.2),
                                   np.random.default_rng(3), sim.PRINT_DPI, dpi=200)
    found = find_markers(out)
    assert sorted(found) == sorted(MARKER_IDS[n] for n in ("top_left", "bottom_left"))  # the codes are gone
    assert len(markers_completed(out, layout, found)) == 4
    alignment = align(out, layout, found)
    assert alignment.markers_inferred == 2 and alignment.error_mm < 0.2
    reference = align(clean_out, layout)
    corners = np.array([[0.0, 0.0], [210.0, 0.0], [210.0, 297.0], [0.0, 297.0]])
    drift_mm = np.abs(alignment.to_image(corners) - reference.to_image(corners)).max() / reference.px_per_mm
    assert drift_mm < 0.3
    reading = read_page(_as_page(out), layouts, KEY)
    assert reading.rejected is None and reading.alignment_error_mm is not None
    assert (reading.round, reading.village_code, reading.sheet_page) == ("2015-08", "511902101201", 1)


def test_a_square_out_of_place_or_merged_with_a_dark_band_is_not_taken_for_a_marker(layouts, blank_sheet) -> None:
    """Only a square of a marker's size, where the two decoded markers put it, is taken: one printed 3 mm
    off, or one that a copier's dark roller band has joined (taller than a marker), leaves the page unaligned."""
    layout = layouts[("rs1", 1)]
    clean = degrade.to_gray(blank_sheet[0])
    shifted = _markers_unreadable(clean, blank_sheet[1], layout, ("top_right", "bottom_right"), shift_mm=3.0)
    banded = _markers_unreadable(clean, blank_sheet[1], layout, ("top_right", "bottom_right"))
    for name in ("top_right", "bottom_right"):
        y = (blank_sheet[1] @ [0.0, layout.markers[name][1] + layout.marker_size_mm / 2, 1.0])[1]
        banded[round(y) : round(y + 1.5 * sim.PRINT_PX_PER_MM)] = 0  # a dark band along the squares' lower edge
    for page in (shifted, banded):
        found = find_markers(page)
        assert len(found) == 2
        assert len(markers_completed(page, layout, found)) == 2
        with pytest.raises(AlignmentError):
            align(page, layout, found)


def test_an_id_line_that_does_not_verify_is_named_by_its_mac_among_the_sheets_issued() -> None:
    """A copy's light line took the village code's digits from a printed ID line (benchmark: "DC1-201508-
    511922106201" read "NC1-761568-51197271062781"), so the line did not verify, while its MAC was read with
    a few look-alike misreads. Among the sheets the workspace issued, the MAC names one; another key's
    sheets, or a line naming two issued sheets, name none."""
    sheets = [qr_payload.SheetId("2015-08", f"5119021012{n:02d}", page, "rs1") for n in range(1, 80) for page in (1, 2)]
    issued = {}
    for sheet in sheets:
        payload = qr_payload.encode(sheet, KEY)
        issued[payload.rsplit("-", 1)[1]] = payload
    target = qr_payload.encode(qr_payload.SheetId("2015-08", "511902101237", 1, "rs1"), KEY)
    mac = target.rsplit("-", 1)[1]
    assert mac == "A3XK6WTPGWWGFRME"
    misread = "A3KK6WIPGWGFRME1"  # X as K, T as its look-alike I, a W lost, a 1 added: 3.5 edits
    line = f"NC1-761568-51197271062781-P1-RS1-{misread}"
    assert identities_in(line, ["rs1"], KEY) == []  # the line alone does not verify
    assert issued_by_mac([line], issued) == target
    assert issued_by_mac([line], {k: v for k, v in issued.items() if v != target}) is None
    other_key = {p.rsplit("-", 1)[1]: p for p in (qr_payload.encode(s, OTHER_KEY) for s in sheets)}
    assert issued_by_mac([line], other_key) is None
    second = qr_payload.encode(qr_payload.SheetId("2015-08", "511902101238", 1, "rs1"), KEY)
    assert issued_by_mac([line, second], issued) is None
    # Too many changes for ISSUED_MAC_MAX_EDITS: unnamed.
    free = "KMNPRWXY"
    changed = int(ISSUED_MAC_MAX_EDITS) + 1
    far = "".join(next(f for f in free if f != c) for c in mac[:changed]) + mac[changed:]
    assert issued_by_mac([f"NC1-761568-51197271062781-P1-RS1-{far}"], issued) is None


def test_a_read_mac_is_compared_with_every_issued_one_as_with_each_alone() -> None:
    """The vectorised edit distance that compares a read MAC with thousands of issued ones at once gives
    the one-pair distance (look-alikes at half cost) for reads that are longer, shorter or misread."""
    rng = np.random.default_rng(RNG_SEED)
    alphabet = list("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567")
    expected = ["".join(rng.choice(alphabet, 16)) for _ in range(200)]
    codes = np.frombuffer("".join(expected).encode("ascii"), dtype=np.uint8).reshape(len(expected), -1)
    for n in range(60):
        if n % 2:
            chars = list(expected[n])
            chars[n % 16] = {"O": "Q", "I": "J", "Z": "7"}.get(chars[n % 16], "K")
            read = "".join(chars)[: 14 + n % 4] + "A" * (n % 3)
        else:
            read = "".join(rng.choice(alphabet, int(rng.integers(13, 20))))
        assert _edits_to_each(read, codes).tolist() == [_edits(read, e) for e in expected], read


def test_a_seal_stamped_above_an_empty_slot_is_never_signed(layouts, blank_sheet) -> None:
    """A seal stamped over the labels above a slot shows its star and most of its ring where the seal
    search does not look; only its ring's lower arc dips into the empty slot, cut into pieces by a
    copier's light lines or joined to a stray stroke (three fresh stress seeds read it as signed)."""
    layout = layouts[("rs1", 1)]
    signed = []
    for seed in range(10):
        page, homography = blank_sheet[0].copy(), blank_sheet[1]
        rng = np.random.default_rng(500 + seed)
        empty = ("village_head", "first_secretary", "group_member")[seed % 3]
        for slot in ("village_head", "first_secretary", "group_member"):
            rect = sim._rect_px(homography, layout.boxes[slot])
            if slot != empty:
                handwriting.draw_signature(page, rect, rng, pen=handwriting.PENS[2])
                continue
            x, y, w, _h = rect
            r = handwriting.SEAL_RADIUS_MM * sim.PRINT_PX_PER_MM
            handwriting.draw_seal(page, (x + w * rng.uniform(0.2, 0.8), y - r + rng.uniform(0.15, 0.5) * r), rng)
            if seed % 2:
                handwriting.draw_stray_mark(page, rect, rng, "long_stroke", sim.PRINT_PX_PER_MM)
        gray = degrade.to_gray(page)
        if seed % 3 != 2:
            gray = degrade.low_ink_lines(gray, rng, sim.PRINT_PX_PER_MM, vertical=bool(seed % 2))
        out, _ = degrade.rescale(gray, rng, sim.PRINT_DPI, dpi=(163, 218, 300)[seed % 3])
        reading = read_page(_as_page(out), layouts, KEY)
        if reading.signatures.get(empty, {}).get("state") == "signed":
            signed.append((seed, empty, reading.signatures[empty]))
    assert signed == []


def test_specks_in_a_blank_box_of_a_1bit_page_go_to_review() -> None:
    """A light-blue tick that a 1-bit copy turned into a few specks (1.1% of the box) was read as blank.
    On a 1-bit page an empty box holds no ink at all; on gray pages faint specks are paper noise."""
    assert classify_box(0.011, 0.0, bilevel=True).state == "uncertain"
    assert classify_box(0.011, 0.0, bilevel=False).state == "empty"
    assert classify_box(0.0, 0.0, bilevel=True).state == "empty"


def test_a_phone_shadow_over_empty_boxes_is_not_a_tick(layouts, blank_sheet) -> None:
    """A phone photo's dim patch (uneven light) made the paper of a few boxes darker than the page's
    paper: empty 否 boxes read as faint ticks (two false conflicts and an unclear box on one page)."""
    wrong = []
    for seed in range(4):
        page, plan = _filled(layouts, blank_sheet, seed=seed)
        gray = degrade.to_gray(page).astype(np.float32)
        h, w = gray.shape
        # A shadow over the column of tick boxes (x 152-172 mm, y 64-206 mm), 27-36% darker at its
        # heart (x 162 mm, y 120-150 mm), fading over 25 mm.
        yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
        mm = sim.PRINT_PX_PER_MM
        to_px = blank_sheet[1]
        cx, cy = to_px[0, 0] * 162 + to_px[0, 2], to_px[1, 1] * 135 + to_px[1, 2]
        depth = 0.27 + 0.03 * seed
        off = np.hypot(xx - cx, np.maximum(0, np.abs(yy - cy) - 15 * mm))
        fade = np.clip(1.0 - off / (25 * mm), 0, 1)
        shaded = np.clip(gray * (1.0 - depth * fade), 0, 255).astype(np.uint8)
        reading = read_page(_as_page(shaded), layouts, KEY)
        for key, value in plan.fields.items():
            if reading.fields[key]["value"] != value:
                wrong.append((seed, key, value, reading.fields[key]["value"]))
    assert wrong == []


def test_a_box_filled_in_on_a_copy_with_light_lines_is_still_a_correction(layouts, blank_sheet) -> None:
    """A copier's low-ink lines leave paler stripes across a box filled in (a cancelled answer): its
    cover fell into the uncertain band (0.73-0.88 on benchmark copier pages) and the question went to
    review. Faded ink is restored before the cover is measured again.

    Without the restoring, 25 of these 48 questions go to review; with it 10 (13 of 80 over 20 seeds, 14
    since the alignment is refined on the printed boxes: it moved one box's cover by 0.03 mm's worth). Six
    seeds and "at most 2 of 24", as this test had it, passed by the luck of the draw."""
    layout = layouts[("rs1", 1)]
    homography = blank_sheet[1]
    unsure = []
    for seed in range(12):
        page = blank_sheet[0].copy()
        rng = np.random.default_rng(40 + seed)
        for key in ("team_1", "team_4", "sec_2", "sec_7"):
            handwriting.draw_tick(page, sim._rect_px(homography, layout.boxes[f"{key}.no"]), "filled", rng)
            handwriting.draw_tick(page, sim._rect_px(homography, layout.boxes[f"{key}.yes"]), "check", rng)
        gray = degrade.low_ink_lines(degrade.to_gray(page), rng, sim.PRINT_PX_PER_MM, vertical=bool(seed % 2),
                                     pitch_mm=rng.uniform(2.5, 4.0))
        out, _ = degrade.rescale(gray, rng, sim.PRINT_DPI, dpi=200)
        reading = read_page(_as_page(out), layouts, KEY)
        for key in ("team_1", "team_4", "sec_2", "sec_7"):
            value = reading.fields[key]["value"]
            assert value in ("yes", "uncertain"), (seed, key, reading.fields[key])
            if value == "uncertain":
                unsure.append((seed, key))
    assert len(unsure) <= 12, unsure


def test_a_box_filled_in_under_close_light_lines_is_never_read_as_a_tick(layouts, blank_sheet) -> None:
    """Light lines 2 mm apart leave a box filled in (a cancelled 否) as solid columns between pale
    stripes: its cover fell to a bold cross's, and beside a 是 whose tick the copy had lost it read as
    否 (untouched round, seeds 700-703, at 0.875). Without ``FILLED_LINES_MIN_SHARE``, 14 of these 32
    questions read 否."""
    layout = layouts[("rs1", 1)]
    homography = blank_sheet[1]
    keys = ("team_1", "team_4", "sec_2", "sec_7")
    read_as_ticks = []
    for seed in range(8):
        page = blank_sheet[0].copy()
        rng = np.random.default_rng(700 + seed)
        for key in keys:
            handwriting.draw_tick(page, sim._rect_px(homography, layout.boxes[f"{key}.no"]), "filled", rng)
        gray = degrade.low_ink_lines(degrade.to_gray(page), rng, sim.PRINT_PX_PER_MM, vertical=bool(seed % 2),
                                     pitch_mm=2.0)
        out, _ = degrade.rescale(gray, rng, sim.PRINT_DPI, dpi=200)
        reading = read_page(_as_page(out), layouts, KEY)
        read_as_ticks += [(seed, key, reading.fields[key]["no"]) for key in keys
                          if reading.fields[key]["value"] == "no"]
    assert read_as_ticks == []


def test_on_a_mended_copy_an_empty_slot_with_some_ink_goes_to_review() -> None:
    """A gray copier page whose QR code was read only once its light lines were mended read a signed
    slot as empty (the lines had faded the name to a few pieces) and the sheet as invalid."""
    from ocr.reader import FADED_SLOT_REASON, _faded_slots_to_review

    reading = PageReading(page_no=1)
    reading.signatures = {"village_head": {"state": "signed", "ink_mm2": 40.0},
                          "first_secretary": {"state": "empty", "ink_mm2": 3.0},
                          "group_member": {"state": "empty", "ink_mm2": 0.0}}
    _faded_slots_to_review(reading)
    assert reading.signatures["first_secretary"]["state"] == "uncertain"
    assert ("first_secretary", FADED_SLOT_REASON) in reading.review
    # A slot with no ink at all is empty on any copy, and it still makes the sheet invalid.
    assert reading.signatures["group_member"]["state"] == "empty"
    assert reading.validity == "invalid"


def _striped_boxes(count: int, seed: int) -> np.ndarray:
    """Comb boxes with a digit-like bar, some crossed by a copier's low-ink line."""
    rng = np.random.default_rng(seed)
    boxes = np.clip(rng.normal(235, 6, (count, 75, 55)), 0, 255).astype(np.uint8)
    boxes[:, :3] = boxes[:, -3:] = 40
    boxes[:, :, :3] = boxes[:, :, -3:] = 40
    boxes[:, 20:60, 25:31] = 60
    for k in range(0, count, 2):
        row = int(rng.integers(10, 60))
        boxes[k, row:row + 4] = (255 - (255 - boxes[k, row:row + 4].astype(np.float32)) * 0.35).astype(np.uint8)
    return boxes


def test_a_stack_of_boxes_is_restored_as_each_box_alone() -> None:
    """A page's comb boxes are restored as one stack; each is judged against its own paper and ink."""
    boxes = _striped_boxes(12, 3)
    for across_rows in (True, False):
        stacked, changed = restore_faded_lines_stack(boxes, 10.0, across_rows)
        for k, box in enumerate(boxes):
            alone = restore_faded_lines(box, 10.0, across_rows)
            assert np.array_equal(stacked[k], alone) and bool(changed[k]) == (alone is not box)
    _rows, changed = restore_faded_lines_stack(boxes, 10.0, across_rows=True)
    assert changed[::2].all() and not changed[1::2].any()  # the striped boxes, and only they


def test_the_histogram_percentile_is_numpys() -> None:
    rng = np.random.default_rng(7)
    for size in (2, 3, 55, 4125, 6325):
        rows = rng.integers(0, 256, (9, size)).astype(np.uint8)
        expected = np.percentile(rows.astype(np.float32), 90.0, axis=1)
        got = rows_percentile_u8(rows, 90.0)
        assert got.dtype == expected.dtype and np.array_equal(got, expected)


def test_a_tick_lost_on_the_way_leaves_its_question_to_a_person(layouts, blank_sheet) -> None:
    """A fresh simulated round read 17 ticked 是 as blank, nothing flagged: on 1-bit copies the tick had
    vanished (two empty boxes, fill 0), on gray copies a light dot had faded to a trace. A question left
    unanswered is rare; such a pair goes to review. On gray, a box with nothing in it is still a blank, when
    it is the page's only unanswered question (several go to review: see the test above)."""
    layout = layouts[("rs1", 1)]
    page, plan = _filled(layouts, blank_sheet, seed=2, unanswered=())
    ticked = [key for key, value in plan.fields.items() if value == "yes" and f"{key}.yes" in layout.boxes][:2]
    answered = [key for key, value in plan.fields.items() if value in ("yes", "no") and key not in ticked]
    gray = degrade.to_gray(page)
    inset = round(0.6 * sim.PRINT_PX_PER_MM)
    rects = {key: sim._rect_px(blank_sheet[1], layout.boxes[f"{key}.yes"]) for key in ticked}
    for x, y, w, h in rects.values():
        gray[round(y) + inset : round(y + h) - inset, round(x) + inset : round(x + w) - inset] = 255  # the tick gone
    x, y, w, h = rects[ticked[0]]
    traced = gray.copy()
    cv2.circle(traced, (round(x + w / 2), round(y + h / 2)), 3, 110, -1)  # what a light dot left on a copy
    reading = read_page(_as_page(traced), layouts, KEY)
    assert reading.fields[ticked[0]]["value"] == "uncertain"
    assert "淡淡的痕迹" in dict(reading.review)[ticked[0]]
    assert reading.fields[ticked[1]]["value"] == "blank"
    buffer = io.BytesIO()
    Image.fromarray(degrade.to_bilevel(gray)).convert("1").save(buffer, format="PNG")
    reading = read_page(_decode_png(buffer.getvalue(), 1), layouts, KEY)
    assert reading.bilevel
    for key in ticked:
        assert reading.fields[key]["value"] == "uncertain"
        assert dict(reading.review)[key] == BILEVEL_BLANK_PAIR_REASON
    # The questions whose ticks the page kept are read as before.
    assert all(reading.fields[key]["value"] == plan.fields[key] for key in answered)


def _marker_moved(page: np.ndarray, homography: np.ndarray, layout: PageLayout, name: str,
                  shift_mm: tuple[float, float] | None) -> np.ndarray:
    """``page`` with the marker ``name`` printed ``shift_mm`` away from its place: where a copy's light lines
    put the corners ArUco finds for it (its code still reads); None: the marker is gone."""
    out = page.copy()
    mm = sim.PRINT_PX_PER_MM
    cx, cy = layout.markers[name]
    half = layout.marker_size_mm / 2 + 1.0
    x0, y0 = (round(v) for v in (homography @ [cx - half, cy - half, 1.0])[:2])
    side = round(2 * half * mm)
    patch = page[y0:y0 + side, x0:x0 + side].copy()
    out[y0:y0 + side, x0:x0 + side] = 255
    if shift_mm is not None:
        x1, y1 = x0 + round(shift_mm[0] * mm), y0 + round(shift_mm[1] * mm)
        out[y1:y1 + side, x1:x1 + side] = np.minimum(out[y1:y1 + side, x1:x1 + side], patch)
    return out


def test_a_page_whose_markers_fit_badly_is_read_through_its_printed_boxes(layouts, blank_sheet) -> None:
    """Fresh round of 2026-12-04: a copy with three markers read, their corners shifted by light lines,
    was read through a homography that put the 否 column a millimetre off; each 否 box held its own border
    and 16 questions went to review as "both ticked". The boxes' printed outlines are found and the
    homography fitted again to them and the markers."""
    layout = layouts[("rs1", 1)]
    filled, plan = _filled(layouts, blank_sheet, seed=4)
    page = _marker_moved(degrade.to_gray(filled), blank_sheet[1], layout, "top_right", None)
    page = _marker_moved(page, blank_sheet[1], layout, "bottom_right", (1.2, -0.8))
    rng = np.random.default_rng(4)
    out, _ = degrade.rescale(degrade.skew(page, rng, angle_deg=0.8), rng, sim.PRINT_DPI, dpi=200)
    markers = find_markers(out)
    assert len(markers) == 3
    by_markers = align(out, layout, markers)
    refined = refine_alignment(out, by_markers, layout, paper_level_of(out))
    assert refined is not None and refined.boxes_fitted >= 40 and refined.error_mm < 0.15
    # The markers alone put the 否 boxes far enough off for their borders to count as ink.
    box = layout.boxes["team_1.no"]
    centre = np.array([[box.x_mm + box.w_mm / 2, box.y_mm + box.h_mm / 2]])
    off_mm = np.abs(by_markers.to_image(centre) - refined.to_image(centre)).max() / refined.px_per_mm
    assert off_mm > 0.6
    reading = read_page(_as_page(out), layouts, KEY)
    assert not any(key == "page" for key, _reason in reading.review), reading.review
    _check(reading, plan)


def test_a_page_with_two_markers_left_is_aligned_on_its_printed_boxes(layouts, blank_sheet) -> None:
    """A copy that lost two markers altogether (no square left to complete them by) went to review as a
    whole ("只找到 2 个定位标记"; one page on the benchmark, one on the fresh round of 2026-12-04). The two
    fix the page's scale, turn and shift well enough to find the printed boxes, and the homography is
    fitted to those; only then is the page read."""
    layout = layouts[("rs1", 1)]
    filled, plan = _filled(layouts, blank_sheet, seed=5)
    page = degrade.to_gray(filled)
    for name in ("top_right", "bottom_right"):
        page = _marker_moved(page, blank_sheet[1], layout, name, None)
    rng = np.random.default_rng(5)
    out, _ = degrade.rescale(degrade.skew(page, rng, angle_deg=1.5), rng, sim.PRINT_DPI, dpi=200)
    markers = find_markers(out)
    assert len(markers_completed(out, layout, markers)) == 2
    with pytest.raises(AlignmentError):
        align(out, layout, markers)
    reading = read_page(_as_page(out), layouts, KEY)
    assert reading.markers_found == 2 and reading.alignment_error_mm is not None
    assert not any(key == "page" for key, _reason in reading.review), reading.review
    _check(reading, plan)


def _bent(page: np.ndarray, bow_mm: float, along_x: bool) -> np.ndarray:
    """``page`` (gray) bowed between its corners, as a phone photo of curled paper: the middle moves
    ``bow_mm`` (across if ``along_x``, else down), the edges not at all."""
    h, w = page.shape[:2]
    ys, xs = np.mgrid[0:h, 0:w].astype(np.float32)
    bow = bow_mm * sim.PRINT_PX_PER_MM * np.sin(np.pi * xs / w) * np.sin(np.pi * ys / h)
    return cv2.remap(page, xs + bow if along_x else xs, ys if along_x else ys + bow, cv2.INTER_LINEAR,
                     borderValue=255)


@pytest.mark.parametrize("along_x", [True, False])
def test_a_page_bent_between_its_markers_is_read_where_its_boxes_are(along_x: bool, layouts, blank_sheet) -> None:
    """A phone photo of curled paper has its corners where a homography puts them and its middle off it:
    bowed 1.5 mm, 2 of this page's 19 items were read wrong with no review (2 mm: 4), the markers' error
    0.05 mm.
    A few printed boxes spread over the page are looked for on every page; where they lie off, all the
    boxes are, and the bend between them is taken into every crop. Bent further than the search follows,
    the page goes to a person as a whole."""
    filled, plan = _filled(layouts, blank_sheet, seed=12)
    gray = degrade.to_gray(filled)
    for bow_mm in (1.5, 2.0):
        out, _ = degrade.rescale(_bent(gray, bow_mm, along_x), np.random.default_rng(1), sim.PRINT_DPI, dpi=200)
        reading = read_page(_as_page(out), layouts, KEY)
        assert not any(key == "page" for key, _reason in reading.review), (bow_mm, reading.review)
        _check(reading, plan)
    out, _ = degrade.rescale(_bent(gray, 3.0, along_x), np.random.default_rng(1), sim.PRINT_DPI, dpi=200)
    reading = read_page(_as_page(out), layouts, KEY)
    assert any(key == "page" and "对齐误差" in reason for key, reason in reading.review), reading.review


def _drum_copy(page: np.ndarray, rng: np.random.Generator, vertical: bool, centres_px: list[float]) -> np.ndarray:
    """A gray copy at 200 dpi from a copier whose drum lays streaks of toner dots at ``centres_px``."""
    gray = degrade.dirty_drum(degrade.to_gray(page), rng, sim.PRINT_PX_PER_MM, vertical=vertical, centres_px=centres_px)
    return degrade.rescale(gray, rng, sim.PRINT_DPI, dpi=200)[0]


def test_a_dirty_drum_streak_down_the_empty_boxes_is_never_read_as_a_tick(layouts, blank_sheet) -> None:
    """A copier's dirty drum lays a streak of toner dots along the paper's travel: down a column of empty
    否 boxes it read as ticks at confidence 1.0 (151 copies with a dirty drum, profile ``copier_drum``).
    A mark that is a spray of dots, a narrow band from edge to edge of its box, or (when faint) lies where
    dots run on just outside the box on both sides goes to a person (``ocr.marks.SPRAY_*``,
    ``STREAK_*``). Without those rules, 31 of these 96 questions read 否."""
    layout = layouts[("rs1", 1)]
    x, _y, w, _h = sim._rect_px(blank_sheet[1], layout.boxes["team_1.no"])
    read_as_ticks = []
    for seed in range(6):
        rng = np.random.default_rng(116_500 + seed)
        out = _drum_copy(blank_sheet[0].copy(), rng, True, [x + w / 2 + float(rng.uniform(-w / 4, w / 4))])
        reading = read_page(_as_page(out), layouts, KEY)
        read_as_ticks += [(seed, key, field["no"]) for key, field in reading.fields.items()
                          if isinstance(field, dict) and field.get("value") in ("yes", "no")]
    assert read_as_ticks == []


def test_a_dirty_drum_streak_beside_the_signatures_is_no_seal_trace(layouts, blank_sheet) -> None:
    """Its streaks' dense stretches merge into blots the size of a seal's pieces: on the paper around the
    signature slots they were "seal traces", and every signed slot near one went to review (45 of 423
    slots of those 151 copies). A straight band of specks all along is a streak
    (``ocr.signatures.DRUM_STREAK_*``). Without it, 11 of these 18 signed slots went to review so."""
    layout = layouts[("rs1", 1)]
    slots = [key for key in ("village_head", "first_secretary", "group_member") if key in layout.boxes]
    below = max(sim._rect_px(blank_sheet[1], layout.boxes[key])[1] + sim._rect_px(blank_sheet[1], layout.boxes[key])[3]
                for key in slots)
    flagged = []
    for seed in range(6):
        rng = np.random.default_rng(116_600 + seed)
        page = blank_sheet[0].copy()
        for key in slots:
            handwriting.draw_signature(page, sim._rect_px(blank_sheet[1], layout.boxes[key]), rng)
        streak_y = below + float(rng.uniform(4, 16)) * sim.PRINT_PX_PER_MM
        reading = read_page(_as_page(_drum_copy(page, rng, False, [streak_y])), layouts, KEY)
        flagged += [(seed, key) for key, reason in reading.review if reason == SEAL_TRACE_REASON]
    assert flagged == []


def test_a_copier_streak_through_empty_comb_boxes_is_never_a_settled_number(layouts, blank_sheet) -> None:
    """A copier's dark roller band, or a drum streak dense enough to merge, runs down the page through the
    combs; in an empty box it reads as a "1" at full confidence (151 copies with a dirty drum: an empty
    field read 1, 426.2 read 1426.2, 38 read 138). A box whose reading changes once a streak running
    through it from above to below is taken out sends its field to a person (``ocr.numbers.COMB_STREAK_*``).
    Every field here is empty on the paper, so any value settled is a silent error: 3 of these 24 pages
    settled one without the rule."""
    layout = layouts[("rs1", 1)]
    combs = [key for key in layout.boxes if key.split(".")[0] in NUMERIC_FIELDS_BY_KEY]
    px = sim.PRINT_PX_PER_MM
    settled = []
    for seed in range(24):
        rng = np.random.default_rng(118_100 + seed)
        x, _y, w, _h = sim._rect_px(blank_sheet[1], layout.boxes[combs[int(rng.integers(len(combs)))]])
        gray = degrade.to_gray(blank_sheet[0].copy())
        centre = x + w / 2 + float(rng.uniform(-w / 3, w / 3))
        band = degrade._stripe_profile(gray.shape[1], np.array([centre]), np.array([rng.uniform(0.4, 1.5) * px]),
                                       px * 0.3)
        gray = degrade._as_uint8(gray.astype(np.float32)
                                 - degrade._across(gray, band * float(rng.uniform(40, 90)), True))
        out, _dpi = degrade.rescale(gray, rng, sim.PRINT_DPI, dpi_min=150, dpi_max=250)
        reading = read_page(_as_page(degrade.blur(out, rng, max_sigma_px=1.0)), layouts, KEY)
        problems = dict(reading.review)
        settled += [(seed, key, field["text"]) for key, field in reading.fields.items()
                    if key in NUMERIC_FIELDS_BY_KEY and field["value"] is not None and key not in problems]
    assert settled == []


def test_an_empty_slot_on_a_1_bit_page_is_checked_on_paper(layouts, blank_sheet) -> None:
    """A light pen can leave nothing at a 1-bit scan's threshold: on the 1-bit copies with a dirty drum,
    5 signed slots read empty (0-0.4 mm² of ink left), the sheets invalid, and an invalid sheet names
    people in the notice. On a 1-bit page an empty slot goes to a person; on gray it stays empty."""
    layout = layouts[("rs1", 1)]
    page = blank_sheet[0].copy()
    rng = np.random.default_rng(116_700)
    for key in ("village_head", "group_member"):
        handwriting.draw_signature(page, sim._rect_px(blank_sheet[1], layout.boxes[key]), rng)
    gray, _ = degrade.rescale(degrade.to_gray(page), rng, sim.PRINT_DPI, dpi=200)
    on_gray = read_page(_as_page(gray), layouts, KEY)
    assert on_gray.signatures["first_secretary"]["state"] == "empty" and on_gray.validity == "invalid"
    buffer = io.BytesIO()
    Image.fromarray(degrade.to_bilevel(gray, 160)).convert("1").save(buffer, format="PNG")
    on_1bit = read_page(_decode_png(buffer.getvalue(), 1), layouts, KEY)
    assert on_1bit.bilevel
    assert on_1bit.signatures["first_secretary"]["state"] == "uncertain"
    assert ("first_secretary", BILEVEL_EMPTY_SLOT_REASON) in on_1bit.review
    assert on_1bit.validity != "invalid"
