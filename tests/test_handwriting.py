"""The pens and the scanner of simulated returns: reproducible, and doing what they say."""

from __future__ import annotations

import numpy as np
import pytest

from forms.errors import SimulationError
from generator import degrade
from generator import simulate as sim
from generator.digit_data import held_back_digits
from generator.handwriting import (
    PENS,
    PX_PER_MM_DEFAULT,
    STRAY_STROKE_LENGTH_MAX_MM,
    TICK_KINDS,
    blank_page,
    digit_box_specimen,
    draw_digit,
    draw_seal,
    draw_signature,
    draw_stray_mark,
    draw_tick,
    mnist_rows,
    pen_named,
    seal_centre_across,
    simulation_digit,
)

PPM = PX_PER_MM_DEFAULT
BOX = (100, 100, round(5 * PPM), round(5 * PPM))
SIGNATURE_AREA = (100, 300, round(45 * PPM), round(12 * PPM))
INK_MAX_LEVEL = 200


def ink_mask(page: np.ndarray) -> np.ndarray:
    return page.min(axis=2) < INK_MAX_LEVEL


def inside(mask: np.ndarray, rect: tuple[int, int, int, int]) -> np.ndarray:
    x, y, w, h = rect
    return mask[y:y + h, x:x + w]


def draw_everything(seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    page = blank_page(900, 600)
    draw_tick(page, BOX, "check", rng)
    draw_signature(page, SIGNATURE_AREA, rng)
    draw_seal(page, seal_centre_across(SIGNATURE_AREA, rng), rng)
    draw_digit(page, (300, 100, 70, 85), simulation_digit(7, rng), rng)
    return page


def test_same_seed_same_page_and_other_seed_other_page() -> None:
    assert np.array_equal(draw_everything(3), draw_everything(3))
    assert not np.array_equal(draw_everything(3), draw_everything(4))


@pytest.mark.parametrize("kind", TICK_KINDS)
def test_a_tick_leaves_ink_inside_its_box(kind: str) -> None:
    for seed in range(5):
        rng = np.random.default_rng(seed)
        page = blank_page(400, 400)
        draw_tick(page, BOX, kind, rng, off_centre=False)  # type: ignore[arg-type]
        ink = ink_mask(page)
        box_ink = inside(ink, BOX)
        # Most of the ink is in the box, and enough of it to be seen.
        assert box_ink.sum() >= 0.8 * ink.sum() if kind != "filled" else box_ink.sum() >= 0.6 * ink.sum()
        assert box_ink.mean() > (0.7 if kind == "filled" else 0.01)
        if kind == "dot":
            assert box_ink.mean() < 0.15


def test_an_off_centre_tick_still_touches_its_box() -> None:
    for seed in range(10):
        page = blank_page(400, 400)
        draw_tick(page, BOX, "check", np.random.default_rng(seed), off_centre=True)
        assert inside(ink_mask(page), BOX).sum() > 0


def test_pen_colour_is_the_pen_s() -> None:
    for pen in PENS:
        page = blank_page(400, 400)
        draw_tick(page, BOX, "filled", np.random.default_rng(1), pen=pen)
        centre = page[BOX[1] + BOX[3] // 2, BOX[0] + BOX[2] // 2].astype(int)
        blue_pen = pen.rgb[2] > pen.rgb[0] + 50
        assert (centre[2] > centre[0] + 30) == blue_pen


def test_a_signature_is_wide_and_stays_in_its_area() -> None:
    for seed in range(8):
        page = blank_page(900, 600)
        draw_signature(page, SIGNATURE_AREA, np.random.default_rng(seed))
        ys, xs = np.nonzero(ink_mask(page))
        # Even the shortest signature is two characters: several mm wide, never a dot.
        assert xs.max() - xs.min() > 8 * PPM
        assert ys.max() - ys.min() > 3 * PPM
        assert inside(ink_mask(page), SIGNATURE_AREA).sum() >= 0.9 * ink_mask(page).sum()


@pytest.mark.parametrize("kind", ["stroke", "speckle"])
def test_a_stray_mark_is_small(kind: str) -> None:
    for seed in range(8):
        page = blank_page(900, 600)
        draw_stray_mark(page, SIGNATURE_AREA, np.random.default_rng(seed), kind)  # type: ignore[arg-type]
        ys, xs = np.nonzero(ink_mask(page))
        assert xs.size > 0
        extent = max(xs.max() - xs.min(), ys.max() - ys.min())
        assert extent <= (STRAY_STROKE_LENGTH_MAX_MM + 1.0) * PPM * (1.6 if kind == "speckle" else 1.0)


def test_a_seal_is_red_and_the_signature_shows_through() -> None:
    rng = np.random.default_rng(11)
    page = blank_page(900, 700)
    draw_signature(page, SIGNATURE_AREA, rng, pen=PENS[2])
    before = ink_mask(page)
    draw_seal(page, (SIGNATURE_AREA[0] + SIGNATURE_AREA[2] / 2, SIGNATURE_AREA[1] + SIGNATURE_AREA[3] / 2), rng)
    rgb = page.astype(int)
    red = (rgb[:, :, 0] > rgb[:, :, 1] + 40) & (rgb[:, :, 0] > rgb[:, :, 2] + 40)
    assert red.sum() > 2000
    # Multiplicative ink: every black stroke is still dark under the red.
    assert (rgb[before].max(axis=1) < 120).mean() > 0.6


def test_digit_is_drawn_inside_its_comb_box() -> None:
    rng = np.random.default_rng(2)
    rect = (200, 200, round(6 * PPM), round(8 * PPM))
    page = blank_page(600, 600)
    draw_digit(page, rect, simulation_digit(4, rng), rng)
    ink = ink_mask(page)
    assert inside(ink, rect).sum() >= 0.95 * ink.sum() > 0


def test_reserved_mnist_rows_are_refused() -> None:
    with pytest.raises(SimulationError):
        mnist_rows(range(340, 401))
    with pytest.raises(SimulationError):
        mnist_rows(range(450, 500))


def test_simulation_digits_come_from_the_held_back_bank() -> None:
    images, labels, _indices = held_back_digits()
    rng = np.random.default_rng(0)
    for digit in (0, 5, 9):
        image = simulation_digit(digit, rng)
        assert any(np.array_equal(image, other) for other in images[labels == digit])


def test_digit_box_specimen_holds_the_box() -> None:
    rng = np.random.default_rng(5)
    crop = digit_box_specimen(None, rng, degrade_scan=False, box_mm=(6.0, 8.0))
    assert abs(crop.shape[1] - 6 * PPM) <= 1 and abs(crop.shape[0] - 8 * PPM) <= 1
    assert crop[0].mean() < 128  # the printed top border is in the crop

def test_boxes_given_one_scan_seed_are_scanned_alike() -> None:
    """The field replay's boxes of one field share a scan: all 1-bit, or none."""
    rng = np.random.default_rng(11)
    bilevel_fields = 0
    for scan_seed in range(40):
        crops = [digit_box_specimen(None, rng, box_mm=(5.5, 7.5), dpi=200.0,
                                    scan_rng=np.random.default_rng(scan_seed)) for _ in range(3)]
        bilevel = [set(np.unique(crop).tolist()) <= {0, 255} for crop in crops]
        assert len(set(bilevel)) == 1, f"scan seed {scan_seed}: boxes scanned apart {bilevel}"
        bilevel_fields += bilevel[0]
    assert 2 <= bilevel_fields <= 20  # about a fifth of scans are 1-bit


# --- degrade ---------------------------------------------------------------

def marked_page() -> np.ndarray:
    page = blank_page(300, 200)
    page[10:30, 10:60] = 0  # a bar in the top-left corner
    return page


def test_quarter_turn_moves_the_corner_mark() -> None:
    page = marked_page()
    turned = degrade.rotate_quarter(page, 1)
    assert turned.shape == (300, 200, 3)
    # Counter-clockwise: the top-left bar goes to the bottom-left, now upright.
    ys, xs = np.nonzero(turned.min(axis=2) < 128)
    assert ys.min() >= 300 - 60 and xs.max() < 40
    assert ys.max() - ys.min() > xs.max() - xs.min()
    assert np.array_equal(degrade.rotate_quarter(turned, 3), page)


def test_skew_keeps_size_and_fills_with_paper() -> None:
    out = degrade.skew(degrade.to_gray(marked_page()), np.random.default_rng(0), angle_deg=4.0)
    assert out.shape == (200, 300)
    assert out[0, -1] == 255 and out[-1, 0] == 255


def test_rescale_changes_resolution() -> None:
    out, dpi = degrade.rescale(marked_page(), np.random.default_rng(0), 300, dpi=150)
    assert dpi == 150 and out.shape[:2] == (100, 150)


def test_bilevel_has_two_values() -> None:
    rng = np.random.default_rng(1)
    noisy = degrade.gaussian_noise(degrade.blur(marked_page(), rng), rng)
    for threshold in (None, 170):
        assert set(np.unique(degrade.to_bilevel(noisy, threshold))) <= {0, 255}


def test_photo_has_a_darker_table_around_the_sheet() -> None:
    photo = degrade.perspective_photo(blank_page(300, 400), np.random.default_rng(2))
    gray = degrade.to_gray(photo)
    assert gray.shape[0] > 400 and gray.shape[1] > 300
    assert gray[:5, :5].mean() < 160 and gray[gray.shape[0] // 2, gray.shape[1] // 2] > 200


def test_jpeg_noise_speckle_and_levels_change_the_page_a_little() -> None:
    rng = np.random.default_rng(3)
    page = degrade.to_gray(marked_page())
    for out in (degrade.jpeg(page, rng, quality=40), degrade.gaussian_noise(page, rng, sigma_levels=5),
                degrade.speckle(page, rng, density_per_mpx=20000), degrade.brightness_contrast(page, rng)):
        assert out.shape == page.shape and out.dtype == np.uint8
        assert 0 < np.abs(out.astype(int) - page).mean() < 40


def test_office_scan_is_reproducible() -> None:
    page = marked_page()
    a, dpi_a = degrade.office_scan(page, np.random.default_rng(7), 300)
    b, dpi_b = degrade.office_scan(page, np.random.default_rng(7), 300)
    assert dpi_a == dpi_b and np.array_equal(a, b)


def test_the_speed_set_profile_is_a_300_dpi_gray_scan() -> None:
    page = marked_page()
    image, dpi, info = sim.scan_page(page, np.random.default_rng(3), profile=sim.OFFICE_300_PROFILE, quarter_turns=0)
    assert dpi == 300 and info["profile"] == sim.OFFICE_300_PROFILE and image.ndim == 2
    scale = 300 / sim.PRINT_DPI
    assert abs(image.shape[0] - page.shape[0] * scale) <= 2 and abs(image.shape[1] - page.shape[1] * scale) <= 2


def test_a_bent_sheet_moves_in_the_middle_and_not_at_its_edges() -> None:
    """Phone photos of paper that does not lie flat: the corner markers stay where a homography puts them,
    the middle of the sheet does not (ocr.refine follows it on the printed boxes)."""
    page = np.full((400, 300), 255, np.uint8)
    page[195:205, :] = 0  # a line across the middle
    page[:, 145:155] = 0  # and one down it
    down = degrade.bend(page, 12.0, across=False)
    across = degrade.bend(page, 12.0, across=True)
    assert np.array_equal(down[:, 0], page[:, 0]) and np.array_equal(down[0], page[0])
    rows = np.flatnonzero(down[:, 210] < 128)  # the line across, seen 60 px right of the middle
    assert abs(rows.mean() - (199.5 - 12.0 * np.sin(np.pi * 210 / 300))) < 1.0
    cols = np.flatnonzero(across[100] < 128)  # the line down, a quarter of the way down
    assert abs(cols.mean() - (149.5 - 12.0 * np.sin(np.pi * 100 / 400))) < 1.0
    photo = sim.scan_page(np.full((600, 420, 3), 255, np.uint8), np.random.default_rng(3), profile="photo")[2]
    assert abs(photo["bow_mm"]) <= degrade.PHOTO_BOW_MAX_MM and isinstance(photo["bow_across"], bool)


def test_a_scanner_s_automatic_1_bit_threshold_can_drop_a_light_pen_that_the_fixed_one_keeps() -> None:
    """The ``bilevel_otsu`` profile: a black-and-white scan at the scanner's own threshold (Otsu's). On a
    page of black print it falls under a light-blue pen's level, so a light digit vanishes whole while a
    black one beside it stays; the random mix's fixed threshold (170) keeps both."""
    ppm = sim.PRINT_PX_PER_MM
    page = blank_page(round(120 * ppm), round(80 * ppm))
    for row in range(8):  # a form's black print: table lines and a heading bar
        y = round((10 + 12 * row) * ppm)
        page[y : y + 2, round(5 * ppm) : round(75 * ppm)] = 0
    page[round(2 * ppm) : round(6 * ppm), round(5 * ppm) : round(75 * ppm)] = 0
    light_blue, black = pen_named("light_blue"), pen_named("black")
    light_box = (round(20 * ppm), round(40 * ppm), round(6 * ppm), round(8 * ppm))
    black_box = (round(50 * ppm), round(40 * ppm), round(6 * ppm), round(8 * ppm))
    for box, pen, seed in ((light_box, light_blue, 1), (black_box, black, 2)):
        rng = np.random.default_rng(seed)
        draw_digit(page, box, simulation_digit(4, rng), rng, pen=pen)

    def inked(profile: str, box: tuple[int, int, int, int]) -> int:
        image, dpi, info = sim.scan_page(page, np.random.default_rng(5), profile=profile, quarter_turns=0)
        assert info["bilevel"] and set(np.unique(image)) <= {0, 255}
        scale = dpi / sim.PRINT_DPI
        x, y, w, h = (round(v * scale) for v in box)
        grow = round(2 * ppm * scale)  # the scan's skew moves the box a little
        return int(np.count_nonzero(image[y - grow : y + h + grow, x - grow : x + w + grow] == 0))

    assert inked("bilevel", light_box) > 0 and inked("bilevel", black_box) > 0
    assert inked(sim.BILEVEL_OTSU_PROFILE, black_box) > 0
    assert inked(sim.BILEVEL_OTSU_PROFILE, light_box) < inked("bilevel", light_box) / 2
