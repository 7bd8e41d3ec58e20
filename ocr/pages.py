"""Pages out of scan files: PDFs, multi-page TIFFs, JPEGs and PNGs.

Pages are decoded one at a time, straight to the working resolution, so a
batch of any size keeps memory flat. A colour page is reduced to its red
channel: blue and black pen stay dark there while a red seal turns light,
which is how seals are removed by colour.
"""

from __future__ import annotations

import errno
import io
import os
import stat
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, Self

import cv2
import numpy as np
from PIL import Image

from ocr.errors import SourceError

# A page is read at about 6 px/mm (150 dpi); more only costs time.
READ_MIN_PX_PER_MM = 4.5
RENDER_DPI = 150
A4_LONG_SIDE_MM = 297.0
MM_PER_INCH = 25.4
# 600 dpi A3 is ~70 Mpx; beyond this a page is a decompression bomb.
MAX_PAGE_PIXELS = 120_000_000
# A page smaller than this on either side cannot hold a record sheet's markers and QR code
# (A4 at 150 dpi is 1240 x 1754); the reader's libraries fail on such images with their own English.
MIN_PAGE_SIDE_PX = 100
# Channels that differ by more than this somewhere make a page "colour".
COLOUR_CHANNEL_SPREAD_MIN = 40
BILEVEL_SAMPLE_STEP_PX = 7
SUPPORTED_SUFFIXES = (".pdf", ".tif", ".tiff", ".jpg", ".jpeg", ".png")

Kind = str  # "pdf" | "tiff" | "jpeg" | "png"


@dataclass
class PageImage:
    page_no: int  # from 1 within its source file
    gray: np.ndarray  # uint8, paper light, ink dark (red channel of a colour page)
    colour: bool
    px_per_mm_hint: float  # from the pixel size, assuming A4; alignment measures the real one
    bilevel: bool = False  # a black-and-white (1-bit) scan
    # Colour pages only: how much redder than green and blue each pixel is (0-255), at ``gray``'s size.
    # The red channel makes a red seal light, but not always light enough (a dim photo, JPEG's halved
    # colour); what is left of it is still red, while black and blue pens are not.
    redness: np.ndarray | None = None


def sniff_kind(path: Path) -> Kind:
    try:
        with open_regular(path) as handle:
            head = handle.read(8)
    except OSError as exc:
        raise SourceError(f"无法打开文件：{library_reason(exc)}") from exc
    if not head:
        raise SourceError("文件为空")
    if head.startswith(b"%PDF"):
        return "pdf"
    if head[:4] in (b"II*\x00", b"MM\x00*"):
        return "tiff"
    if head.startswith(b"\xff\xd8"):
        return "jpeg"
    if head.startswith(b"\x89PNG"):
        return "png"
    raise SourceError("不是 PDF、TIFF、JPEG 或 PNG 文件")


@dataclass
class Skipped:
    """An input that is not read, and why (shown by name in the scan notes)."""

    path: Path
    reason: str
    note_only: bool = False  # a dot file or a folder seen twice: noted, not counted as an input page


_KIND_NAMES = (
    (stat.S_ISFIFO, "命名管道（FIFO）"),
    (stat.S_ISSOCK, "套接字"),
    (stat.S_ISCHR, "字符设备"),
    (stat.S_ISBLK, "块设备"),
)


def _not_regular(mode: int) -> str | None:
    for test, name in _KIND_NAMES:
        if test(mode):
            return f"不是普通文件（{name}），不予读取"
    return None if stat.S_ISREG(mode) else "不是普通文件，不予读取"


def _stat_problem(path: Path) -> tuple[os.stat_result | None, str | None]:
    """The followed stat of an entry, or why it cannot be used (never opens it)."""
    try:
        return path.stat(), None
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            return None, "符号链接形成循环，无法读取"
        if exc.errno == errno.ENOENT:
            return None, "符号链接指向的文件不存在" if path.is_symlink() else "文件不存在"
        if exc.errno == errno.EACCES:
            return None, "没有读取权限"
        return None, f"无法访问：{exc.strerror or '未知错误'}"


def list_sources(paths: list[Path]) -> tuple[list[Path], list[Skipped]]:
    """Files named, and files found recursively in folders, in stable order.

    Anything that is not a regular file (FIFO, socket, device, dangling
    link, link loop, unreadable folder) is returned in ``skipped`` with its
    reason; none of them is ever opened, so a FIFO cannot hang the scan.
    A folder reached twice through links is walked once.
    """
    files: list[Path] = []
    skipped: list[Skipped] = []
    seen_dirs: set[tuple[int, int]] = set()

    def walk(folder: Path, info: os.stat_result) -> None:
        ident = (info.st_dev, info.st_ino)
        if ident in seen_dirs:
            skipped.append(Skipped(folder, "文件夹已经读过（符号链接指回上级或重复），不再重复读取", note_only=True))
            return
        seen_dirs.add(ident)
        try:
            entries = sorted(os.scandir(folder), key=lambda e: e.name)
        except OSError as exc:
            why = "没有读取权限" if exc.errno == errno.EACCES else f"无法读取：{exc.strerror or '未知错误'}"
            skipped.append(Skipped(folder, f"文件夹{why}，其中的文件未读取"))
            return
        for entry in entries:
            child = Path(entry.path)
            if entry.name.startswith("."):
                skipped.append(Skipped(child, "隐藏文件，已跳过", note_only=True))
                continue
            child_info, problem = _stat_problem(child)
            if child_info is None:
                skipped.append(Skipped(child, problem or "无法访问"))
            elif stat.S_ISDIR(child_info.st_mode):
                walk(child, child_info)
            elif (reason := _not_regular(child_info.st_mode)) is not None:
                skipped.append(Skipped(child, reason))
            else:
                files.append(child)

    for path in paths:
        info, problem = _stat_problem(path)
        if info is None:
            skipped.append(Skipped(path, problem or "无法访问"))
        elif stat.S_ISDIR(info.st_mode):
            walk(path, info)
        elif (reason := _not_regular(info.st_mode)) is not None:
            skipped.append(Skipped(path, reason))
        else:
            files.append(path)
    return files, skipped


def open_regular(path: Path) -> BinaryIO:
    """Open for reading only if it is a regular file: O_NONBLOCK so a FIFO swapped in never blocks."""
    fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
    try:
        reason = _not_regular(os.fstat(fd).st_mode)
        if reason is not None:
            raise SourceError(reason)
        os.set_blocking(fd, True)
        return os.fdopen(fd, "rb")
    except BaseException:
        os.close(fd)
        raise


def _reduction(width: int, height: int) -> int:
    px_per_mm = max(width, height) / A4_LONG_SIDE_MM
    factor = 1
    while factor < 8 and px_per_mm / (factor * 2) >= READ_MIN_PX_PER_MM:
        factor *= 2
    return factor


def _check_pixels(width: int, height: int) -> None:
    if width <= 0 or height <= 0:
        raise SourceError("图像尺寸为零")
    if width * height > MAX_PAGE_PIXELS:
        raise SourceError(f"图像过大（{width}×{height} 像素），为安全起见不予打开")
    if min(width, height) < MIN_PAGE_SIDE_PX:
        raise SourceError(f"图像过小（{width}×{height} 像素），不是纪实表的扫描件")


def _open_image(source: str | Path | io.BytesIO) -> Image.Image:
    """PIL's own size check replaced by ours (``MAX_PAGE_PIXELS``): one limit for every kind,
    and no English warning on the console for a large page that is within it."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", Image.DecompressionBombWarning)
        try:
            image = Image.open(source)
        except Image.DecompressionBombError as exc:
            raise SourceError("图像过大，为安全起见不予打开") from exc
    try:
        _check_pixels(*image.size)
    except SourceError:
        image.close()
        raise
    return image


def _is_colour(bgr: np.ndarray) -> bool:
    sample = bgr[::8, ::8].astype(np.int16)
    spread = np.max(sample, axis=2) - np.min(sample, axis=2)
    return bool(np.count_nonzero(spread > COLOUR_CHANNEL_SPREAD_MIN) > spread.size * 0.0005)


def _is_bilevel(gray: np.ndarray) -> bool:
    """Only pure black and pure white, before any reduction blends them."""
    sample = gray[::BILEVEL_SAMPLE_STEP_PX, ::BILEVEL_SAMPLE_STEP_PX]
    return bool(np.count_nonzero((sample > 0) & (sample < 255)) == 0 and np.count_nonzero(sample == 0) > 0)


def _finish(page_no: int, image: np.ndarray, rgb: bool = False, bilevel: bool | None = None) -> PageImage:
    """``image`` is gray, BGR(A) as OpenCV decodes, or RGB as PIL decodes when ``rgb``."""
    colour = False
    redness: np.ndarray | None = None
    if image.ndim == 3:
        if image.shape[2] == 4:
            image = image[:, :, :3]
        colour = _is_colour(image)
        if colour:
            red = np.ascontiguousarray(image[:, :, 0 if rgb else 2])
            redness = cv2.subtract(red, np.maximum(image[:, :, 1], image[:, :, 2 if rgb else 0]))
            image = red
        else:
            image = cv2.cvtColor(image, cv2.COLOR_RGB2GRAY if rgb else cv2.COLOR_BGR2GRAY)
    if image.dtype != np.uint8:
        image = np.clip(image.astype(np.float64) * (255.0 / max(float(image.max()), 1.0)), 0, 255).astype(np.uint8)
    if bilevel is None:
        bilevel = not colour and _is_bilevel(image)
    h, w = image.shape[:2]
    factor = _reduction(w, h)
    if factor > 1:
        image = cv2.resize(image, (w // factor, h // factor), interpolation=cv2.INTER_AREA)
        if redness is not None:
            redness = cv2.resize(redness, (w // factor, h // factor), interpolation=cv2.INTER_AREA)
    hint = max(image.shape) / A4_LONG_SIDE_MM
    return PageImage(page_no=page_no, gray=image, colour=colour, px_per_mm_hint=hint, bilevel=bilevel,
                     redness=redness)


def decode_jpeg(data: bytes, page_no: int) -> PageImage:
    """Decode straight to a reduced size; gray JPEGs stay gray."""
    try:
        with _open_image(io.BytesIO(data)) as probe:
            width, height = probe.size
            mode = probe.mode
    except SourceError:
        raise
    except Exception as exc:
        raise SourceError(f"JPEG 图像已损坏：{library_reason(exc)}") from exc
    factor = _reduction(width, height)
    buf = np.frombuffer(data, dtype=np.uint8)
    gray_mode = mode in ("L", "1")
    flags = {
        (1, True): cv2.IMREAD_GRAYSCALE,
        (2, True): cv2.IMREAD_REDUCED_GRAYSCALE_2,
        (4, True): cv2.IMREAD_REDUCED_GRAYSCALE_4,
        (8, True): cv2.IMREAD_REDUCED_GRAYSCALE_8,
        (1, False): cv2.IMREAD_COLOR,
        (2, False): cv2.IMREAD_REDUCED_COLOR_2,
        (4, False): cv2.IMREAD_REDUCED_COLOR_4,
        (8, False): cv2.IMREAD_REDUCED_COLOR_8,
    }[(factor, gray_mode)]
    image = cv2.imdecode(buf, flags)
    if image is None:
        raise SourceError("JPEG 图像无法解码")
    return _finish(page_no, image)


def _decode_png(data: bytes, page_no: int) -> PageImage:
    try:
        _open_image(io.BytesIO(data)).close()
    except SourceError:
        raise
    except Exception as exc:
        raise SourceError(f"PNG 图像已损坏：{library_reason(exc)}") from exc
    image = cv2.imdecode(np.frombuffer(data, dtype=np.uint8), cv2.IMREAD_UNCHANGED)
    if image is None:
        raise SourceError("PNG 图像无法解码")
    if image.ndim == 3 and image.shape[2] == 4:
        # Transparent pixels count as paper.
        alpha = image[:, :, 3:4].astype(np.float32) / 255.0
        image = (image[:, :, :3] * alpha + 255 * (1 - alpha)).astype(np.uint8)
    return _finish(page_no, image)


def _frame_to_page(frame: Image.Image, page_no: int) -> PageImage:
    """A PIL frame, reduced in PIL before it becomes an array: copying full-size pixels is the cost."""
    width, height = frame.size
    bilevel = frame.mode == "1"
    if frame.mode not in ("L", "RGB"):
        frame = frame.convert("L" if frame.mode in ("1", "P", "I;16", "I", "F", "LA") else "RGB")
    factor = _reduction(width, height)
    if factor > 1 and width % factor == 0 and height % factor == 0:
        # Whole blocks: the same box average as INTER_AREA. Other sizes are
        # resampled by OpenCV in _finish, so a page reads the same either way.
        frame = frame.reduce(factor)
    return _finish(page_no, np.asarray(frame), rgb=frame.mode == "RGB", bilevel=bilevel or None)


class PageSource:
    """One open scan file. Use as a context manager; pages are read lazily."""

    def __init__(self, path: Path):
        self.path = path
        self.kind = sniff_kind(path)
        self._pdf: object | None = None
        self._tiff: Image.Image | None = None
        self._data: bytes | None = None
        try:
            if self.kind == "pdf":
                import pypdfium2 as pdfium

                self._pdf = pdfium.PdfDocument(str(path))
            elif self.kind == "tiff":
                self._tiff = _open_image(path)
            else:
                self._data = path.read_bytes()
        except SourceError:
            self.close()
            raise
        except Exception as exc:
            self.close()
            raise SourceError(_open_reason(self.kind, exc)) from exc

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        if self._pdf is not None:
            self._pdf.close()  # type: ignore[attr-defined]
            self._pdf = None
        if self._tiff is not None:
            self._tiff.close()
            self._tiff = None

    def page_count(self) -> int:
        if self._pdf is not None:
            count = len(self._pdf)  # type: ignore[arg-type]
        elif self._tiff is not None:
            count = getattr(self._tiff, "n_frames", 1)
        else:
            count = 1
        if count == 0:
            raise SourceError("文件中没有任何页面")
        return int(count)

    def read(self, page_no: int) -> PageImage:
        try:
            if self._pdf is not None:
                return self._read_pdf(page_no)
            if self._tiff is not None:
                return self._read_tiff(page_no)
            assert self._data is not None
            if self.kind == "jpeg":
                return decode_jpeg(self._data, page_no)
            return _decode_png(self._data, page_no)
        except SourceError:
            raise
        except Exception as exc:
            raise SourceError(f"第{page_no}页无法解码：{library_reason(exc)}") from exc

    def _read_tiff(self, page_no: int) -> PageImage:
        assert self._tiff is not None
        self._tiff.seek(page_no - 1)
        _check_pixels(*self._tiff.size)
        return _frame_to_page(self._tiff, page_no)

    def _read_pdf(self, page_no: int) -> PageImage:
        import pypdfium2 as pdfium

        page = self._pdf[page_no - 1]  # type: ignore[index]
        try:
            objects = list(page.get_objects(max_depth=2))
            images = [o for o in objects if isinstance(o, pdfium.PdfImage)]
            if len(images) == 1 and len(objects) == 1:
                image = images[0]
                width, height = image.get_px_size()
                _check_pixels(width, height)
                if image.get_filters() == ["DCTDecode"]:
                    # The scanner's own JPEG, decoded at reduced size without re-rendering.
                    return decode_jpeg(bytes(image.get_data(decode_simple=False)), page_no)
                array = image.get_bitmap(render=False).to_numpy()
                if array.ndim == 3 and array.shape[2] == 1:
                    array = array[:, :, 0]
                return _finish(page_no, np.ascontiguousarray(array))
            w_pt, h_pt = page.get_size()
            scale = RENDER_DPI / 72.0
            _check_pixels(int(w_pt * scale), int(h_pt * scale))
            bitmap = page.render(scale=scale, grayscale=True, draw_annots=False)
            array = bitmap.to_numpy()
            if array.ndim == 3:
                array = array[:, :, 0] if array.shape[2] == 1 else cv2.cvtColor(array[:, :, :3], cv2.COLOR_BGR2GRAY)
            return _finish(page_no, np.ascontiguousarray(array))
        finally:
            page.close()


def _open_reason(kind: Kind, exc: Exception) -> str:
    reason = library_reason(exc)
    if kind == "pdf":
        if reason == PDF_ENCRYPTED_REASON:
            return reason
        return f"PDF 文件已损坏或不完整：{reason}"
    return f"{kind.upper()} 文件已损坏或无法识别：{reason}"


PDF_ENCRYPTED_REASON = "PDF 已加密，无法读取，请提供未加密的扫描件"
# Words in the (English) messages of PDFium, Pillow and OpenCV -> what they mean for the page.
# The library's own text never reaches the user: it cannot read it.
LIBRARY_REASONS = (
    ("password", PDF_ENCRYPTED_REASON),
    ("security", PDF_ENCRYPTED_REASON),
    ("data format error", "文件内容不是有效的 PDF 格式"),
    ("file access error", "文件无法读取"),
    ("page not found", "页面不存在或内容已损坏"),
    ("cannot identify image file", "无法识别的图像格式"),
    ("truncated", "文件不完整（可能传输中断）"),
    ("broken data stream", "图像数据已损坏"),
    ("not enough image data", "图像数据不完整"),
    ("decompression bomb", "图像过大，为安全起见不予打开"),
    ("unsupported", "不支持的图像编码"),
    ("unknown", "无法识别的文件内容"),
    ("assertion failed", "图像尺寸或格式异常，无法处理"),
    ("can be less or equal to 0", "图像尺寸异常，无法处理"),
    ("out of memory", "内存不足"),
)


OS_ERROR_REASONS = {errno.ENOENT: "文件不存在", errno.EACCES: "没有读取权限", errno.EPERM: "没有读取权限",
                    errno.EISDIR: "这是一个文件夹", errno.EIO: "读取出错（磁盘或设备故障）"}


def library_reason(exc: BaseException) -> str:
    """A PDFium, Pillow or OpenCV error as a short Chinese reason, without the library's English."""
    if isinstance(exc, SourceError):
        return str(exc)
    if isinstance(exc, MemoryError):
        return "内存不足"
    if isinstance(exc, OSError) and exc.errno in OS_ERROR_REASONS:
        return OS_ERROR_REASONS[exc.errno]
    text = str(exc).lower()
    for needle, reason in LIBRARY_REASONS:
        if needle in text:
            return reason
    if isinstance(exc, OSError):
        return "文件无法读取或已损坏"
    return "文件内容无法解析"


def iter_pages(path: Path, only: set[int] | None = None) -> Iterator[PageImage | SourceError]:
    """Yield each wanted page, or the error that stopped that page alone."""
    with PageSource(path) as source:
        for page_no in range(1, source.page_count() + 1):
            if only is not None and page_no not in only:
                continue
            try:
                yield source.read(page_no)
            except SourceError as exc:
                yield exc
