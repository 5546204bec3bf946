"""Sub-populations: groups inside a class that stand apart from the rest of it in the model's embedding (the
"closed 4" of Tensorleap's MNIST walkthrough), small or large, ranked by what a reviewer should act on: distinct
and error-prone first; and regions across classes that add to the confusion matrix (wrong whatever the label,
or gathering one data source).

What to do next: collect more of a small error-prone mode, relabel it, or make it a class of its own; check a
one-source region for a shortcut the model learned.
"""

from __future__ import annotations

from dataclasses import dataclass

from reportgen.analyses.section import Finding, Result
from reportgen.collect.thumbnails import data_uri
from reportgen.compute.class_modes import MIN_CLASS_SIZE, ClassModes, Mode, find_class_modes
from reportgen.compute.cross_class_clusters import Cluster, find_cross_class_clusters
from reportgen.compute.mode_findings import cluster_records, cluster_text, mode_findings, mode_records
from reportgen.compute.neighbours import ANALYSIS_NEIGHBOURS, Neighbours
from reportgen.data.sources import guess_sources

ID = "subpopulations"
TITLE = "Sub-populations"
TEMPLATE = "_subpopulations.html"
SHOWN_OPEN = 4  # modes drawn when the page opens; the rest wait in a fold


def card(collected, i: int) -> dict:
    return {"index": int(i), "path": collected.paths[i], "label": collected.classes[collected.labels[i]],
            "prediction": collected.classes[collected.preds[i]], "thumbnail": data_uri(collected.thumbnails[i])}


@dataclass
class SubpopulationsResult(Result):
    found: ClassModes
    clusters: list[Cluster]
    sources: list[str] | None
    classes: list[str]
    paths: list[str]
    collected: object  # for the representatives' thumbnails on the page
    shown_open = SHOWN_OPEN
    min_class_size = MIN_CLASS_SIZE

    @property
    def modes(self) -> list[Mode]:
        return self.found.modes

    @property
    def skipped_classes(self) -> list[str]:
        return [self.classes[c] for c in self.found.skipped_classes]

    def mode_view(self, mode: Mode) -> dict:
        names = self.classes
        return {"class": names[mode.class_index], "size": mode.size, "share": mode.share,
                "error_rate": mode.error_rate, "rest_error_rate": mode.rest_error_rate, "mean_loss": mode.mean_loss,
                "rest_mean_loss": mode.rest_mean_loss, "score": mode.score, "reasons": mode.reasons,
                "mistaken_for": [(names[c], n) for c, n in list(mode.mistaken_for.items())[:3]],
                "rows": mode.rows.tolist(),
                "representatives": [card(self.collected, i) for i in mode.representatives]}

    def cluster_view(self, cluster: Cluster) -> dict:
        return {"kind": cluster.kind, "size": cluster.size, "text": cluster_text(cluster, self.classes),
                "reasons": cluster.reasons, "rows": cluster.rows.tolist(),
                "representatives": [card(self.collected, i) for i in cluster.representatives]}

    def json(self) -> dict:
        return {"subpopulations": {
            "modes": mode_records(self.modes, self.paths, self.classes),
            "clusters": cluster_records(self.clusters, self.paths, self.classes),
            "searched_classes": self.found.searched_classes,
            "skipped_classes": self.skipped_classes,
            "sampled_classes": [self.classes[c] for c in self.found.sampled_classes],
            "sources": self.sources,
            "method": (f"within each class of {MIN_CLASS_SIZE} or more samples, groups from its density tree and "
                       "its kNN graph's spectral cut, kept when few of their nearest class-mates lie outside them and "
                       "a density valley separates them from the rest; score = distinctness x (0.25 + 0.75 x how "
                       "differently the model treats them)"),
        }}

    def findings(self) -> list[Finding]:
        """From compute.mode_findings. A mode that is mostly the overlap with one other class (most of its members
        taken for that class, most of its neighbours labelled so) is about that class pair: it shares the confusion
        section's subject, and the digest says the pair once."""
        found = []
        for f in mode_findings(self.modes, self.clusters, class_names=self.classes):
            rows = f["evidence"]
            found.append(Finding(f"{ID}/{f['id']}", ID, f["severity"], f["score"], f["text"], rows[:8],
                                 subject=self._subject(f["id"], rows), kind="group", rows=rows))
        return found

    def _subject(self, finding_id: str, rows: list[int]) -> str:
        mode = next((m for m in self.modes if m.rows.tolist() == rows), None)
        if mode is not None and mode.mistaken_for:
            other, count = next(iter(mode.mistaken_for.items()))
            if count >= mode.size / 2 and mode.neighbour_labels.get(other, 0.0) >= 0.5:
                return "pair:" + "|".join(sorted((self.classes[mode.class_index], self.classes[other])))
        return finding_id


def run(collected, *, neighbours: Neighbours, seed: int = 0) -> SubpopulationsResult:
    indices = neighbours.indices[:, :ANALYSIS_NEIGHBOURS + 1]
    args = (collected.embeddings, collected.labels, collected.preds, collected.loss, indices)
    found = find_class_modes(*args, seed=seed, class_names=collected.classes)
    sources = guess_sources(collected.paths, collected.classes, collected.split_names, collected.labels)
    clusters = find_cross_class_clusters(*args, sources=sources[0] if sources else None,
                                         source_names=sources[1] if sources else None, class_names=collected.classes)
    return SubpopulationsResult(found, clusters, sources[1] if sources else None, collected.classes, collected.paths,
                                collected)

