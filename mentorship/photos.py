"""Profile photos: checked, cropped to a square, re-encoded as JPEG without metadata.

Re-encoding means what we store is an image we made, not the upload: no EXIF
(location, camera serial), no polyglot files, a bounded size.
"""

import io
import secrets

from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from PIL import Image, ImageOps, UnidentifiedImageError

MAX_UPLOAD_BYTES = 5 * 1024 * 1024
SIDE = 400
FORMATS = {"JPEG", "PNG", "WEBP"}


def square_jpeg(upload) -> ContentFile:
    """The uploaded picture as a SIDE×SIDE JPEG, or a ValidationError saying what is wrong."""
    if upload.size > MAX_UPLOAD_BYTES:
        raise ValidationError("That photo is larger than 5 MB. Please choose a smaller one.")
    try:
        image = Image.open(upload)
        image_format = image.format
        if image_format not in FORMATS:
            raise ValidationError("Please upload a JPEG, PNG or WebP photo.")
        if image.width * image.height > 40_000_000:  # a decompression bomb would exhaust memory
            raise ValidationError("That photo has too many pixels. Please choose a smaller one.")
        image = ImageOps.exif_transpose(image).convert("RGB")
    except (UnidentifiedImageError, OSError, Image.DecompressionBombError):
        raise ValidationError("That file is not a photo we can read. Please upload a JPEG, PNG or WebP.") from None
    if min(image.size) < 100:
        raise ValidationError("That photo is too small: it should be at least 100 pixels on each side.")
    square = ImageOps.fit(image, (SIDE, SIDE), method=Image.Resampling.LANCZOS)
    out = io.BytesIO()
    square.save(out, format="JPEG", quality=85, optimize=True)
    return ContentFile(out.getvalue(), name=f"{secrets.token_hex(8)}.jpg")
