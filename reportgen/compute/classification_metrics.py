"""Confusion matrix and per-class precision/recall/F1, computed the way scikit-learn does (zero_division=0)."""

from __future__ import annotations

import numpy as np


def confusion_matrix(labels: np.ndarray, preds: np.ndarray, num_classes: int) -> np.ndarray:
    """(K, K) int64: rows are the true class, columns the predicted class."""
    return np.bincount(labels * num_classes + preds, minlength=num_classes * num_classes).reshape(
        num_classes, num_classes)


def per_class_scores(matrix: np.ndarray) -> dict[str, np.ndarray]:
    """precision, recall, f1 (K,) float64 and support (K,) int64 from a confusion matrix (rows true)."""
    true_pos = np.diag(matrix).astype(np.float64)
    predicted = matrix.sum(axis=0)
    support = matrix.sum(axis=1)
    precision = np.divide(true_pos, predicted, out=np.zeros_like(true_pos), where=predicted > 0)
    recall = np.divide(true_pos, support, out=np.zeros_like(true_pos), where=support > 0)
    denominator = precision + recall
    f1 = np.divide(2 * precision * recall, denominator, out=np.zeros_like(true_pos), where=denominator > 0)
    return {"precision": precision, "recall": recall, "f1": f1, "support": support.astype(np.int64)}


def finite_mean(values: np.ndarray) -> float | None:
    """Mean over finite values; None when there are none (JSON has no NaN)."""
    finite = values[np.isfinite(values)]
    return float(finite.mean()) if finite.size else None


def sparse_cells(matrix: np.ndarray) -> list[list[int]]:
    """[[true, predicted, count], ...] for every non-zero cell of a confusion matrix, row-major."""
    t, p = np.nonzero(matrix)
    return np.stack([t, p, matrix[t, p]], axis=1).tolist()


DENSE_JSON_MAX_CLASSES = 2000  # report.json's matrices as K lists of K up to here; above, their non-zero cells


def matrix_json(matrix: np.ndarray, key: str = "confusion_matrix") -> dict:
    """{key: K lists of K} up to DENSE_JSON_MAX_CLASSES; above (K^2 = 100,000,000 numbers at 10,000 classes),
    {key + "_sparse": its non-zero cells}, which hold the same counts in at most one entry per sample."""
    if matrix.shape[0] <= DENSE_JSON_MAX_CLASSES:
        return {key: matrix.tolist()}
    return {f"{key}_sparse": {"shape": list(matrix.shape), "cells": sparse_cells(matrix),
                              "note": "non-zero cells [true, predicted, count]; every other cell is 0"}}


def matrix_from_json(split_json: dict) -> np.ndarray:
    """A split's confusion matrix from report.json, dense (`confusion_matrix`) or sparse (above 2,000 classes)."""
    if "confusion_matrix" in split_json:
        return np.asarray(split_json["confusion_matrix"], dtype=np.int64)
    sparse = split_json["confusion_matrix_sparse"]
    matrix = np.zeros(sparse["shape"], dtype=np.int64)
    if sparse["cells"]:
        t, p, count = np.asarray(sparse["cells"], dtype=np.int64).T
        matrix[t, p] = count
    return matrix
