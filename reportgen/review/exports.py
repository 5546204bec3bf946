"""Files for neighbouring tools: Bulk's `path,x,y` CSV and TensorBoard's Embedding Projector folder."""

from __future__ import annotations

import csv
import io
import math
from pathlib import Path

import numpy as np
from PIL import Image

from reportgen.errors import ReportgenError

CSV_COLUMNS = ("path", "x", "y", "split", "label", "prediction", "confidence", "loss")
SPRITE_MAX_SIDE = 8192  # the Projector refuses sprites larger than 8192 x 8192
SPRITE_CELL_MAX = 64


def write_bulk_csv(report: dict, path: Path) -> None:
    """One row per sample from report["samples"]; `path` is absolute (data root + the report's path)."""
    root = Path(report.get("provenance", {}).get("data_root", "."))
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with open(path, "w", newline="", encoding="utf-8") as handle:
            writer = csv.writer(handle)
            writer.writerow(CSV_COLUMNS)
            for row in report.get("samples", []):
                writer.writerow([str(root / row["path"]), *(row.get(c) for c in CSV_COLUMNS[1:])])
    except OSError as exc:
        raise ReportgenError(f"{path}: could not be written ({exc.strerror or exc}); "
                             "choose another --export-csv path") from exc


def _tsv_field(value) -> str:
    return str(value).replace("\t", " ").replace("\n", " ").replace("\r", " ")


def sprite_image(thumbnails: list[bytes]) -> tuple[Image.Image, int]:
    """All thumbnails on one square grid, row-major (sample i at cell i); returns (image, cell side)."""
    per_row = max(1, math.ceil(math.sqrt(len(thumbnails))))
    cell = max(1, min(SPRITE_CELL_MAX, SPRITE_MAX_SIDE // per_row))
    sprite = Image.new("RGB", (per_row * cell, per_row * cell), "white")
    for i, encoded in enumerate(thumbnails):
        with Image.open(io.BytesIO(encoded)) as thumb:
            tile = thumb.convert("RGB").resize((cell, cell))
        sprite.paste(tile, ((i % per_row) * cell, (i // per_row) * cell))
    return sprite, cell


def write_projector(collected, folder: Path) -> None:
    """tensors.tsv (N, D embeddings), metadata.tsv (header + N rows), sprite.png, projector_config.pbtxt."""
    try:
        folder.mkdir(parents=True, exist_ok=True)
        embeddings = np.asarray(collected.embeddings, dtype=np.float32)
        np.savetxt(folder / "tensors.tsv", embeddings, delimiter="\t", fmt="%.6g")
        with open(folder / "metadata.tsv", "w", encoding="utf-8", newline="\n") as handle:
            handle.write("path\tsplit\tlabel\tprediction\tcorrect\tloss\n")
            for i in range(collected.n):
                fields = (collected.paths[i], collected.split_names[collected.split[i]],
                          collected.classes[collected.labels[i]], collected.classes[collected.preds[i]],
                          bool(collected.correct[i]), f"{float(collected.loss[i]) + 0.0:.5g}")
                handle.write("\t".join(_tsv_field(f) for f in fields) + "\n")
        sprite, cell = sprite_image(collected.thumbnails)
        sprite.save(folder / "sprite.png")
        (folder / "projector_config.pbtxt").write_text(
            "embeddings {\n"
            '  tensor_name: "reportgen_embedding"\n'
            '  tensor_path: "tensors.tsv"\n'
            '  metadata_path: "metadata.tsv"\n'
            "  sprite {\n"
            '    image_path: "sprite.png"\n'
            f"    single_image_dim: {cell}\n"
            f"    single_image_dim: {cell}\n"
            "  }\n"
            "}\n", encoding="utf-8")
    except OSError as exc:
        raise ReportgenError(f"{folder}: could not write the projector files ({exc.strerror or exc}); "
                             "choose another --export-projector folder") from exc
