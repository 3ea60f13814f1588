"""Model families. Importing this package registers every architecture."""
from . import disguise, lsb, pixinpix, qr_baseline, qr_densenet, qrnet, spread, steganalyser, stegnet  # noqa: F401  (registration side effect)
from .base import QRStegoModel
from .image_base import ImageStegoModel

__all__ = ["QRStegoModel", "ImageStegoModel"]
