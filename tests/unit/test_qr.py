"""QR code PNGs for authenticator enrolment, read back as a phone would.

Two readings: zxing-cpp (the decoder inside many phone apps; a small wheel with no dependencies)
scans the PNG back to its text, and pypng reads it pixel by pixel so the grid of modules can be
compared with the matrix qrcode computed (size, quiet zone, colours, every module).
"""

from __future__ import annotations

import png
import pytest
import qrcode
import qrcode.constants
import zxingcpp

from bot.dialogs.accounts.qr import QR_BORDER_MODULES, QR_MODULE_PIXELS, qr_png
from core.accounts.otp import provisioning_uri

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
URI = "otpauth://totp/casebot:ana.demo%40example.com?secret=JBSWY3DPEHPK3PXP&issuer=casebot"


def _pixels(data: bytes) -> list[list[bool]]:
    """The image as rows of booleans, True for dark."""
    width, height, rows, info = png.Reader(bytes=data).asDirect()
    assert info["greyscale"]
    assert not info["alpha"]
    middle = 2 ** info["bitdepth"] // 2
    grid = [[value < middle for value in row] for row in rows]
    assert len(grid) == height
    assert all(len(row) == width for row in grid)
    return grid


def _scan(data: bytes) -> list[str]:
    """The texts a QR scanner reads off the image."""
    pixels = _pixels(data)
    grey = bytearray(0 if dark else 255 for row in pixels for dark in row)
    image = memoryview(grey).cast("B", shape=[len(pixels), len(pixels[0])])
    return [
        found.text
        for found in zxingcpp.read_barcodes(image)
        if found.format == zxingcpp.BarcodeFormat.QRCode
    ]


def _modules(pixels: list[list[bool]]) -> list[list[bool]]:
    """The grid of modules, read at each module's centre, without the quiet zone."""
    size = len(pixels) // QR_MODULE_PIXELS - 2 * QR_BORDER_MODULES
    offset = QR_BORDER_MODULES * QR_MODULE_PIXELS + QR_MODULE_PIXELS // 2
    return [
        [pixels[offset + r * QR_MODULE_PIXELS][offset + c * QR_MODULE_PIXELS] for c in range(size)]
        for r in range(size)
    ]


def _expected_modules(text: str) -> list[list[bool]]:
    code = qrcode.QRCode(error_correction=qrcode.constants.ERROR_CORRECT_M, border=0)
    code.add_data(text)
    code.make(fit=True)
    return [[bool(module) for module in row] for row in code.get_matrix()]


def test_the_image_is_a_png() -> None:
    assert qr_png(URI).startswith(PNG_SIGNATURE)


def test_the_image_is_square_with_a_quiet_zone_and_phone_sized() -> None:
    pixels = _pixels(qr_png(URI))
    side = len(pixels)

    assert side == len(pixels[0])
    assert side % QR_MODULE_PIXELS == 0
    assert 250 <= side <= 600  # big enough to scan off a screen, small enough for a chat
    quiet = QR_BORDER_MODULES * QR_MODULE_PIXELS
    for row in pixels[:quiet] + pixels[-quiet:]:
        assert not any(row)
    for row in pixels:
        assert not any(row[:quiet])
        assert not any(row[-quiet:])


def test_a_scanner_reads_the_text_back() -> None:
    assert _scan(qr_png(URI)) == [URI]


def test_the_image_reads_back_as_the_qr_code_of_the_text() -> None:
    modules = _modules(_pixels(qr_png(URI)))

    assert modules == _expected_modules(URI)


def test_the_three_finder_patterns_are_in_the_corners() -> None:
    modules = _modules(_pixels(qr_png(URI)))
    ring = [True] * 7
    for top, left in [(0, 0), (0, len(modules) - 7), (len(modules) - 7, 0)]:
        square = [row[left : left + 7] for row in modules[top : top + 7]]
        assert square[0] == ring
        assert square[6] == ring
        assert square[3] == [True, False, True, True, True, False, True]


def test_different_texts_give_different_images() -> None:
    other = URI.replace("JBSWY3DPEHPK3PXP", "KRSXG5CTMVRXEZLU")

    assert qr_png(URI) != qr_png(other)
    assert _scan(qr_png(other)) == [other]


def test_the_same_text_gives_the_same_image() -> None:
    assert qr_png(URI) == qr_png(URI)


def test_a_real_provisioning_uri_with_a_non_latin_label_renders() -> None:
    uri = provisioning_uri("JBSWY3DPEHPK3PXP", "ана@пример.рф")

    assert _scan(qr_png(uri)) == [uri]


def test_empty_and_oversized_texts_are_refused() -> None:
    with pytest.raises(ValueError, match="needs some text"):
        qr_png("")
    with pytest.raises(ValueError, match="too long"):
        qr_png("x" * 5000)
