"""Payload codecs: turn what the user hides into what a network carries, and back.

Torch-free on purpose: the payload layer knows nothing of the networks.
"""
from .qr import QRCode, QRSpec, decode_qr_image, encode_text, read_from_probabilities, render_matrix

__all__ = ["QRCode", "QRSpec", "decode_qr_image", "encode_text", "read_from_probabilities", "render_matrix"]
