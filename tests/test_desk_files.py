"""Download names never leave their folder; upload names are reduced to something safe; scans are known by their first bytes."""

from __future__ import annotations

from pathlib import Path

import pytest

from ducha.desk.errors import Forbidden, NotFound
from ducha.desk.files import inside, safe_child, upload_name
from ducha.desk.routes_upload import scan_kind


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    (tmp_path / "notices").mkdir()
    (tmp_path / "notices" / "通报_2015-08_126号.pdf").write_bytes(b"%PDF-1.4")
    (tmp_path / "secret.key").write_text("00")
    return tmp_path


@pytest.mark.parametrize("name", ["../secret.key", "/etc/passwd", "..", ".", "a/../../secret.key", "..\\secret.key",
                                  "通报\x00.pdf", ".hidden", "通报/../../secret.key", ""])
def test_safe_child_refuses_anything_but_a_plain_name(tree: Path, name: str) -> None:
    with pytest.raises(Forbidden):
        safe_child(tree / "notices", name)


def test_safe_child_finds_a_plain_name(tree: Path) -> None:
    assert safe_child(tree / "notices", "通报_2015-08_126号.pdf").read_bytes() == b"%PDF-1.4"
    with pytest.raises(NotFound):
        safe_child(tree / "notices", "通报_2015-08_127号.pdf")


def test_inside_keeps_stored_paths_in_the_workspace(tree: Path) -> None:
    assert inside(tree, "notices/通报_2015-08_126号.pdf").name == "通报_2015-08_126号.pdf"
    assert inside(tree, str(tree / "secret.key")).name == "secret.key"  # absolute, but inside
    with pytest.raises(Forbidden):
        inside(tree / "notices", "../secret.key")
    with pytest.raises(Forbidden):
        inside(tree, "/etc/passwd")
    with pytest.raises(NotFound):
        inside(tree, None)


@pytest.mark.parametrize(("sent", "kept"), [
    ("扫描 001.pdf", "扫描_001.pdf"), ("../../etc/passwd", "passwd"), ("C:\\扫描\\第一组.tif", "第一组.tif"),
    ("..", "upload"), (".bashrc", "bashrc"), ("a;rm -rf.jpg", "a_rm_-rf.jpg"),
])
def test_upload_names(sent: str, kept: str) -> None:
    assert upload_name(sent) == kept


def test_scan_kinds_by_first_bytes() -> None:
    assert scan_kind(b"%PDF-1.7\n") == "PDF"
    assert scan_kind(b"II*\x00\x08\x00\x00\x00") == scan_kind(b"MM\x00*\x00\x00\x00\x08") == "TIFF"
    assert scan_kind(b"\xff\xd8\xff\xe0\x00\x10JF") == "JPEG"
    assert scan_kind(b"\x89PNG\r\n\x1a\n") == "PNG"
    for other in (b"PK\x03\x04\x14\x00", b"GIF89a\x01\x00", b"<html>", b"%!PS-Adobe", b""):
        assert scan_kind(other) is None
