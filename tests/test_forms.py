"""One engine for every form: a form described as data is printed, filled and read back.

The toy form below exists only in this test. It is printed through the
real template builder and LibreOffice, measured from its PDF, filled by
the simulator and read by ``ocr.reader.read_page``: nothing in ``ocr/``
knows it. The awareness survey goes the same way with its shipped layout.
"""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pypdfium2
import pytest

from forms.form_spec import Choice, ChoiceColumn, FormSpec, form_spec, register_form, typed_form_id
from forms.geometry import PageLayout, load_layout
from forms.record_sheet import NumericField, SignatureSlot
from forms.survey import SURVEY_FORM_TYPE
from generator import simulate as sim
from generator.form_simulate import fill_form_page, plan_form_page
from generator.form_template import FormData, build_form_template, measure_form, render_form
from generator.pdf_convert import convert_to_pdf
from ocr.align import align
from ocr.choices import classify_choices
from ocr.marks import classify_box
from ocr.pages import decode_jpeg
from ocr.reader import PageReading, read_page

KEY = b"forms-test-key-0123456789abcdef!"
DATA = FormData(
    round="2015-08", village_code="511902101201", county="巴州区", town="曾口镇", village="白庙村", group_label="第一组",
    round_label="2015年8月专项督查", sponsor_units=("市财政局",), secretary="张某", team_leader="李某",
)
TOY = FormSpec(
    form_type="toy1",
    title="测试用玩具表",
    file_label="玩具表",
    row_heading="行",
    rows=4,
    columns=(
        ChoiceColumn("colour", "颜色", (Choice("red", "红"), Choice("green", "绿"), Choice("blue", "蓝"), Choice("none", "无"))),
        ChoiceColumn("ok", "合格", (Choice("yes", "是"), Choice("no", "否"))),
    ),
    legend=("本表只在测试中使用。",),
    numeric_fields=(NumericField("weight", "重量（千克）", "amount", 3, 1),),
    signature_slots=(SignatureSlot("checker", "核对人", 1),),
    required_signatures=("checker",),
)


def _render_page(pdf: Path) -> np.ndarray:
    doc = pypdfium2.PdfDocument(str(pdf))
    try:
        bitmap = doc[0].render(scale=sim.PRINT_DPI / 72.0)
        bgr = bitmap.to_numpy()[:, :, :3].copy()
    finally:
        doc.close()
    return np.ascontiguousarray(bgr[:, :, ::-1])


def _print(spec: FormSpec, tmp: Path, template: Path | None) -> Path:
    docx = tmp / f"{spec.form_type}.docx"
    render_form(spec, DATA, KEY, docx, template)
    [pdf] = convert_to_pdf([docx], tmp, expected_pages={docx: 1})
    return pdf


def _fill_and_read(
    spec: FormSpec, layout: PageLayout, pdf: Path, seed: int, profile: str
) -> tuple[sim.PagePlan, PageReading]:
    page = _render_page(pdf)
    homography = align(cv2.cvtColor(page, cv2.COLOR_RGB2GRAY), layout).homography
    form_id = typed_form_id(DATA.round, DATA.village_code, spec.form_type)
    plan = plan_form_page(spec, layout, form_id, np.random.default_rng(seed))
    fill_form_page(page, homography, layout, spec, plan, np.random.default_rng(seed + 1))
    scanned, _dpi, _info = sim.scan_page(page, np.random.default_rng(seed + 2), profile=profile, quarter_turns=0)
    bgr = scanned if scanned.ndim == 2 else cv2.cvtColor(scanned, cv2.COLOR_RGB2BGR)
    ok, data = cv2.imencode(".jpg", bgr, [cv2.IMWRITE_JPEG_QUALITY, 90])
    assert ok
    reading = read_page(decode_jpeg(data.tobytes(), 1), {(spec.form_type, 1): layout}, KEY)
    return plan, reading


def _assert_read_back(spec: FormSpec, plan: sim.PagePlan, reading: PageReading) -> int:
    """Every value read is the truth or is sent to a person; returns how many were read right."""
    assert reading.rejected is None, reading.rejected
    assert (reading.round, reading.village_code, reading.layout) == (DATA.round, DATA.village_code, spec.form_type)
    review = {key for key, _reason in reading.review}
    right = 0
    for key, truth in plan.fields.items():
        got = reading.fields[key]["value"]
        if got == truth:
            right += 1
        else:
            assert key in review, (key, truth, got)
            assert got in ("uncertain", None) or reading.fields[key].get("problem"), (key, truth, got)
    for slot, state in plan.signatures.items():
        got = reading.signatures[slot]["state"]
        assert got == state or (got == "uncertain" and slot in review), (slot, state, got)
        assert not (state == "empty" and got == "signed")
    return right


@pytest.fixture(scope="module")
def toy_printed(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, PageLayout]:
    register_form(TOY)
    tmp = tmp_path_factory.mktemp("toy")
    template = build_form_template(TOY, tmp / "toy_template.docx")
    pdf = _print(TOY, tmp, template)
    return pdf, measure_form(TOY, pdf)


def test_a_toy_form_defined_only_here_is_printed_measured_filled_and_read(
    toy_printed: tuple[Path, PageLayout],
) -> None:
    pdf, layout = toy_printed
    # Measured from the PDF: 4 rows x (4 + 2) tick boxes, 4 digit boxes, one signature slot, each named.
    assert len([k for k in layout.boxes if k.startswith("r0")]) == 24
    assert {"r01_colour.red", "r04_ok.no", "weight.d0", "weight.f0", "checker"} <= set(layout.boxes)
    assert layout.boxes["r01_colour.green"].x_mm > layout.boxes["r01_colour.red"].x_mm
    assert layout.boxes["r02_colour.red"].y_mm > layout.boxes["r01_colour.red"].y_mm
    total = right = 0
    for seed in (3, 11):
        plan, reading = _fill_and_read(TOY, layout, pdf, seed, "office_gray")
        right += _assert_read_back(TOY, plan, reading)
        total += len(plan.fields)
        assert set(reading.fields) == {g.key for g in TOY.choice_groups} | {"weight"}
        if not {k for k, _ in reading.review} & {"checker"}:
            assert reading.validity == TOY.validity(plan.signatures)  # type: ignore[arg-type]
    assert right >= total - 1, (right, total)


def test_the_survey_is_read_back_with_its_shipped_layout(tmp_path: Path) -> None:
    spec = form_spec(SURVEY_FORM_TYPE)
    assert spec is not None
    layout = load_layout(SURVEY_FORM_TYPE, 1)
    assert len(layout.boxes) == 12 * (3 + 2 + 2 + 2 + 3) + 1
    pdf = _print(spec, tmp_path, None)
    for seed, profile in ((5, "colour"), (8, "office_gray")):
        plan, reading = _fill_and_read(spec, layout, pdf, seed, profile)
        right = _assert_read_back(spec, plan, reading)
        assert right >= len(plan.fields) - 1, (right, len(plan.fields))
        # No survey key appears in ocr/: the reading is keyed by the description.
        assert "r01_kind" in reading.fields and "r12_satisfaction" in reading.fields


def test_n_choice_rules_are_the_pair_rules() -> None:
    empty, tick, filled, unsure = classify_box(0.0, 0.0), classify_box(0.1, 0.1), classify_box(0.9, 0.95), classify_box(0.025, 0.0)
    values, labels = ("a", "b", "c"), ("甲", "乙", "丙")
    assert classify_choices([empty, tick, empty], values, labels).value == "b"
    assert classify_choices([filled, empty, tick], values, labels).value == "c"  # a filled box is a correction
    assert classify_choices([empty, empty, empty], values, labels).value == "blank"
    two = classify_choices([tick, empty, tick], values, labels)
    assert two.value == "uncertain" and two.reason == "“甲”、“丙”都打了勾"
    assert classify_choices([unsure, empty, empty], values, labels).value == "uncertain"
    # A speck's worth of ink beside one clear tick is not a second tick; beside a faint mark it is unsure.
    assert classify_choices([unsure, tick, empty], values, labels).value == "b"
    faint = classify_box(0.045, 0.0)
    assert faint.state == "marked"
    assert classify_choices([unsure, faint, empty], values, labels).value == "uncertain"
    assert classify_choices([unsure, tick, filled], values, labels).value == "uncertain"
