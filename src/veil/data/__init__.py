"""Training and evaluation data: the cover photo corpus, synthetic covers, QR batches."""
