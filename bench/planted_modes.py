"""Images with planted styles and the embeddings of a small CNN trained on them, for bench_class_modes.py.

Each class is one glyph (a few random strokes) drawn with jitter: shift, scale, a small rotation, stroke width
and noise, so a class of one style is one mode by construction. A planted group is a share of one class drawn
another way: rotated, inverted, thicker, striped, or as a variant glyph (half its strokes redrawn: seed 002's
closed 4 next to the open one). A group planted in the training data too is one the model learns (mostly
right); one planted in the evaluated data only is one it has never seen (mostly wrong).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

SIDE = 28
STYLES = ("variant", "rotated", "inverted", "thick", "striped")


def glyph(rng: np.random.Generator, strokes: int = 4) -> np.ndarray:
    """(strokes, 2, 2) segment end points in [-0.8, 0.8]^2."""
    return rng.uniform(-0.8, 0.8, (strokes, 2, 2))


def variant(segments: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """The same glyph with half its strokes redrawn: close to the original, yet a style of its own."""
    out = segments.copy()
    redrawn = rng.choice(len(out), len(out) // 2, replace=False)
    out[redrawn] = rng.uniform(-0.8, 0.8, (len(redrawn), 2, 2))
    return out


def render(segments: np.ndarray, count: int, rng: np.random.Generator, *, style: str | None = None,
           jitter: float = 1.0) -> np.ndarray:
    """(count, SIDE, SIDE) float32 in [0, 1]: `segments` (S, 2, 2) drawn `count` times with random jitter."""
    from PIL import Image, ImageDraw

    angle = rng.normal(0, 0.15 * jitter, count) + (np.pi * 0.6 if style == "rotated" else 0.0)
    scale = rng.uniform(1 - 0.12 * jitter, 1 + 0.12 * jitter, count)
    shift = rng.uniform(-0.12 * jitter, 0.12 * jitter, (count, 1, 2))
    width = rng.uniform(0.07, 0.11, count) * (2.2 if style == "thick" else 1.0)
    cos, sin = np.cos(angle), np.sin(angle)
    rotation = np.stack([np.stack([cos, -sin], 1), np.stack([sin, cos], 1)], 1) * scale[:, None, None]
    ends = np.einsum("bij,skj->bski", rotation, segments) + shift[:, None]  # (count, S, 2, 2) in [-1, 1]
    # Drawn at 4x and box-filtered down: antialiased strokes, and widths in fine steps (at 2x, PIL's whole-pixel
    # widths fell in three levels, and the CNN split single-style classes by them).
    big = 4 * SIDE
    ends = (ends + 1) / 2 * big
    images = np.empty((count, SIDE, SIDE), np.float32)
    for i in range(count):
        canvas = Image.new("L", (big, big))
        draw = ImageDraw.Draw(canvas)
        for (x0, y0), (x1, y1) in ends[i]:
            draw.line([(x0, y0), (x1, y1)], fill=255, width=max(1, round(width[i] * big)))
        images[i] = np.asarray(canvas.resize((SIDE, SIDE), Image.BOX), np.float32) / 255
    if style == "striped":
        images *= (np.arange(SIDE) // 2 % 2)[None, :, None]
    images += rng.normal(0, 0.08, images.shape).astype(np.float32)
    if style == "inverted":
        images = 1 - images
    return np.clip(images, 0, 1)


class GlyphCNN(nn.Module):
    """Three conv blocks and a `width`-d penultimate layer (ReLU), as reportgen taps it."""

    def __init__(self, num_classes: int, width: int = 64):
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(1, 16, 4, stride=2, padding=1), nn.ReLU(),
            nn.Conv2d(16, 32, 3, stride=2, padding=1), nn.ReLU(),
            nn.Conv2d(32, 32, 3, padding=1), nn.ReLU(), nn.AdaptiveAvgPool2d(3),
        )
        self.embed = nn.Sequential(nn.Flatten(), nn.Linear(32 * 9, width), nn.ReLU())
        self.head = nn.Linear(width, num_classes)

    def forward(self, x):
        return self.head(self.embed(self.features(x)))


def train_and_embed(x_train: np.ndarray, y_train: np.ndarray, x_eval: np.ndarray, y_eval: np.ndarray,
                    num_classes: int, *, epochs: int = 4, width: int = 64, seed: int = 0):
    """Train GlyphCNN on (x_train (n, H, W), y_train); return the evaluated samples' embeddings (m, width),
    predictions (m,) and cross-entropy losses (m,)."""
    torch.manual_seed(seed)
    model = GlyphCNN(num_classes, width)
    xt, yt = torch.from_numpy(x_train[:, None]), torch.from_numpy(y_train.astype(np.int64))
    optimiser = torch.optim.Adam(model.parameters(), lr=3e-3)
    generator = torch.Generator().manual_seed(seed)
    for _ in range(epochs):
        order = torch.randperm(len(yt), generator=generator)
        for start in range(0, len(yt), 128):
            batch = order[start:start + 128]
            loss = nn.functional.cross_entropy(model(xt[batch]), yt[batch])
            optimiser.zero_grad()
            loss.backward()
            optimiser.step()
    model.eval()
    embeddings, logits = [], []
    with torch.no_grad():
        for start in range(0, len(x_eval), 1024):
            feats = model.embed(model.features(torch.from_numpy(x_eval[start:start + 1024, None])))
            embeddings.append(feats)
            logits.append(model.head(feats))
    emb, logits = torch.cat(embeddings), torch.cat(logits)
    loss = nn.functional.cross_entropy(logits, torch.from_numpy(y_eval.astype(np.int64)), reduction="none")
    return emb.numpy(), logits.argmax(1).numpy(), loss.numpy()


@dataclass
class Planted:
    """Embeddings of the evaluated samples and where the planted groups are."""
    embeddings: np.ndarray  # (N, width) float32
    labels: np.ndarray  # (N,)
    preds: np.ndarray
    loss: np.ndarray
    groups: dict[int, np.ndarray]  # class -> rows of the group planted in it
    plants: dict[int, tuple[float, str, bool]]  # class -> (share, style, seen in training)


def glyph_data(num_classes: int, eval_sizes, train_size: int, plants: dict, *, seed: int = 0, width: int = 64,
               epochs: int = 4) -> Planted:
    """Glyph classes with planted groups: plants = {class: (share, style, seen in training)}."""
    rng = np.random.default_rng(seed)
    eval_sizes = np.broadcast_to(eval_sizes, num_classes)
    glyphs = [glyph(rng) for _ in range(num_classes)]
    parts = {"train": ([], []), "eval": ([], [])}
    groups, start = {}, 0
    for c in range(num_classes):
        share, style, seen = plants.get(c, (0.0, None, False))
        other = variant(glyphs[c], rng) if style == "variant" else glyphs[c]
        for split, n in (("train", train_size), ("eval", int(eval_sizes[c]))):
            m = int(round(share * n)) if split == "eval" or seen else 0
            images = [render(glyphs[c], n - m, rng)]
            if m:
                images.append(render(other, m, rng, style=None if style == "variant" else style))
            parts[split][0].extend(images)
            parts[split][1].append(np.full(n, c))
            if split == "eval":
                if m:
                    groups[c] = start + np.arange(n - m, n)
                start += n
    (xt, yt), (xe, ye) = [(np.concatenate(x), np.concatenate(y)) for x, y in parts.values()]
    emb, preds, loss = train_and_embed(xt, yt, xe, ye, num_classes, epochs=epochs, width=width, seed=seed)
    return Planted(emb, ye, preds, loss, groups, dict(plants))


def restyle(images: np.ndarray, style: str, rng: np.random.Generator) -> np.ndarray:
    """Real images (n, SIDE, SIDE) in [0, 1] drawn another way; `variant` has no meaning here (rotated instead)."""
    from scipy import ndimage

    if style == "inverted":
        return 1 - images
    if style == "thick":
        return ndimage.grey_dilation(images, size=(1, 3, 3))
    if style == "striped":
        return images * (np.arange(SIDE) // 2 % 2)[None, :, None]
    angle = 110 + rng.normal(0, 8)
    return np.clip(ndimage.rotate(images, angle, axes=(1, 2), reshape=False, order=1), 0, 1)


def digits_data(plants: dict, *, seed: int = 0, width: int = 64, epochs: int = 30) -> Planted:
    """scikit-learn's digits at SIDE x SIDE; half train the CNN, the other half (with plants) is evaluated."""
    from sklearn.datasets import load_digits

    digits = load_digits()
    rng = np.random.default_rng(seed)
    x = torch.nn.functional.interpolate(torch.from_numpy(digits.images[:, None] / 16.0).float(), size=SIDE,
                                        mode="bilinear", align_corners=False)[:, 0].numpy()
    y = digits.target.astype(np.int64)
    order = rng.permutation(len(y))
    train, evaluated = order[: len(y) // 2], np.sort(order[len(y) // 2:])
    x_train, x_eval = x[train].copy(), x[evaluated].copy()
    groups = {}
    for c, (share, style, seen) in plants.items():
        for split, images, labels in ((0, x_train, y[train]), (1, x_eval, y[evaluated])):
            if split == 0 and not seen:
                continue
            rows = np.flatnonzero(labels == c)
            chosen = np.sort(rng.choice(rows, int(round(share * len(rows))), replace=False))
            images[chosen] = restyle(images[chosen], "rotated" if style == "variant" else style, rng)
            if split == 1:
                groups[c] = chosen
    emb, preds, loss = train_and_embed(x_train, y[train], x_eval, y[evaluated], 10, epochs=epochs, width=width,
                                       seed=seed)
    return Planted(emb, y[evaluated], preds, loss, groups, dict(plants))


def blob_data(num_classes: int, sizes, dims: int, *, seed: int = 0) -> Planted:
    """Single-mode classes without a model: anisotropic Gaussian blobs (a random covariance per class, axis
    scales falling like a trained embedding's spectrum), all predicted right; the false-positive check."""
    rng = np.random.default_rng(seed)
    sizes = np.broadcast_to(sizes, num_classes)
    parts = []
    for c in range(num_classes):
        basis, _ = np.linalg.qr(rng.normal(size=(dims, dims)))
        scales = 1.0 / np.arange(1, dims + 1) ** 0.7
        parts.append(rng.normal(0, 6, dims) + (rng.normal(size=(sizes[c], dims)) * scales) @ basis.T)
    labels = np.repeat(np.arange(num_classes), sizes)
    return Planted(np.concatenate(parts).astype(np.float32), labels, labels.copy(),
                   np.full(len(labels), 0.01, np.float32), {}, {})
