"""Candidate findings for the digest from class modes and cross-class clusters: one plain sentence each, with
its numbers, a severity, a score in [0, 1] and the rows that back it."""

from __future__ import annotations

from typing import Sequence

from reportgen.compute.class_modes import Mode
from reportgen.compute.cross_class_clusters import Cluster

HIGH_ERROR = 0.5  # a mode wrong this often, and ...
HIGH_GAP = 0.3  # ... this much more often than the rest of its class, is high severity
MEDIUM_TREATMENT = 0.2


def mode_severity(mode: Mode) -> str:
    if mode.error_rate >= HIGH_ERROR and mode.error_rate - mode.rest_error_rate >= HIGH_GAP:
        return "high"
    return "medium" if mode.treatment >= MEDIUM_TREATMENT else "low"


def mode_text(mode: Mode, names: Sequence[str]) -> str:
    name = names[mode.class_index]
    group = f"a distinct group of {mode.size} samples ({mode.share:.0%} of the class)"
    if mode_severity(mode) == "low":
        return (f"Class {name} has {group}, apart from the rest in the embedding; the model handles it like the "
                f"rest (error {mode.error_rate:.0%} against {mode.rest_error_rate:.0%}). A second style of the "
                f"class: keep it in mind when collecting data, or split the class.")
    text = (f"Class {name} has {group} that the model gets wrong {mode.error_rate:.0%} of the time, against "
            f"{mode.rest_error_rate:.0%} for the rest of the class (mean loss {mode.mean_loss:.2f} against "
            f"{mode.rest_mean_loss:.2f})")
    if mode.mistaken_for:
        top, count = next(iter(mode.mistaken_for.items()))
        text += f"; {count} of them {'is' if count == 1 else 'are'} mistaken for {names[top]}"
    return text + ". Collect more samples like it, relabel it, or make it a class of its own."


def cluster_text(cluster: Cluster, names: Sequence[str]) -> str:
    shown = [names[c] for c in list(cluster.labels)[:3]]
    labels = shown[0] if len(shown) == 1 else ", ".join(shown[:-1]) + " or " + shown[-1]
    if cluster.kind == "one source":
        return (f"{cluster.size} samples from source {cluster.source} (labelled {labels}) sit together in the "
                f"embedding: {cluster.region_share:.0%} of their neighbours share the source, against "
                f"{cluster.expected_source_share:.0%} that their labels predict. Check for a shortcut.")
    top = names[next(iter(cluster.predicted))]
    return (f"{cluster.size} samples (labelled {labels}) sit in a region where the model is wrong "
            f"{cluster.region_share:.0%} of the time whatever the label (their classes' error rates predict "
            f"{cluster.expected_error_rate:.0%}); most are called {top}.")


def mode_findings(modes: Sequence[Mode], clusters: Sequence[Cluster] = (), *,
                  class_names: Sequence[str] | None = None) -> list[dict]:
    """[{id, severity, score, text, evidence}], highest score first; evidence lists the member rows."""
    count = 1 + max([m.class_index for m in modes] + [c for cl in clusters for c in (*cl.labels, *cl.predicted)]
                    + [-1])
    names = list(class_names) if class_names is not None else [str(c) for c in range(count)]
    found = [{"id": f"mode-{names[m.class_index]}-{rank}", "severity": mode_severity(m), "score": round(m.score, 4),
              "text": mode_text(m, names), "evidence": m.rows.tolist()} for rank, m in enumerate(modes)]
    for rank, cluster in enumerate(clusters):
        severity = "high" if cluster.kind != "one source" and cluster.region_share >= 0.8 else "medium"
        found.append({"id": f"cluster-{rank}", "severity": severity, "score": round(cluster.score, 4),
                      "text": cluster_text(cluster, names), "evidence": cluster.rows.tolist()})
    return sorted(found, key=lambda f: -f["score"])


def number(value: float) -> float | None:
    """JSON has no NaN: a mean over no finite loss is null."""
    return round(float(value), 4) if value == value and abs(value) != float("inf") else None


def mode_records(modes: Sequence[Mode], paths: Sequence[str], class_names: Sequence[str]) -> list[dict]:
    """report.json's subpopulations modes: samples named by path, classes by name."""
    return [{"class": class_names[m.class_index], "size": m.size, "share": number(m.share),
             "error_rate": number(m.error_rate), "rest_error_rate": number(m.rest_error_rate),
             "mean_loss": number(m.mean_loss), "rest_mean_loss": number(m.rest_mean_loss),
             "mistaken_for": {class_names[j]: n for j, n in m.mistaken_for.items()},
             "neighbour_labels": {class_names[j]: number(s) for j, s in m.neighbour_labels.items()},
             "distinctness": {"value": number(m.distinctness), "cut": number(m.cut), "incoming": number(m.incoming),
                              "valley": number(m.valley), "inside_share": number(m.inside_share),
                              "core_distance": number(m.core_distance)},
             "treatment": number(m.treatment), "score": number(m.score), "reasons": list(m.reasons),
             "representatives": [paths[i] for i in m.representatives], "members": [paths[i] for i in m.rows]}
            for m in modes]


def cluster_records(clusters: Sequence[Cluster], paths: Sequence[str], class_names: Sequence[str]) -> list[dict]:
    """report.json's cross-class clusters, in the same terms as mode_records."""
    return [{"kind": c.kind, "size": c.size, "labels": {class_names[j]: n for j, n in c.labels.items()},
             "predicted": {class_names[j]: n for j, n in c.predicted.items()}, "error_rate": number(c.error_rate),
             "expected_error_rate": number(c.expected_error_rate), "region_share": number(c.region_share),
             "mean_loss": number(c.mean_loss), "source": c.source,
             "expected_source_share": None if c.expected_source_share is None else number(c.expected_source_share),
             "score": number(c.score), "reasons": list(c.reasons),
             "representatives": [paths[i] for i in c.representatives], "members": [paths[i] for i in c.rows]}
            for c in clusters]
