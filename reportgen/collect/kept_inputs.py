"""The model inputs of the samples the gradient analyses will ask for, kept from the pass so they are not decoded a
second time.

Which samples those are depends on every sample's loss, known only when the pass ends, so the pass keeps the
rows that can still be chosen, ranked as the choices rank them (explain/saliency_samples.py, analyses/insides.py):
per split the `top_k` highest losses (the hardest); per class, outside those, the `per_class` highest-loss wrong
and most confident right predictions (a row that drops out of the hardest is offered to its class); and the most
and least confident sample overall. With one split this is exactly the set the saliency choice draws from.

Inputs are kept as the pass prepared them: a picture's as its raw uint8 pixels (collect/dataset.py, Preprocess),
normalised when a batch of them is made. At most KEPT_INPUT_BYTES: the per-class lists shrink first (at 1,000
classes they go). A row not kept is decoded
again, so what is kept decides speed, never what the report shows.
"""

from __future__ import annotations

import heapq

import numpy as np
import torch

KEPT_INPUT_BYTES = 256 * 2 ** 20  # ~1,700 inputs of 224x224x3 raw pixels (~420 of a transform's float32)


class Ranking:
    """The `size` rows with the largest keys (ties: the lower sample index), as a min-heap."""

    def __init__(self, size: int):
        self.size, self.heap = size, []

    def offer(self, key: float, index: int) -> int | None:
        """Put `index` in if it ranks; returns the row it pushed out (or `index` itself when it didn't get in)."""
        if self.size <= 0:
            return index
        entry = (key, -index)
        if len(self.heap) < self.size:
            heapq.heappush(self.heap, entry)
            return None
        if entry <= self.heap[0]:
            return index
        return -heapq.heapreplace(self.heap, entry)[1]


class KeptInputs:
    """source index -> the model's input as the pass prepared it ((C, H, W), or (H, W, C) raw pixels), for the rows
    that can still be chosen."""

    def __init__(self, *, top_k: int, per_class: int, budget_bytes: int = KEPT_INPUT_BYTES):
        self.top_k, self.per_class, self.budget = top_k, per_class, budget_bytes
        self.inputs: dict[int, torch.Tensor] = {}
        self.raw_rows: set[int] = set()  # the kept inputs that are raw pixels
        self.hardest: dict[int, Ranking] = {}
        self.wrong: dict[int, Ranking] = {}
        self.right: dict[int, Ranking] = {}
        self.classes_size: int | None = None
        self.most, self.least = Ranking(1), Ranking(1)
        self._row_class: dict[int, tuple[int, bool, float]] = {}  # kept row -> (label, right, its class key)

    def get(self, index: int) -> torch.Tensor | None:
        return self.inputs.get(int(index))

    def entry(self, index: int) -> tuple[torch.Tensor, bool] | None:
        """(input, raw) as Preprocess.prepared made it, or None where it was not kept."""
        tensor = self.inputs.get(int(index))
        return None if tensor is None else (tensor, int(index) in self.raw_rows)

    def __len__(self) -> int:
        return len(self.inputs)

    def offer(self, indices: np.ndarray, images: torch.Tensor, *, split: np.ndarray, labels: np.ndarray,
              loss: np.ndarray, right: np.ndarray, confidence: np.ndarray, num_classes: int, num_splits: int,
              raw: bool = False) -> None:
        """One batch: indices (B,) into the samples; images (B, ...) on the CPU (raw: uint8 pixels); the rest
        (B,) each."""
        if self.classes_size is None:
            rows = self.budget // max(1, images[0].nelement() * images[0].element_size())
            spare = rows - num_splits * self.top_k - 2
            self.classes_size = max(0, min(self.per_class, spare // max(1, 2 * num_classes)))
        hard_key = np.where(np.isfinite(loss), loss, np.inf)
        class_key = np.where(right, confidence, hard_key)  # a right prediction by confidence, a wrong one by loss
        # Past the first batches nearly every row ranks nowhere: only the ones that can are looked at one by one.
        can = (hard_key >= [self._bar(self.hardest, s, self.top_k) for s in split]) \
            | (class_key >= [self._bar(self.right if r else self.wrong, int(label), self.classes_size * (label >= 0))
                             for r, label in zip(right, labels)]) \
            | (confidence >= self._bar({0: self.most}, 0, 1)) | (-confidence >= self._bar({0: self.least}, 0, 1))
        for b, index in ((b, int(indices[b])) for b in np.flatnonzero(can)):
            self._row_class[index] = (int(labels[b]), bool(right[b]), float(class_key[b]))
            self.inputs[index] = images[b]  # a view of the batch until it is known to stay
            (self.raw_rows.add if raw else self.raw_rows.discard)(index)
            out = self.hardest.setdefault(int(split[b]), Ranking(self.top_k)).offer(float(hard_key[b]), index)
            if out is not None:
                self._offer_to_class(out)  # this row, not among the hardest, or the one it pushed out
            self.most.offer(float(confidence[b]), index)
            self.least.offer(float(-confidence[b]), index)
        self._forget()
        for index in (int(indices[b]) for b in np.flatnonzero(can)):
            if index in self.inputs:  # its own copy, so that the batch itself can go
                self.inputs[index] = self.inputs[index].detach().clone()

    @staticmethod
    def _bar(rankings: dict, key: int, size: int) -> float:
        """The key a row must reach to enter rankings[key]: its lowest once full; -inf before; inf if it holds none."""
        ranking = rankings.get(key)
        if size <= 0:
            return np.inf
        return ranking.heap[0][0] if ranking is not None and len(ranking.heap) >= size else -np.inf

    def offer_batch(self, indices: np.ndarray, images: torch.Tensor, source, labels: np.ndarray, logits: np.ndarray,
                    probs: np.ndarray, loss: np.ndarray, raw: bool = False) -> None:
        """One batch of the pass (its sample indices, inputs, and rows of the collected arrays), with rightness and
        confidence as Collected defines them: a row with non-finite logits is never right and has no confidence."""
        finite = np.isfinite(logits).all(axis=1)
        preds = np.nan_to_num(logits, nan=-np.inf).argmax(axis=1)
        self.offer(indices, images, split=np.array([source.samples[i].split for i in indices]), labels=labels,
                   loss=loss, right=(preds == labels) & finite, confidence=np.where(finite, probs.max(axis=1), 0.0),
                   num_classes=logits.shape[1], num_splits=len(source.split_names), raw=raw)

    def _offer_to_class(self, row: int) -> None:
        label, right, key = self._row_class[row]
        if label < 0:
            return
        ranking = (self.right if right else self.wrong).setdefault(label, Ranking(self.classes_size))
        ranking.offer(key, row)

    def _forget(self) -> None:
        """Drop the inputs of rows no ranking holds any more."""
        held = {-i for ranking in (*self.hardest.values(), *self.wrong.values(), *self.right.values(), self.most,
                                   self.least) for _k, i in ranking.heap}
        for row in [r for r in self.inputs if r not in held]:
            del self.inputs[row]
            self.raw_rows.discard(row)
            self._row_class.pop(row, None)
