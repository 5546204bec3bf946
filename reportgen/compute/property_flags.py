"""Images worth a look for how they were taken, not for what they show: dark, blurry, low-information, grayscale.
Each flag is a fixed threshold on the properties measured in the pass (compute/image_properties.py), chosen to
follow CleanVision's issue types where they have one; tests/test_properties.py measures the agreement on the same
images.

- dark: even the brighter pixels are dark: mean + 2 standard deviations of the grey levels under 0.32 (CleanVision
  asks for the 99th percentile of brightness under 0.32; mean + 2 sd stands in for it, since the pass keeps no
  percentiles). A white digit on black is not dark: its bright strokes lift the sum.
- low information: the grey-level histogram holds under 3 bits per pixel (CleanVision: entropy under 3 bits).
- blurry: edges weak for the image's contrast: the standard deviation of the Laplacian under 0.2 times that of
  the grey levels (scikit-learn's two sample photos sit at 0.44 and 0.51, and at 0.15 and 0.20 after a Gaussian
  blur of 0.8 px at the 128 px where properties are measured; 1.5 px takes them under 0.1). Relative to contrast,
  so a dark or faded image is not called blurry for being dark. CleanVision's threshold is on absolute edge
  strength at 64 px, corrected by the histogram's spread, and moves with image size: on the test's 48 px images it
  flags a third of the blurred ones, on 96 px ones half of the sharp ones too. A low-information image has no
  edges to judge and is not called blurry.
- grayscale: every pixel's channels within half a grey level of their grey on average (colourfulness under
  0.002), whatever the file's mode: a grey photo saved as RGB JPEG measures 0, a colour photo darkened to a
  fifth still 0.008.
"""

from __future__ import annotations

import numpy as np

from reportgen.compute.image_properties import PROPERTY_NAMES
from reportgen.compute.slice_statistics import fisher_greater

DARK_BRIGHT_END = 0.32
LOW_INFORMATION_BITS = 3.0
BLURRY_EDGE_TO_CONTRAST = 0.2
GRAYSCALE_COLOURFULNESS = 0.002
EXAMPLES = 6

FLAG_RULES = {
    "dark": f"mean + 2 sd of grey levels under {DARK_BRIGHT_END}",
    "blurry": f"sd of the Laplacian under {BLURRY_EDGE_TO_CONTRAST} x sd of grey levels (not low information)",
    "low information": f"entropy under {LOW_INFORMATION_BITS:g} bits per pixel",
    "grayscale": f"colourfulness under {GRAYSCALE_COLOURFULNESS}",
}


def column(properties: np.ndarray, name: str) -> np.ndarray:
    return properties[:, PROPERTY_NAMES.index(name)].astype(np.float64)


def sharpness(properties: np.ndarray) -> np.ndarray:
    """(N,) edge strength for the contrast: sd of the Laplacian / sd of the grey levels (0 for a flat image)."""
    edges = np.sqrt(np.maximum(column(properties, "blur"), 0.0))  # the Laplacian's sd, on the same 0-1 scale
    contrast = column(properties, "contrast")
    return np.divide(edges, contrast, out=np.zeros_like(edges), where=contrast > 0)


def as_reported(properties: np.ndarray) -> np.ndarray:
    """(N, P) float64: the properties as the report reads them, blur as sharpness() (the pass keeps the
    Laplacian's variance, which falls with contrast: a dark image would read as blurry)."""
    out = properties.astype(np.float64)
    out[:, PROPERTY_NAMES.index("blur")] = sharpness(properties)
    return out


def property_flags(properties: np.ndarray) -> dict[str, np.ndarray]:
    """{flag: (N,) bool} for each of FLAG_RULES. properties: (N, len(PROPERTY_NAMES)) float32."""
    brightness, contrast = column(properties, "brightness"), column(properties, "contrast")
    low_information = column(properties, "entropy") < LOW_INFORMATION_BITS
    return {
        "dark": brightness + 2 * contrast < DARK_BRIGHT_END,
        "blurry": (sharpness(properties) < BLURRY_EDGE_TO_CONTRAST) & ~low_information,
        "low information": low_information,
        "grayscale": column(properties, "colourfulness") < GRAYSCALE_COLOURFULNESS,
    }


def how_far_in(name: str, properties: np.ndarray) -> np.ndarray:
    """(N,) how far each image is into flag `name`, smallest first: the clearest examples come first."""
    if name == "dark":
        return column(properties, "brightness") + 2 * column(properties, "contrast")
    if name == "blurry":
        return sharpness(properties)
    if name == "low information":
        return column(properties, "entropy")
    return column(properties, "colourfulness")


def flag_summary(properties: np.ndarray, split: np.ndarray, split_names: list[str],
                 evaluation_rows: np.ndarray | None, correct: np.ndarray) -> dict:
    """{flag: {rule, splits: {split: count}, accuracy, examples}}: accuracy {flagged, rest, n_flagged, p (one-sided
    Fisher: more errors among the flagged)} over `evaluation_rows` ((n,) int; None: no accuracy); examples: the
    EXAMPLES clearest rows. properties: (N, P); split, correct: (N,)."""
    out = {}
    for name, flagged in property_flags(properties).items():
        accuracy = None
        if evaluation_rows is not None:
            inside, right = flagged[evaluation_rows], correct[evaluation_rows]
            if inside.any() and (~inside).any():
                errors = int((~right[inside]).sum())
                accuracy = {"flagged": float(right[inside].mean()), "rest": float(right[~inside].mean()),
                            "n_flagged": int(inside.sum()),
                            "p": float(fisher_greater(errors, int(inside.sum()), int((~right).sum()), len(right)))}
        rows = np.flatnonzero(flagged)
        examples = rows[np.argsort(how_far_in(name, properties[rows]), kind="stable")[:EXAMPLES]]
        out[name] = {"rule": FLAG_RULES[name],
                     "splits": {name_: int(flagged[split == s].sum()) for s, name_ in enumerate(split_names)},
                     "accuracy": accuracy, "examples": examples.tolist()}
    return out
