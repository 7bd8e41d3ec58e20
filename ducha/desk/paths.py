"""Where the desk's own files are."""

from pathlib import Path

DESK_DIR = Path(__file__).resolve().parent
TEMPLATES_DIR = DESK_DIR / "templates"
STATIC_DIR = DESK_DIR / "static"
