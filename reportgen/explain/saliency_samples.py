"""Which samples get saliency maps: the hardest ones, then a few wrong and correct ones from every class,
within a budget (--saliency-samples) so the gradient pass and the page stay small."""

from __future__ import annotations

from itertools import zip_longest

import numpy as np

from reportgen.compute.class_geometry import class_members
from reportgen.compute.ranking_by_loss import hardest_samples

PER_CLASS = 2  # wrong and correct samples per true class


def choose_saliency_samples(collected, budget: int, *, top_k: int, per_class: int = PER_CLASS) -> dict[int, str]:
    """Collected row index -> why it was chosen ("hardest" | "wrong" | "correct"), at most `budget` rows.

    The hardest samples (the `top_k` highest losses of each split, as the hardest-samples section shows) take
    at most half the budget, so every class still gets its own wrong and correct examples: per class, the
    highest-loss wrong predictions and the most confident correct ones, alternating, round-robin across classes.
    """
    chosen: dict[int, str] = {}
    if budget <= 0 or collected.n == 0:
        return chosen
    hardest = np.concatenate([hardest_samples(collected.loss, collected.split == s, top_k)
                              for s in range(len(collected.split_names))]).astype(int)
    finite_loss = np.where(np.isfinite(collected.loss), collected.loss, np.inf)
    hardest = hardest[np.argsort(-finite_loss[hardest], kind="stable")]
    for row in hardest[: max(1, budget // 2)]:
        chosen[int(row)] = "hardest"
    queues = []
    correct, confidence = collected.correct, collected.confidence
    for members in class_members(collected.labels, len(collected.classes)):
        wrong = members[~correct[members]]
        right = members[correct[members]]
        # Skip rows already chosen as hardest, so each class still shows `per_class` of each kind of its own.
        wrong = wrong[np.argsort(-finite_loss[wrong], kind="stable")]
        right = right[np.argsort(-confidence[right], kind="stable")]
        wrong = [r for r in wrong if r not in chosen][:per_class]
        right = [r for r in right if r not in chosen][:per_class]
        pairs = zip_longest([(int(r), "wrong") for r in wrong], [(int(r), "correct") for r in right])
        queues.append([entry for pair in pairs for entry in pair if entry is not None])
    for depth in range(2 * per_class):
        for queue in queues:
            if len(chosen) >= budget:
                return chosen
            if depth < len(queue):
                chosen[queue[depth][0]] = queue[depth][1]
    return chosen
