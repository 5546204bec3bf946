"""Image properties in bins a reader can name: fifths by default ("the darkest 20%"), or one bin per value when a
property takes only a few (every image 28 px wide, or two sizes).

Quantile edges are taken on the rows given (the evaluation split, for accuracy per bin and for slices), so "the
darkest 20%" means of those images. Ties merge bins: a property that is 0 for 60% of the images has a bottom bin
of 60%, and its phrase says so ("the least colourful 60%").
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from reportgen.compute.image_properties import PROPERTY_NAMES
from reportgen.compute.property_flags import as_reported

FIFTHS = 5
MAX_VALUES = 5  # a property with this many distinct values or fewer gets one bin per value

# What each property is called on the page, and the words for its low and high ends.
PROPERTY_LABELS = {
    "brightness": "brightness", "contrast": "contrast", "blur": "sharpness", "entropy": "entropy",
    "width": "width", "height": "height", "aspect": "aspect ratio", "colourfulness": "colourfulness",
}
PROPERTY_MEANINGS = {
    "brightness": "mean grey level, 0 (black) to 1 (white)",
    "contrast": "standard deviation of grey levels, 0 to 0.5",
    "blur": "edge strength for the contrast: sd of the Laplacian / sd of grey levels (under 0.2: blurry)",
    "entropy": "bits per pixel of the grey-level histogram (low: flat, little information)",
    "width": "pixels, as decoded", "height": "pixels, as decoded", "aspect": "width / height",
    "colourfulness": "mean distance of a pixel's channels from its grey, 0 (grayscale) to 1",
}
ENDS = {
    "brightness": ("darkest", "brightest"), "contrast": ("lowest-contrast", "highest-contrast"),
    "blur": ("blurriest", "sharpest"), "entropy": ("lowest-entropy", "highest-entropy"),
    "width": ("narrowest", "widest"), "height": ("shortest", "tallest"),
    "aspect": ("most portrait", "most landscape"), "colourfulness": ("least colourful", "most colourful"),
}


@dataclass
class PropertyBins:
    name: str  # one of PROPERTY_NAMES
    kind: str  # "fifths" or "values"
    codes: np.ndarray  # (n,) int: each row's bin
    phrases: list[str]  # per bin, to follow "images": "in the darkest 20%", "28 px wide"
    ranges: list[tuple[float, float]]  # per bin, its lowest and highest value among the rows
    shares: list[tuple[float, float]]  # per bin, the share of rows below it and up to its top (0.0, 0.2)

    @property
    def count(self) -> int:
        return len(self.phrases)


def value_phrase(name: str, value: float) -> str:
    if name == "width":
        return f"{value:g} px wide"
    if name == "height":
        return f"{value:g} px tall"
    return f"with {PROPERTY_LABELS[name]} {value:.3g}"


def quantile_phrase(name: str, low: float, high: float) -> str:
    low_word, high_word = ENDS[name]
    if low <= 0.0:
        return f"in the {low_word} {high:.0%}"
    if high >= 1.0:
        return f"in the {high_word} {1 - low:.0%}"
    return f"with {PROPERTY_LABELS[name]} between its {low:.0%} and {high:.0%} quantiles"


def property_bins(values: np.ndarray, name: str, *, bins: int = FIFTHS) -> PropertyBins | None:
    """values: (n,) one property over the rows to bin. None when it is the same for every row (nothing to bin)."""
    values = np.asarray(values, dtype=np.float64)
    distinct = np.unique(values)
    if len(distinct) < 2:
        return None
    if len(distinct) <= MAX_VALUES:
        codes = np.searchsorted(distinct, values)
        phrases = [value_phrase(name, v) for v in distinct]
        kind = "values"
    else:
        # bin b holds (edge[b-1], edge[b]]: a tie at an edge stays in the lower bin, so ties merge bins upward
        edges = np.unique(np.quantile(values, np.arange(1, bins) / bins))
        edges = edges[edges < distinct[-1]]
        codes = np.searchsorted(edges, values, side="left")
        kind = "fifths"
        phrases = []
    counts = np.bincount(codes, minlength=codes.max() + 1)
    present = np.flatnonzero(counts)
    codes = np.searchsorted(present, codes)  # drop empty bins
    counts = counts[present]
    top = np.cumsum(counts) / len(values)
    bottom = np.concatenate([[0.0], top[:-1]])
    if kind == "fifths":
        phrases = [quantile_phrase(name, lo, hi) for lo, hi in zip(bottom, top)]
    if kind == "values":
        phrases = [phrases[i] for i in present]
    ranges = [(float(values[codes == b].min()), float(values[codes == b].max())) for b in range(len(counts))]
    return PropertyBins(name, kind, codes.astype(np.int64), phrases, ranges,
                        [(float(lo), float(hi)) for lo, hi in zip(bottom, top)])


def all_property_bins(properties: np.ndarray, rows: np.ndarray) -> list[PropertyBins]:
    """Bins of every property that varies over `rows`, blur read as sharpness (property_flags.as_reported).
    properties: (N, len(PROPERTY_NAMES)) as collected; rows: (n,) int."""
    found = []
    reported = as_reported(properties[rows])
    for j, name in enumerate(PROPERTY_NAMES):
        binned = property_bins(reported[:, j], name)
        if binned is not None:
            found.append(binned)
    return found
