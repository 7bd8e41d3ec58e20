"""Numbers as people write them, read from the real record sheet's comb boxes.

Each test draws onto a blank 300 dpi page at the positions of the printed
layout (rs1 page 1), with the comb boxes printed as the sheet prints them,
and reads the page through ``ocr.numbers.read_numbers``, as a scan is read.
The digits come from the held-back bank, which the model never trained on.
"""

from __future__ import annotations

from functools import lru_cache

import cv2
import numpy as np
import pytest

from forms.geometry import PageLayout, load_layout
from forms.record_sheet import NUMERIC_FIELDS
from generator import degrade
from generator.digit_data import held_back_digits
from generator.handwriting import PENS, Pen, blank_page, composite_ink, pen_named
from ocr.align import Alignment
from ocr.digits import read_digit
from ocr.numbers import (
    BILEVEL_BLANK_REASON,
    BILEVEL_FADING_PEN_REASON,
    BILEVEL_FADING_PEN_SCRAP_BOXES_MIN,
    BILEVEL_LIGHT_LINES_REASON,
    BILEVEL_NO_DECIMAL_REASON,
    BILEVEL_ONE_DIGIT_REASON,
    CHECK_PERCENT_RANGE,
    CHECK_PERCENT_SUM,
    CHECK_POPULATION,
    CHECK_POVERTY_FUND,
    NumberResult,
    check_numbers,
    check_poverty_fund,
    population_breaches,
    read_numbers,
)

PPM = 300 / 25.4
LINE_MM = 0.3
# The default pen: the light-blue pen drawn at full opacity (gray about 123), darker than any 1-bit
# threshold the tests below use unless they name a pen.
BLACK = PENS[0]


@lru_cache(maxsize=1)
def layout() -> PageLayout:
    return load_layout("rs1", 1)


def empty_sheet() -> np.ndarray:
    """The page with every comb box of the number fields printed, and nothing written."""
    lay = layout()
    page = blank_page(round(lay.page_size_mm[0] * PPM), round(lay.page_size_mm[1] * PPM))
    line = max(1, round(LINE_MM * PPM))
    for field in NUMERIC_FIELDS:
        for key in field.digit_boxes:
            r = lay.boxes[key]
            x0, y0 = round(r.x_mm * PPM), round(r.y_mm * PPM)
            x1, y1 = round((r.x_mm + r.w_mm) * PPM), round((r.y_mm + r.h_mm) * PPM)
            cv2.rectangle(page, (x0, y0), (x1, y1), (0, 0, 0), thickness=line)
    return page


def read(page: np.ndarray, bilevel: bool = False) -> dict[str, NumberResult]:
    gray = degrade.to_gray(page)
    alignment = Alignment(np.diag([PPM, PPM, 1.0]), 0.0, 4, PPM)
    results, _comb_cut = read_numbers(gray, alignment, layout(), bilevel=bilevel)
    return {r.key: r for r in results}


def digit_ink(digit: int, height_px: int, pick: int = 0) -> np.ndarray:
    """Coverage (0..1) of a held-back ``digit``, cut to its ink and scaled to ``height_px``."""
    images, labels, _ = held_back_digits()
    image = images[np.flatnonzero(labels == digit)[pick]].astype(np.float32)
    rows, cols = np.nonzero(image > 30)
    image = image[rows.min():rows.max() + 1, cols.min():cols.max() + 1]
    width = max(1, round(image.shape[1] * height_px / image.shape[0]))
    return np.clip(cv2.resize(image, (width, height_px), interpolation=cv2.INTER_CUBIC) / 255.0, 0, 1)


def write(page: np.ndarray, box_key: str, digit: int, pick: int = 0, top_mm: float | None = None,
          pen: Pen = BLACK) -> None:
    """A digit in the box, centred, 70% of the box high; ``top_mm`` puts its top that far below the box top."""
    r = layout().boxes[box_key]
    ink = digit_ink(digit, round(0.7 * r.h_mm * PPM), pick)
    top = r.y_mm + (0.15 * r.h_mm if top_mm is None else top_mm)
    x = round((r.x_mm + r.w_mm / 2) * PPM - ink.shape[1] / 2)
    composite_ink(page, ink, (x, round(top * PPM)), pen.rgb, 1.0 if pen is BLACK else pen.opacity)


def readable_picks(digit: int, count: int) -> list[int]:
    """Bank rows of ``digit`` that the reader gets right in a plain box: the tests are about placement."""
    picks = []
    for pick in range(60):
        page = empty_sheet()
        write(page, "visited_satisfied.d2", digit, pick)
        if read(page)["visited_satisfied"].value == digit:
            picks.append(pick)
            if len(picks) == count:
                return picks
    raise AssertionError(f"too few held-back {digit}s are read right")


@pytest.fixture(scope="module")
def twos_and_sevens() -> tuple[list[int], list[int]]:
    return readable_picks(2, 3), readable_picks(7, 3)


def test_left_aligned_and_centred_numbers_read_as_written(twos_and_sevens: tuple[list[int], list[int]]) -> None:
    twos, sevens = twos_and_sevens
    for two, seven in zip(twos, sevens):
        page = empty_sheet()
        write(page, "visited_satisfied.d0", 2, two)
        write(page, "visited_satisfied.d1", 7, seven)
        write(page, "satisfaction_pct.d1", 2, two)
        write(page, "satisfaction_pct.d2", 7, seven)
        write(page, "poverty_fund.d1", 2, two)
        write(page, "poverty_fund.d2", 7, seven)
        results = read(page)
        assert (results["visited_satisfied"].value, results["visited_satisfied"].problem) == (27, None)
        assert (results["satisfaction_pct"].value, results["satisfaction_pct"].problem) == (27, None)
        assert (results["poverty_fund"].value, results["poverty_fund"].problem) == (27, None)
        assert results["project_funds"].blank


def test_a_gap_between_digits_goes_to_review(twos_and_sevens: tuple[list[int], list[int]]) -> None:
    twos, sevens = twos_and_sevens
    page = empty_sheet()
    write(page, "visited_satisfied.d0", 2, twos[0])
    write(page, "visited_satisfied.d2", 7, sevens[0])
    result = read(page)["visited_satisfied"]
    assert result.value is None and result.problem is not None and result.text == "2_7"


def test_a_seven_touching_the_comb_top_keeps_its_bar(twos_and_sevens: tuple[list[int], list[int]]) -> None:
    _twos, sevens = twos_and_sevens
    values = []
    for seven in sevens:
        for top_mm in (-0.1, 0.0, 0.1):
            # The bar's top on the printed line, or just across or under it.
            page = empty_sheet()
            write(page, "visited_satisfied.d2", 7, seven, top_mm=top_mm)
            result = read(page)["visited_satisfied"]
            # Read as a 7 (a 7 that lost its bar reads as 1), accepted or, when not sure enough, reviewed.
            assert result.text == "__7" and result.value in (7, None), (seven, top_mm, result)
            assert (result.value is None) == (result.problem is not None)
            values.append(result.value)
    assert values.count(7) >= len(values) // 2, values


def test_a_seven_dropping_below_the_box_is_still_a_seven(twos_and_sevens: tuple[list[int], list[int]]) -> None:
    _twos, sevens = twos_and_sevens
    r = layout().boxes["visited_satisfied.d2"]
    values = []
    for seven in sevens:
        page = empty_sheet()
        # Its tail 1.2 mm past the bottom line.
        write(page, "visited_satisfied.d2", 7, seven, top_mm=r.h_mm + 1.2 - 0.7 * r.h_mm)
        result = read(page)["visited_satisfied"]
        assert result.value in (7, None) and (result.value is None) == (result.problem is not None)
        values.append(result.value)
    # A curled 7 with its tail cut off can look like a 2: review, never a wrong digit.
    assert values.count(7) >= 2, values


def smudge(page: np.ndarray, box_key: str, rng: np.random.Generator, darkness: float, size_mm: float) -> None:
    """A soft gray blob, as a dirty finger leaves one, somewhere in the box."""
    r = layout().boxes[box_key]
    cx = (r.x_mm + r.w_mm / 2 + rng.uniform(-1, 1)) * PPM
    cy = (r.y_mm + r.h_mm / 2 + rng.uniform(-1.5, 1.5)) * PPM
    blob = np.zeros(page.shape[:2], np.float32)
    axes = (round(size_mm * PPM / 2), round(size_mm * PPM / 2 * rng.uniform(0.5, 1.0)))
    cv2.ellipse(blob, (round(cx), round(cy)), axes, float(rng.uniform(0, 180)), 0, 360, 1.0, -1)
    blob = cv2.GaussianBlur(blob, (0, 0), size_mm * PPM / 4)
    composite_ink(page, blob / blob.max() * darkness, (0, 0), (90, 90, 90), 1.0)


@pytest.mark.parametrize("bilevel", [False, True])
def test_a_smudge_in_an_empty_box_is_never_a_digit(bilevel: bool) -> None:
    """The held-out test read a smudge as 4 at 0.999: 506.7 became 4506.7."""
    rng = np.random.default_rng(16)
    lay = layout()
    r = lay.boxes["poverty_fund.d0"]
    margin = round(3 * PPM)
    x0, y0 = round(r.x_mm * PPM) - margin, round(r.y_mm * PPM) - margin
    x1, y1 = round((r.x_mm + r.w_mm) * PPM) + margin, round((r.y_mm + r.h_mm) * PPM) + margin
    for darkness in (0.25, 0.4, 0.6, 0.8):
        for size_mm in (2.0, 3.5, 5.0):
            page = empty_sheet()
            smudge(page, "poverty_fund.d0", rng, darkness, size_mm)
            if bilevel:
                page = np.where(page < 190, 0, 255).astype(np.uint8)
            result = read(page)["poverty_fund"]
            # Blank or review; a value here is a digit made up from the smudge.
            assert result.value is None and result.text[0] in "_?", (darkness, size_mm, result)
            # The same box cut alone, as the classifier sees it.
            gray = degrade.to_gray(page)[y0 + margin:y1 - margin, x0 + margin:x1 - margin]
            assert read_digit(gray).value is None


def test_digits_crossed_by_copier_light_lines_are_read(twos_and_sevens: tuple[list[int], list[int]]) -> None:
    """A worn copier's low-ink lines (periodic, page-wide, either way) break a digit's strokes.

    Before the faded print was restored, 8 of these 32 fields went to review and one "27" was read as 21.
    """
    twos, sevens = twos_and_sevens
    for seed in range(16):
        page = empty_sheet()
        for k, key in enumerate(("visited_satisfied", "satisfaction_pct")):
            write(page, f"{key}.d1", 2, twos[(seed + k) % 3])
            write(page, f"{key}.d2", 7, sevens[(seed + k) % 3])
        page = degrade.low_ink_lines(page, np.random.default_rng(seed), PPM, vertical=bool(seed % 2))
        results = read(page)
        for key in ("visited_satisfied", "satisfaction_pct"):
            assert (results[key].value, results[key].problem) == (27, None), (seed, key, results[key])


def _pressed_in_part(page: np.ndarray, box_key: str, digit: int, pick: int, from_ratio: float) -> None:
    """``digit`` in a light stroke, with the columns from ``from_ratio`` of its width over the next 30% dark:
    a downstroke pressed hard, or a copier's roller band over part of the digit."""
    r = layout().boxes[box_key]
    ink = digit_ink(digit, round(0.7 * r.h_mm * PPM), pick)
    origin = (round((r.x_mm + r.w_mm / 2) * PPM - ink.shape[1] / 2), round((r.y_mm + 0.15 * r.h_mm) * PPM))
    composite_ink(page, ink, origin, (180, 180, 180), 1.0)
    dark = np.zeros_like(ink)
    first = round(from_ratio * ink.shape[1])
    dark[:, first:first + max(2, round(0.3 * ink.shape[1]))] = ink[:, first:first + max(2, round(0.3 * ink.shape[1]))]
    composite_ink(page, dark, origin, BLACK.rgb, 1.0)


def test_a_four_whose_stem_alone_is_dark_is_never_read_as_the_one_its_stem_looks_like() -> None:
    """Fresh round of 2026-12-04: on a copy a roller band darkened a light 4's stem, the ink threshold
    (half the darkest ink) kept only the stem, and "4" was accepted as 1 at 0.997; a 7 and a 9 went so too.
    Here 45 light 4s with a dark part: the code before read 18 of them as 1, accepted. The digit is read
    again with the lighter ink joined to its strokes, and settled only when both readings agree; where
    they differ, the surer one is the guess the reviewer is shown."""
    wrong, guesses = [], []
    for pick in range(15):
        for from_ratio in (0.45, 0.55, 0.65):
            page = empty_sheet()
            _pressed_in_part(page, "visited_satisfied.d2", 4, pick, from_ratio)
            result = read(page)["visited_satisfied"]
            if result.value not in (None, 4):
                wrong.append((pick, from_ratio, result.text))
            if result.value is None and "最像" in (result.problem or ""):
                guesses.append((result.problem or "").split("最像 ")[1].rstrip("）"))
    assert not wrong
    assert guesses.count("__4") > len(guesses) / 2, guesses


def test_a_dust_speck_in_an_empty_box_leaves_it_empty(twos_and_sevens: tuple[list[int], list[int]]) -> None:
    """A speck of dust or toner (0.3-0.5 mm) in the empty box of "_27": on a gray scan the box is
    surely empty and 27 is accepted; on a 1-bit scan a speck may be all a light pen's digit left."""
    twos, sevens = twos_and_sevens
    black = pen_named("black")
    r = layout().boxes["visited_satisfied.d0"]
    for k, diameter_mm in enumerate((0.3, 0.4, 0.5)):
        page = empty_sheet()
        write(page, "visited_satisfied.d1", 2, twos[k], pen=black)
        write(page, "visited_satisfied.d2", 7, sevens[k], pen=black)
        centre = (round((r.x_mm + r.w_mm * (0.3 + 0.2 * k)) * PPM), round((r.y_mm + r.h_mm * 0.6) * PPM))
        cv2.circle(page, centre, round(diameter_mm / 2 * PPM), (20, 20, 20), thickness=-1)
        gray = read(page)["visited_satisfied"]
        assert (gray.value, gray.problem, gray.text) == (27, None, "_27"), (diameter_mm, gray)
        one_bit = read(np.where(degrade.to_gray(page) < 128, 0, 255).astype(np.uint8), bilevel=True)
        assert one_bit["visited_satisfied"].value is None and one_bit["visited_satisfied"].problem, diameter_mm


def test_a_1_bit_copy_whose_light_lines_cut_the_comb_sends_short_numbers_to_review(
        twos_and_sevens: tuple[list[int], list[int]]) -> None:
    """On a 1-bit copy a low-ink line cuts the printed comb clean through, and a digit it crosses may lose
    a stroke or vanish: "_27" is not settled there. The same 1-bit page without the lines is read as usual."""
    twos, sevens = twos_and_sevens
    black = pen_named("black")
    page = empty_sheet()
    write(page, "visited_satisfied.d1", 2, twos[0], pen=black)
    write(page, "visited_satisfied.d2", 7, sevens[0], pen=black)

    def one_bit(image: np.ndarray) -> np.ndarray:
        return np.where(degrade.to_gray(image) < 128, 0, 255).astype(np.uint8)

    clean = read(one_bit(page), bilevel=True)["visited_satisfied"]
    assert (clean.value, clean.problem) == (27, None)
    # Lines across (seeds 2, 6) and down (1, 3, 5) the page, each cutting the comb's printed lines.
    for seed in (1, 2, 3, 5, 6):
        lined = degrade.low_ink_lines(page, np.random.default_rng(seed), PPM, vertical=bool(seed % 2))
        result = read(one_bit(lined), bilevel=True)["visited_satisfied"]
        # The reading stays for the reviewer; the field is not settled.
        assert result.problem == BILEVEL_LIGHT_LINES_REASON, (seed, result)
        # On a gray copy the same lines are restored, and the number is read.
        gray = read(lined)["visited_satisfied"]
        assert (gray.value, gray.problem) == (27, None), (seed, gray)


def test_an_empty_field_on_a_1_bit_scan_goes_to_review(twos_and_sevens: tuple[list[int], list[int]]) -> None:
    """A light pen under a 1-bit scanner's threshold leaves nothing: "empty" there is never settled.

    On the benchmark's 1-bit copies, written fields read empty at certainty 1.0 were silently wrong.
    """
    twos, sevens = twos_and_sevens
    light_blue, black = pen_named("light_blue"), pen_named("black")
    page = empty_sheet()
    write(page, "visited_satisfied.d1", 2, twos[0], pen=light_blue)
    write(page, "visited_satisfied.d2", 7, sevens[0], pen=light_blue)
    write(page, "satisfaction_pct.d1", 2, twos[0], pen=black)
    write(page, "satisfaction_pct.d2", 7, sevens[0], pen=black)
    gray_results = read(page)
    assert gray_results["visited_satisfied"].text == "_27" and gray_results["satisfaction_pct"].text == "_27"
    assert gray_results["project_funds"].blank and gray_results["project_funds"].problem is None

    one_bit = np.where(degrade.to_gray(page) < 120, 0, 255).astype(np.uint8)
    results = read(one_bit, bilevel=True)
    # The light pen is gone from the scan: the field reads empty, and a person checks the paper.
    lost = results["visited_satisfied"]
    assert lost.blank and lost.value is None and lost.problem == BILEVEL_BLANK_REASON
    # So does a field nobody wrote in: on a 1-bit scan the reader cannot tell the two apart.
    assert results["project_funds"].problem == BILEVEL_BLANK_REASON
    # A field with ink is read as on any scan.
    assert results["satisfaction_pct"].text == "_27" and results["satisfaction_pct"].problem != BILEVEL_BLANK_REASON


def test_a_1_bit_reading_shaped_like_a_number_that_lost_a_digit_goes_to_review(
        twos_and_sevens: tuple[list[int], list[int]]) -> None:
    """A scanner's own 1-bit threshold can drop a light pen's thinner digits whole while the rest read clearly
    (45 read 5, 12.4 read 12): on a 1-bit page a one-digit number, or an amount without its decimal, is checked
    on paper. Two digits or more, with the decimal where there is one, are settled as on any scan."""
    twos, sevens = twos_and_sevens
    light_blue, black = pen_named("light_blue"), pen_named("black")
    page = empty_sheet()
    write(page, "satisfaction_pct.d1", 2, twos[0], pen=light_blue)
    write(page, "satisfaction_pct.d2", 7, sevens[0], pen=black)
    write(page, "poverty_fund.d1", 2, twos[0], pen=black)
    write(page, "poverty_fund.d2", 7, sevens[0], pen=black)
    write(page, "poverty_fund.f0", 7, sevens[1], pen=light_blue)
    write(page, "visited_satisfied.d1", 2, twos[1], pen=black)
    write(page, "visited_satisfied.d2", 7, sevens[1], pen=black)
    write(page, "project_funds.d2", 2, twos[2], pen=black)
    write(page, "project_funds.d3", 7, sevens[2], pen=black)
    write(page, "project_funds.f0", 2, twos[2], pen=black)
    write(page, "dissatisfaction_pct.d2", 2, twos[1], pen=black)
    gray = read(page)
    expected = {"satisfaction_pct": 27, "poverty_fund": 27.7, "visited_satisfied": 27, "project_funds": 27.2,
                "dissatisfaction_pct": 2}
    for key, value in expected.items():
        assert (gray[key].value, gray[key].problem) == (value, None), (key, gray[key])

    one_bit = read(np.where(degrade.to_gray(page) < 120, 0, 255).astype(np.uint8), bilevel=True)
    # The light pen's digits are gone; what is left would read with full confidence as 7 and 27.
    assert one_bit["satisfaction_pct"].text == "__7"
    assert one_bit["satisfaction_pct"].problem == BILEVEL_ONE_DIGIT_REASON
    assert one_bit["poverty_fund"].text == "_27_._"
    assert one_bit["poverty_fund"].problem == BILEVEL_NO_DECIMAL_REASON
    # A number really written with one digit cannot be told from one that lost a digit on such a page.
    assert one_bit["dissatisfaction_pct"].problem == BILEVEL_ONE_DIGIT_REASON
    for key in ("visited_satisfied", "project_funds"):
        assert (one_bit[key].value, one_bit[key].problem) == (expected[key], None), (key, one_bit[key])


def scrap(page: np.ndarray, box_key: str) -> None:
    """What a light pen leaves of a digit on a 1-bit scan: a short piece of one stroke, a quarter of the box high."""
    r = layout().boxes[box_key]
    x = round((r.x_mm + r.w_mm / 2) * PPM)
    top = round((r.y_mm + 0.4 * r.h_mm) * PPM)
    cv2.line(page, (x, top), (x + 3, top + round(0.25 * r.h_mm * PPM)), (0, 0, 0), thickness=round(0.5 * PPM))


def test_a_number_beside_blank_boxes_on_a_1_bit_page_of_fading_pen_goes_to_review(
        twos_and_sevens: tuple[list[int], list[int]]) -> None:
    """Where a light pen left only scraps of digits in several boxes of a 1-bit page, a digit beside a blank box
    may be gone altogether ("100" read "_0_" in the eighteenth pass): such a number is not settled there."""
    twos, sevens = twos_and_sevens
    page = empty_sheet()
    write(page, "satisfaction_pct.d1", 2, twos[0])
    write(page, "satisfaction_pct.d2", 7, sevens[0])
    scrap_boxes = ("poverty_fund.d1", "project_funds.d2", "visited_dissatisfied.d1", "dissatisfaction_pct.d2")

    def one_bit(image: np.ndarray) -> np.ndarray:
        return np.where(degrade.to_gray(image) < 128, 0, 255).astype(np.uint8)

    for scraps in range(BILEVEL_FADING_PEN_SCRAP_BOXES_MIN + 1):
        marked = page.copy()
        for box in scrap_boxes[:scraps]:
            scrap(marked, box)
        results = read(one_bit(marked), bilevel=True)
        assert sum("?" in r.text for r in results.values()) == scraps, (scraps, results)
        number = results["satisfaction_pct"]
        # The reading stays for the reviewer either way.
        assert number.text == "_27", (scraps, number)
        if scraps < BILEVEL_FADING_PEN_SCRAP_BOXES_MIN:
            assert (number.value, number.problem) == (27, None), (scraps, number)
        else:
            assert number.problem == BILEVEL_FADING_PEN_REASON, (scraps, number)
        # On a gray scan the pen is not fading out: the scraps are the boxes' own business.
        assert read(marked)["satisfaction_pct"].problem is None


def result(key: str, value: float | None) -> NumberResult:
    return NumberResult(key, value, 1.0, value is None, "" if value is None else f"{value:g}", None)


def test_checks_send_a_breach_to_review_named() -> None:
    over = {"satisfaction_pct": result("satisfaction_pct", 270.0)}
    check_numbers(over)
    assert over["satisfaction_pct"].problem == f"未通过核对规则「{CHECK_PERCENT_RANGE}」：读到 270"

    same = {"visited_satisfied": result("visited_satisfied", 40.0), "satisfaction_pct": result("satisfaction_pct", 90.0),
            "visited_dissatisfied": result("visited_dissatisfied", 40.0),
            "dissatisfaction_pct": result("dissatisfaction_pct", 17.0)}
    check_numbers(same)
    assert same["satisfaction_pct"].problem == same["dissatisfaction_pct"].problem
    assert CHECK_PERCENT_SUM in str(same["satisfaction_pct"].problem) and "90 + 17" in str(same["satisfaction_pct"].problem)
    # The values are never corrected, only held for a person.
    assert (same["satisfaction_pct"].value, same["dissatisfaction_pct"].value) == (90.0, 17.0)
    assert same["visited_satisfied"].problem is None

    # Different numbers of people asked: the rates have different bases, no check.
    different = dict(same, visited_dissatisfied=result("visited_dissatisfied", 12.0),
                     satisfaction_pct=result("satisfaction_pct", 90.0),
                     dissatisfaction_pct=result("dissatisfaction_pct", 17.0))
    check_numbers(different)
    assert all(r.problem is None for r in different.values())


def test_poverty_fund_below_ten_with_indicator_seven_ticked_yes_is_reviewed() -> None:
    low = {"poverty_fund": result("poverty_fund", 8.5)}
    check_poverty_fund(low, "yes")
    assert low["poverty_fund"].problem is not None and CHECK_POVERTY_FUND in low["poverty_fund"].problem
    assert low["poverty_fund"].value == 8.5
    for value, tick in ((8.5, "no"), (8.5, None), (12.0, "yes")):
        fine = {"poverty_fund": result("poverty_fund", value)}
        check_poverty_fund(fine, tick)
        assert fine["poverty_fund"].problem is None


def test_visited_counts_above_the_population_are_named() -> None:
    breaches = population_breaches({"visited_satisfied": 1200.0, "visited_dissatisfied": 35.0}, 860)
    assert list(breaches) == ["visited_satisfied"]
    assert CHECK_POPULATION in breaches["visited_satisfied"] and "860" in breaches["visited_satisfied"]
    assert population_breaches({"visited_satisfied": 1200.0}, None) == {}
