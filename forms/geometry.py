"""Where things are on a printed sheet, as measured from the rendered PDF.

Coordinates are millimetres with the origin at the centre of the top-left
corner marker, x to the right and y down, so they do not depend on the
printer's page offset. The generator measures a layout with pdfplumber and
stores it as JSON under ``forms/layouts/``; the reader loads it.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path

from forms.errors import FormDefinitionError

LAYOUTS_DIR = Path(__file__).resolve().parent / "layouts"
LAYOUT_TOLERANCE_MM = 0.5

# Corner markers are ArUco 4x4 markers; the id tells the reader which
# corner it sees, and so the page's orientation.
MARKER_DICTIONARY = "DICT_4X4_50"
MARKER_IDS = {"top_left": 0, "top_right": 1, "bottom_right": 2, "bottom_left": 3}


@dataclass(frozen=True)
class Rect:
    x_mm: float
    y_mm: float
    w_mm: float
    h_mm: float

    @property
    def centre_mm(self) -> tuple[float, float]:
        return self.x_mm + self.w_mm / 2, self.y_mm + self.h_mm / 2

    def distance_mm(self, other: Rect) -> float:
        return max(
            abs(self.x_mm - other.x_mm),
            abs(self.y_mm - other.y_mm),
            abs(self.w_mm - other.w_mm),
            abs(self.h_mm - other.h_mm),
        )


@dataclass
class PageLayout:
    """One page kind of one layout version (e.g. ``rs1`` page 1)."""

    version: str
    page: int
    page_size_mm: tuple[float, float]
    # Marker centres, same frame (so top_left is (0, 0)), and marker size.
    markers: dict[str, tuple[float, float]]
    marker_size_mm: float
    qr: Rect
    printed_id: Rect
    # Tick boxes, digit boxes, signature areas, keyed as in record_sheet.
    boxes: dict[str, Rect] = field(default_factory=dict)

    def to_json(self) -> str:
        return json.dumps(asdict(self), ensure_ascii=False, indent=1, sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> PageLayout:
        data = json.loads(text)
        return cls(
            version=data["version"],
            page=data["page"],
            page_size_mm=tuple(data["page_size_mm"]),  # type: ignore[arg-type]
            markers={k: tuple(v) for k, v in data["markers"].items()},  # type: ignore[misc]
            marker_size_mm=data["marker_size_mm"],
            qr=Rect(**data["qr"]),
            printed_id=Rect(**data["printed_id"]),
            boxes={k: Rect(**v) for k, v in data["boxes"].items()},
        )

    def differences_mm(self, other: PageLayout) -> dict[str, float]:
        """Keys whose rectangles differ by more than the tolerance."""
        out: dict[str, float] = {}
        for key in set(self.boxes) | set(other.boxes):
            if key not in self.boxes or key not in other.boxes:
                out[key] = float("inf")
                continue
            d = self.boxes[key].distance_mm(other.boxes[key])
            if d > LAYOUT_TOLERANCE_MM:
                out[key] = d
        for name in set(self.markers) | set(other.markers):
            a, b = self.markers.get(name), other.markers.get(name)
            if a is None or b is None:
                out[f"marker:{name}"] = float("inf")
                continue
            d = max(abs(a[0] - b[0]), abs(a[1] - b[1]))
            if d > LAYOUT_TOLERANCE_MM:
                out[f"marker:{name}"] = d
        return out


def layout_path(version: str, page: int, directory: Path = LAYOUTS_DIR) -> Path:
    return directory / f"{version}-p{page}.json"


def load_layout(version: str, page: int, directory: Path = LAYOUTS_DIR) -> PageLayout:
    path = layout_path(version, page, directory)
    if not path.exists():
        raise FormDefinitionError(f"找不到版式 {version} 第{page}页的几何数据：{path}")
    return PageLayout.from_json(path.read_text(encoding="utf-8"))


def save_layout(layout: PageLayout, directory: Path = LAYOUTS_DIR) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    path = layout_path(layout.version, layout.page, directory)
    path.write_text(layout.to_json() + "\n", encoding="utf-8")
    return path
