"""Shared fixtures: a few dozen 16x16 images in 3 classes with train/ and val/, and a tiny trained model saved
in every supported format. Everything is made here, seeded; nothing is downloaded."""

from __future__ import annotations

import shutil
import warnings
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image
from tiny_models import TinyNet

CLASSES = ["bar", "dot", "ring"]
PER_CLASS = {"train": 14, "val": 8}
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]


def draw(kind: str, rng: np.random.Generator) -> np.ndarray:
    """A 16x16 uint8 image of a bar, a dot or a ring, jittered, with noise."""
    yy, xx = np.mgrid[:16, :16]
    cy, cx = 8 + rng.integers(-2, 3), 8 + rng.integers(-2, 3)
    r = np.hypot(yy - cy, xx - cx)
    if kind == "bar":
        shape = np.abs(xx - cx) < 2
    elif kind == "dot":
        shape = r < 3
    else:
        shape = (r > 4) & (r < 6.5)
    image = shape * 200 + rng.normal(30, 15, (16, 16))
    return np.clip(image, 0, 255).astype(np.uint8)


def write_tree(root: Path, seed: int = 0) -> Path:
    rng = np.random.default_rng(seed)
    for split, count in PER_CLASS.items():
        for name in CLASSES:
            folder = root / split / name
            folder.mkdir(parents=True, exist_ok=True)
            for i in range(count):
                Image.fromarray(draw(name, rng), "L").save(folder / f"{name}_{i:02d}.png")
    return root


def load_tensors(root: Path):
    paths = sorted(root.glob("*/*/*.png"))
    x = torch.stack([torch.from_numpy(np.asarray(Image.open(p), dtype=np.float32) / 255.0)[None] for p in paths])
    y = torch.tensor([CLASSES.index(p.parent.name) for p in paths])
    return x, y


def train_tiny(root: Path) -> TinyNet:
    torch.manual_seed(0)
    model = TinyNet()
    x, y = load_tensors(root)
    optimiser = torch.optim.Adam(model.parameters(), lr=0.02)
    for _ in range(60):
        loss = torch.nn.functional.cross_entropy(model(x), y)
        optimiser.zero_grad()
        loss.backward()
        optimiser.step()
    return model.eval()


@pytest.fixture(scope="session")
def image_tree(tmp_path_factory) -> Path:
    """data/train/<class>/*.png and data/val/<class>/*.png, 3 classes."""
    return write_tree(tmp_path_factory.mktemp("data") / "data")


@pytest.fixture(scope="session")
def tiny_model(image_tree) -> TinyNet:
    return train_tiny(image_tree)


@pytest.fixture(scope="session")
def model_files(tmp_path_factory, tiny_model) -> dict[str, Path]:
    """The tiny model saved as .pt2, scripted and traced TorchScript, state_dict and a whole pickle."""
    folder = tmp_path_factory.mktemp("models")
    example = torch.zeros(2, 1, 16, 16)
    files = {
        "pt2": folder / "tiny.pt2", "script": folder / "tiny_script.pt", "trace": folder / "tiny_trace.pt",
        "state_dict": folder / "tiny_weights.pt", "pickle": folder / "tiny_pickle.pt",
    }
    program = torch.export.export(tiny_model, (example,), dynamic_shapes=({0: torch.export.Dim("batch")},))
    torch.export.save(program, str(files["pt2"]))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.jit.save(torch.jit.script(tiny_model), str(files["script"]))
        torch.jit.save(torch.jit.trace(tiny_model, example), str(files["trace"]))
    torch.save(tiny_model.state_dict(), files["state_dict"])
    torch.save(tiny_model, files["pickle"])
    shutil.copy(Path(__file__).with_name("tiny_models.py"), folder / "tiny_models.py")
    return files


@pytest.fixture(scope="session")
def browser():
    """A real headless Chromium (Debian's /usr/bin/chromium) driven by Playwright."""
    playwright_api = pytest.importorskip("playwright.sync_api")
    if not Path("/usr/bin/chromium").exists():
        pytest.fail("/usr/bin/chromium is missing: run scripts/test.sh, which installs Debian's chromium")
    with playwright_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture(scope="session")
def demo_like_report(tmp_path_factory, model_files, image_tree):
    """One report over the tiny tree with the .pt2 model, shared by the HTML and browser tests."""
    from reportgen import build_report

    out = tmp_path_factory.mktemp("report")
    result = build_report(model_files["pt2"], image_tree, out / "report.html", json_path=out / "report.json",
                          quiet=True, projection="pca", workers=0)
    return result
