"""Physical design of the record sheet: sizes the template is built with.

Only the template builder and the geometry measurer use these; the reader
never does, it loads the geometry measured from the rendered PDF
(``forms/layouts``), so a template edited in Word still reads right once
its layout is re-measured.
"""

from __future__ import annotations

PAGE_WIDTH_MM = 210.0
PAGE_HEIGHT_MM = 297.0
MARGIN_TOP_MM = 12.0
MARGIN_BOTTOM_MM = 10.0
MARGIN_SIDE_MM = 18.0
CONTENT_WIDTH_MM = PAGE_WIDTH_MM - 2 * MARGIN_SIDE_MM

# ArUco markers: the black square is MARKER_SIZE_MM; the image around it
# adds a white quiet zone so a dark table line can never touch it.
MARKER_SIZE_MM = 10.0
MARKER_QUIET_ZONE_MM = 2.0
MARKER_IMAGE_MM = MARKER_SIZE_MM + 2 * MARKER_QUIET_ZONE_MM
# Centre of each marker from the nearest paper edges (x from the left or
# right edge, y from the top or bottom edge): the marker then sits 11 mm
# from the edge, well inside any printer's printable area.
MARKER_CENTRE_INSET_MM = 16.0

# QR code incl. its 4-module quiet zone.
QR_SIZE_MM = 22.0
QR_QUIET_ZONE_MODULES = 4
QR_ERROR_CORRECTION = "M"
PRINTED_ID_FONT = "DejaVu Sans Mono"
PRINTED_ID_SIZE_PT = 8.0

# Boxes are drawn with lines (paragraph or table-cell borders: LibreOffice
# lays those out ~5x faster than pictures); their sizes are those of the
# line centres, read back from the PDF, and each kind is told apart by its
# size. BOX_IMAGE_DPI is only for simulated scans (generator.simulate).
TICK_BOX_MM = 6.0
DIGIT_BOX_W_MM = 5.5
DIGIT_BOX_H_MM = 7.5
BOX_LINE_MM = 0.35
SIGNATURE_H_MM = 16.0
SIGNATURE_W_MM = {"village_head": 50.0, "first_secretary": 50.0, "group_member": 64.0}
BOX_IMAGE_DPI = 300

# Fixed row heights (exact): a long value is shrunk or clipped inside its
# cell and can never push the boxes below it.
HEADER_ROW_MM = 11.0
SECTION_HEAD_ROW_MM = 6.5
INDICATOR_ROW_MM = 8.0
NUMBER_LABEL_ROW_MM = 6.0
NUMBER_COMB_ROW_MM = 10.0
TOP_BLOCK_ROW_MM = QR_SIZE_MM + 1.0
RECT_ROW_MM = 14.0

BODY_FONT = "宋体"
TITLE_FONT = "宋体"
BODY_SIZE_PT = 10.0
SMALL_SIZE_PT = 9.0
TITLE_SIZE_PT = 16.0

# Sponsor-unit names: the cell holds this many characters per line at the
# full size; longer lists get a smaller font, down to the minimum.
UNIT_CELL_W_MM = 48.0
UNIT_FONT_MIN_PT = 6.0
