"""Model families. Importing this package registers every architecture."""
from . import qr_baseline, qr_densenet  # noqa: F401  (registration side effect)
from .base import QRStegoModel

__all__ = ["QRStegoModel"]
