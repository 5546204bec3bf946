"""What a slice can be named by, over the rows searched: each image property in fifths (compute/property_bins.py),
grayscale or colour, the true class, the predicted class, a region of the embedding (compute/embedding_clusters.py)
and the data source guessed from the path (data/sources.py)."""

from __future__ import annotations

import numpy as np

from reportgen.compute.embedding_clusters import embedding_clusters
from reportgen.compute.property_bins import all_property_bins
from reportgen.compute.property_flags import property_flags
from reportgen.compute.slice_search import Feature
from reportgen.data.sources import guess_sources


def cluster_phrases(clusters: np.ndarray, labels: np.ndarray, classes: list[str]) -> list[str]:
    """'in embedding region 4 (62% 3_Dress)': the region's commonest class says where it lies."""
    phrases = []
    for k in range(int(clusters.max()) + 1 if len(clusters) else 0):
        held = labels[clusters == k]
        if not len(held):
            phrases.append(f"in embedding region {k + 1}")
            continue
        top = np.bincount(held, minlength=len(classes))
        phrases.append(f"in embedding region {k + 1} ({top.max() / len(held):.0%} {classes[int(top.argmax())]})")
    return phrases


def slice_features(collected, rows: np.ndarray, *, seed: int = 0) -> list[Feature]:
    """Features over collected rows `rows` ((n,) int), in the order descriptions name them."""
    classes = collected.classes
    labels, preds = collected.labels[rows], collected.preds[rows]
    features = [Feature("class", labels.astype(np.int64), [f"{c} images" for c in classes], head=True),
                Feature("prediction", preds.astype(np.int64), [f"predicted {c}" for c in classes])]
    if collected.properties is not None:
        properties = collected.properties[rows]
        features += [Feature(b.name, b.codes, b.phrases) for b in all_property_bins(collected.properties, rows)]
        grey = property_flags(properties)["grayscale"]
        if grey.any() and not grey.all():
            features.append(Feature("grayscale", grey.astype(np.int64), ["in colour", "in grayscale"]))
    if len(rows) >= 2:
        clusters = embedding_clusters(collected.embeddings[rows], seed=seed)
        features.append(Feature("region", clusters, cluster_phrases(clusters, labels, classes)))
    sources = guess_sources(collected.paths, classes, collected.split_names, collected.labels)
    if sources is not None:
        index, names = sources
        features.append(Feature("source", index[rows], [f"from {name}" for name in names]))
    return features
