"""Duplicates and leakage: exact and near copies within and across splits (compute/duplicates.py says how each
kind is found and what each source misses). A group that spans the split named train and an evaluation split is
leakage: the model is scored on images it was trained on, so the evaluation accuracy is shown again without them.

What to do next: drop or move the evaluation copies (and rerun to see the honest accuracy); dedupe a split's own
copies, which count twice in training and in every score; fix the label where copies disagree.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from reportgen.analyses.findings import TRAINING_SPLITS, evaluation_split
from reportgen.analyses.section import Finding, Result
from reportgen.collect.thumbnails import data_uri
from reportgen.compute.duplicates import HASH_BITS, NEAR_FRACTION, PIXEL_NEAR, duplicate_groups
from reportgen.compute.image_hashes import perceptual_hashes
from reportgen.compute.neighbours import Neighbours

ID = "duplicates"
TITLE = "Duplicates and leakage"
TEMPLATE = "_duplicates.html"
PAGE_GROUPS = 30  # groups per list drawn with thumbnails; "show all" and report.json cover every one
OPEN_GROUPS = 8  # of which drawn when the page opens (the rest wait in a fold)
MEMBERS_SHOWN = 8
JSON_LIMIT = 10_000
LEAK_HIGH = 0.01  # a leaked share of the split (or an accuracy change of LEAK_HIGH) that is a "high" finding


def link_summary(groups) -> dict:
    """Per group, over the links that joined it: the largest embedding distance and hash distance, and which
    sources linked it. One pass over the links (a loop per group would be groups x links)."""
    links, count = groups.links, len(groups.members)
    of = groups.group_of[links.a]
    distance = np.zeros(count)
    np.maximum.at(distance, of, links.distance)
    bits = np.full(count, -1)
    np.maximum.at(bits, of, links.hash_bits)
    used = lambda flags: np.bincount(of, weights=flags, minlength=count) > 0
    return {"distance": distance, "bits": bits, "embedding": used(links.by_embedding), "hash": used(links.by_hash),
            "pixels": used(links.exact)}


def group_row(collected, members: np.ndarray, g: int, kind: str, links: dict, median: float,
              train: set[int]) -> dict:
    """Group g (rows `members`) as the page and report.json show it."""
    distance = float(links["distance"][g]) if kind == "near" else 0.0
    found = [name for name in ("embedding", "hash", "pixels") if links[name][g]] if kind == "near" else ["pixels"]
    split_ids = set(collected.split[members].tolist())
    labels = collected.labels[members]
    return {"rows": members.tolist(), "paths": [collected.paths[i] for i in members],
            "splits": [collected.split_names[s] for s in collected.split[members]],
            "labels": [collected.classes[c] if c >= 0 else None for c in labels],
            "kind": kind, "distance": round(distance, 6),
            "relative_distance": round(distance / median, 4) if median > 0 else None,
            "hash_bits": int(links["bits"][g]) if links["bits"][g] >= 0 else None, "found_by": found,
            "leak": bool(split_ids & train) and bool(split_ids - train),
            "label_conflict": bool(collected.labelled and len(set(labels.tolist())) > 1)}


def member_cards(collected, rows: list[int], train: set[int]) -> list[dict]:
    return [{"index": i, "path": collected.paths[i], "split": collected.split_names[collected.split[i]],
             "train": int(collected.split[i]) in train,
             "label": collected.classes[collected.labels[i]] if collected.labels[i] >= 0 else None,
             "prediction": collected.classes[collected.preds[i]], "wrong": bool(collected.labels[i] >= 0 and
                                                                               not collected.correct[i]),
             "thumbnail": data_uri(collected.thumbnails[i])} for i in rows[:MEMBERS_SHOWN]]


@dataclass
class DuplicatesResult(Result):
    groups: list[dict]  # leaked groups first, then exact, then by size; "rows", and "cards" for the shown ones
    leakage: list[dict]  # per evaluation split: n, n_leaked, accuracy, accuracy_without
    method: dict
    n_samples: int
    evaluation: str | None  # the headline split
    labelled: bool
    page_groups = PAGE_GROUPS
    open_groups = OPEN_GROUPS

    @property
    def leaked(self) -> list[dict]:
        return [g for g in self.groups if g["leak"]]

    @property
    def others(self) -> list[dict]:
        return [g for g in self.groups if not g["leak"]]

    @staticmethod
    def rows_of(groups: list[dict]) -> list[int]:
        return [i for g in groups for i in g["rows"]]

    def counts(self) -> dict:
        return {"groups": len(self.groups), "exact": sum(g["kind"] == "exact" for g in self.groups),
                "near": sum(g["kind"] == "near" for g in self.groups),
                "samples": sum(len(g["rows"]) for g in self.groups), "leaked_groups": len(self.leaked),
                "label_conflicts": sum(g["label_conflict"] for g in self.groups)}

    def json(self) -> dict:
        keys = ("paths", "splits", "kind", "distance", "relative_distance", "hash_bits", "found_by", "labels",
                "leak", "label_conflict")
        return {"duplicates": [{k: g[k] for k in keys} for g in self.groups[:JSON_LIMIT]],
                "duplicates_summary": {**self.counts(), "method": self.method, "limit": JSON_LIMIT,
                                       "leakage": {s["split"]: {k: v for k, v in s.items() if k != "split"}
                                                   for s in self.leakage}}}

    def findings(self) -> list[Finding]:
        """Leakage per evaluation split (high from LEAK_HIGH of the split or of accuracy), copies inside splits
        (low; medium from 5% of the samples), and copies that disagree on their label (medium)."""
        out = []
        for split in self.leakage:
            n, leaked = split["n"], split["n_leaked"]
            if not leaked:
                continue
            share = leaked / max(n, 1)
            text = f"{leaked} {split['split']} image{'s have copies' if leaked > 1 else ' has a copy'} in train"
            change = None
            if split["accuracy"] is not None and split["accuracy_without"] is not None:
                change = split["accuracy_without"] - split["accuracy"]
                text += (f"; {split['split']} accuracy without them {split['accuracy_without']:.1%} vs "
                         f"{split['accuracy']:.1%}")
            text += f" ({share:.1%} of {split['split']}: the model is scored on images it was trained on)."
            high = share >= LEAK_HIGH or (change is not None and abs(change) >= LEAK_HIGH)
            evidence = [i for g in self.leaked for i in pair_evidence(g, split["split"])][:8]
            score = min(1.0, 20 * share) if split["split"] == self.evaluation else min(1.0, 10 * share)
            out.append(Finding(f"{ID}/leakage/{split['split']}", ID, "high" if high else "medium", score, text,
                               evidence, subject=f"leakage:{split['split']}"))
        inside = self.others
        if inside:
            n = sum(len(g["rows"]) for g in inside)
            share = n / max(self.n_samples, 1)
            exact = sum(g["kind"] == "exact" for g in inside)
            out.append(Finding(f"{ID}/copies", ID, "medium" if share >= 0.05 else "low", min(1.0, 5 * share),
                               f"{n} images are copies of each other ({len(inside)} groups: {exact} exact, "
                               f"{len(inside) - exact} near): each group counts as many times as it has members "
                               "in training and in every score.",
                               [g["rows"][j] for g in inside[:4] for j in (0, 1)], subject="duplicates"))
        conflicts = [g for g in self.groups if g["label_conflict"]]
        if conflicts:
            first = conflicts[0]
            out.append(Finding(f"{ID}/label-conflicts", ID, "medium", min(1.0, 0.2 * len(conflicts)),
                               f"{len(conflicts)} group{'s' if len(conflicts) > 1 else ''} of copies carr"
                               f"{'y' if len(conflicts) > 1 else 'ies'} different labels for the same image (e.g. "
                               f"{' and '.join(first['paths'][:2])}: {' vs '.join(map(str, first['labels'][:2]))}"
                               "): at least one label in each is wrong.",
                               [i for g in conflicts[:4] for i in g["rows"][:2]], subject="duplicate labels"))
        return out


def pair_evidence(group: dict, split: str) -> list[int]:
    """An evaluation copy, then its training original: the digest shows them side by side."""
    evaluation = [i for i, s in zip(group["rows"], group["splits"]) if s == split]
    train = [i for i, s in zip(group["rows"], group["splits"]) if s.lower() in TRAINING_SPLITS]
    return evaluation[:1] + train[:1] if evaluation and train else []


def leakage_table(collected, groups: list[dict], train: set[int]) -> list[dict]:
    """Per evaluation split (all but train, when a split is named train): its images with a copy in train and
    its accuracy with and without them."""
    if not train:
        return []
    leaked = np.zeros(collected.n, bool)
    for g in groups:
        if g["leak"]:
            rows = np.asarray(g["rows"])
            leaked[rows[~np.isin(collected.split[rows], list(train))]] = True
    out = []
    for s, name in enumerate(collected.split_names):
        if s in train:
            continue
        members = collected.split == s
        kept = members & ~leaked
        accuracy = lambda m: float(collected.correct[m].mean()) if collected.labelled and m.any() else None
        out.append({"split": name, "n": int(members.sum()), "n_leaked": int((members & leaked).sum()),
                    "accuracy": accuracy(members), "accuracy_without": accuracy(kept)})
    return out


def run(collected, *, neighbours: Neighbours) -> DuplicatesResult:
    phash = perceptual_hashes(collected.pixels)
    usable = ~collected.nonfinite if collected.nonfinite is not None else None
    found = duplicate_groups(collected.embeddings, neighbours.indices, neighbours.distances, collected.pixel_hash,
                             phash, collected.pixels, usable=usable)
    train = {s for s, name in enumerate(collected.split_names) if name.lower() in TRAINING_SPLITS}
    links = link_summary(found)
    rows = []
    for g, members in enumerate(found.members):
        hashes = collected.pixel_hash[members] if collected.pixel_hash is not None else None
        kind = "exact" if hashes is not None and (hashes == hashes[0]).all() else "near"
        rows.append(group_row(collected, members, g, kind, links, found.median_nn, train))
    rows.sort(key=lambda g: (not g["leak"], g["kind"] != "exact", -len(g["rows"]), g["rows"][0]))
    method = {"exact": "equal 64-bit hashes (XXH3) of the decoded pixels" if collected.pixel_hash is not None
              else "not available (no pixel hashes in these arrays)",
              "near_embedding": f"embedding distance below {NEAR_FRACTION} x the median nearest-neighbour distance",
              "near_hash": f"perceptual hash (DCT pHash) within {HASH_BITS} bits and 32x32 copies within "
                           f"{PIXEL_NEAR:g} grey levels on average",
              "median_nearest_distance": round(found.median_nn, 6), "threshold": round(found.threshold, 6),
              "groups": "connected components of the links (union-find)"}
    result = DuplicatesResult(rows, leakage_table(collected, rows, train), method, collected.n,
                              evaluation_split(collected.split_names), collected.labelled)
    for g in result.leaked[:PAGE_GROUPS] + result.others[:PAGE_GROUPS]:  # thumbnails only for what the page draws
        g["cards"] = member_cards(collected, g["rows"], train)
    return result
