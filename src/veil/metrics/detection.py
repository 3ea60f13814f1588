"""Detection metrics for steganalysis: ROC by threshold sweep, its AUC, the rank AUC, TPR at a fixed FPR.

Convention (StegExpose's): an image is called stego when its score is strictly above the threshold.
Negatives are clean images, positives stego images.
"""
from __future__ import annotations

import numpy as np

SWEEP = np.round(np.arange(0, 101) / 100, 2)   # thresholds 0.00, 0.01, ..., 1.00 (seed 003, sec. 5.2)


def roc_sweep(clean, stego, thresholds=SWEEP) -> dict:
    """FPR and TPR at each threshold: FPR(t) = #{clean > t} / #clean, TPR(t) = #{stego > t} / #stego.
    Returns {"thresholds", "fpr", "tpr"} as lists, in threshold order."""
    neg, pos = np.asarray(clean, float), np.asarray(stego, float)
    if neg.size == 0 or pos.size == 0:
        raise ValueError("a ROC needs at least one clean and one stego score")
    t = np.asarray(thresholds, float)
    fpr = (neg[None, :] > t[:, None]).mean(1)
    tpr = (pos[None, :] > t[:, None]).mean(1)
    return {"thresholds": t.tolist(), "fpr": fpr.tolist(), "tpr": tpr.tolist()}


def auc_from_curve(fpr, tpr) -> float:
    """Trapezoidal area under the ROC points, closed with (0, 0) and (1, 1), in [0, 1]."""
    pts = sorted(set(zip(fpr, tpr)) | {(0.0, 0.0), (1.0, 1.0)})
    x, y = np.array([p[0] for p in pts]), np.array([p[1] for p in pts])
    return float(np.sum((x[1:] - x[:-1]) * (y[1:] + y[:-1]) / 2))


def auc_rank(clean, stego) -> float:
    """The exact AUC: P(stego score > clean score) + P(equal) / 2 (Mann-Whitney), in [0, 1]."""
    neg, pos = np.asarray(clean, float), np.asarray(stego, float)
    if neg.size == 0 or pos.size == 0:
        raise ValueError("an AUC needs at least one clean and one stego score")
    gt = (pos[:, None] > neg[None, :]).mean()
    eq = (pos[:, None] == neg[None, :]).mean()
    return float(gt + eq / 2)


def tpr_at_fpr(fpr, tpr, max_fpr: float = 0.05) -> float:
    """The best TPR among operating points whose FPR is at most ``max_fpr`` (0 if none)."""
    ok = [t for f, t in zip(fpr, tpr) if f <= max_fpr + 1e-12]
    return float(max(ok)) if ok else 0.0


def summarise_scores(clean, stego) -> dict:
    """ROC sweep, its AUC, the rank AUC and the TPR at 5% FPR of one detector's scores."""
    roc = roc_sweep(clean, stego)
    return {"auc": auc_from_curve(roc["fpr"], roc["tpr"]), "auc_rank": auc_rank(clean, stego),
            "tpr_at_5pct_fpr": tpr_at_fpr(roc["fpr"], roc["tpr"], 0.05), "roc": roc}
