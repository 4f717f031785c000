"""QR code images, for enrolling an authenticator app by scanning its ``otpauth://`` URI.

Rendered by ``qrcode`` through its pure-Python PNG writer (pypng): no Pillow, no native code.
"""

from __future__ import annotations

import io
from typing import Final

import qrcode
import qrcode.constants
import qrcode.exceptions
from qrcode.image.pure import PyPNGImage

__all__ = ["QR_BORDER_MODULES", "QR_MODULE_PIXELS", "qr_png"]

# 8 pixels per module: an otpauth URI (~100 characters, a 41-module code) makes a 392-pixel
# image, sharp on a phone screen and easy for another phone's camera to read off a monitor.
QR_MODULE_PIXELS: Final = 8
# The quiet zone the QR standard asks for; scanners fail more often without it.
QR_BORDER_MODULES: Final = 4


def qr_png(text: str) -> bytes:
    """A black-on-white QR code of the text, as PNG bytes.

    The error correction level is M (15% of the code may be damaged or covered), the usual
    choice for a code shown on a screen.

    Raises:
        ValueError: the text is empty, or too long for any QR code (about 2,300 bytes at M).
    """
    if not text:
        raise ValueError("a QR code needs some text")
    code = qrcode.QRCode(
        error_correction=qrcode.constants.ERROR_CORRECT_M,
        box_size=QR_MODULE_PIXELS,
        border=QR_BORDER_MODULES,
    )
    code.add_data(text)
    try:
        code.make(fit=True)
    except (qrcode.exceptions.DataOverflowError, ValueError) as exc:
        # fit=True runs past version 40 with a ValueError rather than a DataOverflowError.
        raise ValueError("the text is too long for a QR code") from exc
    image = code.make_image(image_factory=PyPNGImage)
    buffer = io.BytesIO()
    image.save(buffer)
    return buffer.getvalue()
