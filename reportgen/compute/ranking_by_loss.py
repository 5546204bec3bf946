"""Samples ranked by loss: the hardest ones, which the hardest-samples section and the saliency choice share."""

from __future__ import annotations

import numpy as np


def hardest_samples(loss: np.ndarray, mask: np.ndarray, top_k: int) -> np.ndarray:
    """Indices of the `top_k` highest losses among `mask`, highest first; non-finite losses rank first."""
    candidates = np.flatnonzero(mask)
    ranked_loss = np.where(np.isfinite(loss[candidates]), loss[candidates], np.inf)
    order = np.argsort(-ranked_loss, kind="stable")
    return candidates[order[:top_k]]
