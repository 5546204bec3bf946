"""Sub-populations: classes with more than one well-separated mode in the embedding (the open and
closed 4 of Tensorleap's MNIST walkthrough), and clusters of the whole embedding that mix classes or gather one data source.

What to do next: split a multi-mode class, collect more of a small mode with a high error rate, or check
whether a one-source cluster is a shortcut the model learned.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from reportgen.analyses.section import Result
from reportgen.collect.thumbnails import data_uri
from reportgen.compute.neighbours import ANALYSIS_NEIGHBOURS, Neighbours
from reportgen.compute.subclusters import MIN_SILHOUETTE, class_modes, embedding_clusters, representatives
from reportgen.data.sources import guess_sources

ID = "subpopulations"
TITLE = "Sub-populations"
TEMPLATE = "_subpopulations.html"
REPRESENTATIVES = 6
NEIGHBOURS_USED = ANALYSIS_NEIGHBOURS
MIXED_BELOW = 0.75  # a cluster whose commonest label is under this share cuts across classes
SOURCE_SHARE = 0.8  # a cluster this much from one source gathers that source ...
SOURCE_LIFT = 1.5  # ... if the source is this many times rarer in the whole data


def sample_card(collected, i: int) -> dict:
    return {"index": int(i), "path": collected.paths[i], "label": collected.classes[collected.labels[i]],
            "prediction": collected.classes[collected.preds[i]], "thumbnail": data_uri(collected.thumbnails[i])}


def group_facts(collected, rows: np.ndarray) -> dict:
    """Size, error rate, mean finite loss and per-split counts of the samples `rows`."""
    loss = collected.loss[rows]
    loss = loss[np.isfinite(loss)]
    splits = np.bincount(collected.split[rows], minlength=len(collected.split_names))
    return {"size": int(len(rows)), "error_rate": float(np.mean(collected.preds[rows] != collected.labels[rows])),
            "mean_loss": float(loss.mean()) if loss.size else None,
            "splits": {name: int(splits[s]) for s, name in enumerate(collected.split_names)}}


def multi_mode_classes(collected, embeddings: np.ndarray, indices: np.ndarray, seed: int) -> list[dict]:
    found = []
    for c, name in enumerate(collected.classes):
        members = np.flatnonzero(collected.labels == c)
        modes = class_modes(embeddings, members, indices, seed=seed)
        if modes is None:
            continue
        sizes = np.bincount(modes.assignment)
        mode_rows = []
        for m in np.argsort(-sizes, kind="stable"):
            rows = members[modes.assignment == m]
            picks = members[representatives(modes, int(m), REPRESENTATIVES)]
            mode_rows.append(group_facts(collected, rows) | {
                "rows": rows.tolist(), "representatives": [sample_card(collected, i) for i in picks]})
        found.append({"class": name, "n": int(len(members)), "silhouette": modes.silhouette,
                      "cut_ratio": modes.cut_ratio, "valley": modes.valley, "modes": mode_rows})
    return found


def cluster_findings(collected, embeddings: np.ndarray, seed: int) -> tuple[list[dict], list[str] | None, int]:
    """Clusters of the whole embedding that mix labels or gather one guessed data source."""
    k = len(collected.classes)
    num_clusters = int(np.clip(2 * k, 4, 40))
    cluster = embedding_clusters(embeddings, num_clusters, seed=seed)
    sources = guess_sources(collected.paths, collected.classes, collected.split_names, collected.labels)
    source_share = np.bincount(sources[0]) / collected.n if sources else None
    min_size = max(5, collected.n // 100)
    findings = []
    for g in range(int(cluster.max()) + 1):
        rows = np.flatnonzero(cluster == g)
        if len(rows) < min_size:
            continue
        label_counts = np.bincount(collected.labels[rows], minlength=k)
        top_labels = np.argsort(-label_counts, kind="stable")[:3]
        reasons = []
        if label_counts[top_labels[0]] / len(rows) < MIXED_BELOW:
            reasons.append("mixed labels")
        source = None
        if sources:
            counts = np.bincount(sources[0][rows], minlength=len(sources[1]))
            s = int(counts.argmax())
            share = counts[s] / len(rows)
            source = {"name": sources[1][s], "share": float(share), "overall_share": float(source_share[s])}
            if share >= SOURCE_SHARE and share >= SOURCE_LIFT * source_share[s]:
                reasons.append("one source")
        if not reasons:
            continue
        centre = embeddings[rows].mean(axis=0)
        picks = rows[np.argsort(np.linalg.norm(embeddings[rows] - centre, axis=1), kind="stable")[:REPRESENTATIVES]]
        findings.append(group_facts(collected, rows) | {
            "cluster": g, "reasons": reasons, "source": source, "rows": rows.tolist(),
            "labels": [{"class": collected.classes[c], "share": float(label_counts[c] / len(rows))}
                       for c in top_labels if label_counts[c]],
            "representatives": [sample_card(collected, i) for i in picks]})
    findings.sort(key=lambda f: -f["size"])
    return findings, sources[1] if sources else None, num_clusters


@dataclass
class SubpopulationsResult(Result):
    classes: list[dict]  # multi-mode classes, each with its modes
    clusters: list[dict]  # whole-embedding clusters that mix labels or gather one source
    sources: list[str] | None
    num_clusters: int
    n_classes: int
    paths: list[str]
    min_silhouette = MIN_SILHOUETTE
    mixed_below = MIXED_BELOW
    source_share = SOURCE_SHARE

    def _for_json(self, group: dict) -> dict:  # report.json names samples by path and carries no images
        plain = {k: v for k, v in group.items() if k not in ("rows", "representatives")}
        return plain | {"representatives": [c["path"] for c in group["representatives"]],
                        "members": [self.paths[i] for i in group["rows"]]}

    def json(self) -> dict:
        return {"subpopulations": {
            "multi_mode_classes": [{**{k: v for k, v in c.items() if k != "modes"},
                                    "modes": [self._for_json(m) for m in c["modes"]]} for c in self.classes],
            "clusters": [self._for_json(f) for f in self.clusters],
            "num_clusters": self.num_clusters,
            "sources": self.sources,
        }}


def run(collected, *, neighbours: Neighbours, seed: int) -> SubpopulationsResult:
    embeddings = collected.embeddings
    indices = neighbours.indices[:, :NEIGHBOURS_USED + 1]
    classes = multi_mode_classes(collected, embeddings, indices, seed)
    clusters, source_names, num_clusters = cluster_findings(collected, embeddings, seed)
    return SubpopulationsResult(classes, clusters, source_names, num_clusters, len(collected.classes),
                                collected.paths)
