"""Loss against distance to the class mean, in pixels and in the embedding (Tensorleap's MNIST walkthrough): are the atypical
samples the ones the model gets wrong? A high rho in pixel space says "collect more varied images"; a high
rho only in the embedding says the model, not the data, finds those samples odd."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from reportgen.analyses.section import Finding, Result
from reportgen.compute.class_geometry import class_means, distance_to_class_mean
from reportgen.compute.rank_correlation import spearman
from reportgen.render.figure_data import class_scatter_traces, figure, layout, rounded
from reportgen.render.table_data import column, table

ID = "loss-vs-distance"
TITLE = "Loss vs distance to the class mean"
TEMPLATE = "_loss_vs_distance.html"
LOSS_FLOOR = 1e-4  # the log axis cannot show a loss of 0; smaller losses are drawn at this height
LABELLED_AVERAGES_MAX = 30  # more class names than this written on the plot hide it; hover shows them
SPACES = (("pixel", "Pixel distance to the class mean image"),
          ("embedding", "Embedding distance to the class centroid"))


def sample_distances(collected) -> dict[str, np.ndarray]:
    """(N,) distance of each sample to its class's mean image (pixels in [0, 1]) and embedding centroid."""
    k = len(collected.classes)
    labels = collected.labels
    embeddings = collected.embeddings
    pixel_means = class_means(collected.pixels, labels, k)
    return {
        "pixel": distance_to_class_mean(collected.pixels, labels, pixel_means, scale=255.0),
        "embedding": distance_to_class_mean(embeddings, labels, class_means(embeddings, labels, k)),
    }


def class_rows(distances: dict[str, np.ndarray], loss: np.ndarray, labels: np.ndarray,
               classes: list[str]) -> list[dict]:
    """Per class: size, average distances and loss, and Spearman's rho of each distance against loss."""
    finite = np.isfinite(loss)
    rows = []
    for c, name in enumerate(classes):
        members = (labels == c) & finite
        row = {"class": name, "class_index": c, "n": int(members.sum()),
               "mean_loss": float(loss[members].mean()) if members.any() else None}
        for space, _ in SPACES:
            row[f"mean_{space}"] = float(distances[space][members].mean()) if members.any() else None
            row[space] = spearman(distances[space][members], loss[members])
        rows.append(row)
    return rows


def scatter_figure(space: str, axis_title: str, distance: np.ndarray, loss: np.ndarray, labels: np.ndarray,
                   classes: list[str], per_class: list[dict]) -> dict:
    shown = np.flatnonzero(np.isfinite(loss))
    traces = class_scatter_traces(distance, np.maximum(loss, LOSS_FLOOR), labels, classes, rows=shown,
                                  marker_size=4)
    present = [r for r in per_class if r["n"]]
    traces.append({
        "type": "scatter", "mode": "markers+text" if len(present) <= LABELLED_AVERAGES_MAX else "markers",
        "name": "class averages",
        "x": rounded([r[f"mean_{space}"] for r in present]),
        "y": rounded([max(r["mean_loss"], LOSS_FLOOR) for r in present]),
        "text": [r["class"] for r in present], "textposition": "top center",
        "marker": {"size": 13, "symbol": "diamond", "color": "#111", "line": {"width": 1, "color": "#fff"}},
        "hovertemplate": "%{text}<br>average distance %{x:.3f}<br>average loss %{y:.4f}<extra></extra>",
    })
    return figure(traces, layout(axis_title, "loss (log scale)", yaxis={"type": "log"}))


@dataclass
class LossDistanceResult(Result):
    distances: dict[str, np.ndarray]  # space -> (N,) distance of each sample to its class mean
    loss: np.ndarray  # (N,) float64
    labels: np.ndarray
    classes: list[str]
    per_class: list[dict]
    overall: dict
    across_classes: dict
    spaces = [{"key": key, "title": title} for key, title in SPACES]
    loss_floor = LOSS_FLOOR

    @property
    def n_below_floor(self) -> int:
        return int((np.isfinite(self.loss) & (self.loss < LOSS_FLOOR)).sum())

    @property
    def figures(self) -> dict:
        return {space: scatter_figure(space, title, self.distances[space], self.loss, self.labels, self.classes,
                                      self.per_class) for space, title in SPACES}

    @property
    def per_class_table(self) -> dict:
        columns = [column("class", "class"), column("n", "n", "int"), column("mean_loss", "mean loss", "num"),
                   column("mean_pixel", "mean pixel dist.", "num"), column("rho_pixel", "ρ pixel", "num"),
                   column("p_pixel", "p", "num"), column("mean_embedding", "mean embedding dist.", "num"),
                   column("rho_embedding", "ρ embedding", "num"), column("p_embedding", "p", "num")]
        flat = [{**r, **{f"{key}_{space}": r[space][key] for space, _ in SPACES for key in ("rho", "p")}}
                for r in self.per_class]
        large = len(self.per_class) > LABELLED_AVERAGES_MAX
        return table(columns, flat, sort=("rho_embedding", "desc") if large else None,
                     page=25 if large else len(flat), search=large)

    def findings(self) -> list[Finding]:
        """When the samples far from their class's mean are the ones the model gets wrong (Spearman's rho of at
        least 0.4, p < 0.01): in pixels, collect more varied images; only in the embedding, the model finds them
        odd. Scored by rho; medium from 0.6."""
        found = []
        for space, words in (("pixel", "mean image (in pixels): collect more varied images of each class"),
                             ("embedding", "centroid in the model's embedding: the model, not only the data, finds "
                                           "them odd")):
            r = self.overall[space]
            if r["rho"] is not None and r["rho"] >= 0.4 and (r["p"] or 1) < 0.01:
                found.append(Finding(f"{ID}/{space}", ID, "medium" if r["rho"] >= 0.6 else "low", r["rho"],
                                     f"The atypical samples are the ones the model gets wrong: loss rises with the "
                                     f"distance to the class's {words} (Spearman's rho {r['rho']:.2f}).",
                                     subject="atypical"))
        return found[:1]

    def json(self) -> dict:
        keys = ("n", "mean_loss", "mean_pixel", "mean_embedding", "pixel", "embedding")
        return {"loss_vs_distance": {
            "note": "pixel distances use each image at 32x32 with values in [0, 1]; rho is Spearman's",
            "overall": self.overall,
            "across_classes": self.across_classes,
            "per_class": {r["class"]: {k: r[k] for k in keys} for r in self.per_class},
            "pixel_distance": rounded(self.distances["pixel"]),
            "embedding_distance": rounded(self.distances["embedding"]),
        }}


def run(collected) -> LossDistanceResult:
    loss = collected.loss.astype(np.float64)
    distances = sample_distances(collected)
    per_class = class_rows(distances, loss, collected.labels, collected.classes)
    finite = np.isfinite(loss)
    overall = {space: spearman(distances[space][finite], loss[finite]) for space, _ in SPACES}
    # Tensorleap's plot: one point per class, average distance against average loss.
    present = [r for r in per_class if r["n"]]
    across_classes = {space: spearman([r[f"mean_{space}"] for r in present], [r["mean_loss"] for r in present])
                      for space, _ in SPACES}
    return LossDistanceResult(distances, loss, collected.labels, collected.classes, per_class, overall,
                              across_classes)
