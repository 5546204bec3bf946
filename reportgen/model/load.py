"""Load a saved classifier in the formats people save, without ever running code from an untrusted file.

Formats, tried in this order by looking inside the file rather than trusting its extension:
  torch.export program (.pt2), TorchScript (scripted or traced), a state_dict (needs `arch`),
  and a whole pickled module (only with `trust_model=True`).
"""

from __future__ import annotations

import hashlib
import importlib
import pickle
import sys
import warnings
import zipfile
from dataclasses import dataclass
from pathlib import Path

import torch

from reportgen.errors import ModelFormatError

SAFE_EXPORT_HINT = (
    "export it safely instead: torch.export.save(torch.export.export(model.eval(), (example,)), 'model.pt2'), "
    "or save model.state_dict() and pass --arch"
)


@dataclass
class LoadedModel:
    module: torch.nn.Module  # callable: images (B, C, H, W) -> logits (B, K)
    format: str  # "torch.export" | "torchscript" | "state_dict" | "pickle" | "in memory"
    path: Path | None  # None for a module handed over in memory
    sha256: str  # of the file; of the parameters' bytes for a module in memory
    arch: str | None = None

    @property
    def name(self) -> str:
        return self.path.name if self.path else type(self.module).__name__

    def info(self, spec) -> dict:
        """What the report says of the model (spec: the model.input_spec.InputSpec it is fed with)."""
        size = f"{spec.size[0]}x{spec.size[1]}" if spec.size else "any size"
        crop = f" (resized to {spec.resize}, centre-cropped)" if spec.resize else ""
        return {"path": str(self.path) if self.path else f"(in memory: {type(self.module).__qualname__})",
                "format": self.format, "sha256": self.sha256, "arch": self.arch,
                "input": f"{spec.channels}x{size}{crop}, mean {list(spec.mean)}, std {list(spec.std)} ({spec.source})"}


def parameters_sha256(module: torch.nn.Module) -> str:
    """A fingerprint of a module in memory: its state's names, shapes and bytes."""
    digest = hashlib.sha256()
    for name, tensor in module.state_dict().items():
        digest.update(f"{name}{tuple(tensor.shape)}{tensor.dtype}".encode())
        digest.update(tensor.detach().cpu().contiguous().numpy().tobytes() if tensor.numel() else b"")
    return digest.hexdigest()


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _zip_names(path: Path) -> list[str]:
    try:
        with zipfile.ZipFile(path) as archive:
            return archive.namelist()
    except (zipfile.BadZipFile, OSError):
        return []


def sniff_format(path: Path) -> str:
    """Name the container format from the file's contents: 'export', 'torchscript', 'torch-zip' or 'legacy'."""
    names = _zip_names(path)
    if any(n.endswith("serialized_exported_program.json") or n.endswith("/models/model.json")
           or "/models/" in n and n.endswith(".json") for n in names):
        return "export"
    if any(n.endswith("archive_format") for n in names) and any("/models/" in n for n in names):
        return "export"
    if any(n.endswith("/constants.pkl") for n in names) and any("/code/" in n for n in names):
        return "torchscript"
    if names:
        return "torch-zip"
    return "legacy"


def load_model(path, *, arch: str | None = None, trust_model: bool = False,
               device: str | torch.device = "cpu") -> LoadedModel:
    """Load `path` as a classifier in eval mode on `device`; raise ModelFormatError with a one-line remedy. A
    module in memory is taken as it is (model/in_memory.py sets eval mode and restores it afterwards)."""
    if isinstance(path, torch.nn.Module):
        return LoadedModel(module=path, format="in memory", path=None, sha256=parameters_sha256(path),
                           arch=type(path).__qualname__)
    path = Path(path)
    if not path.exists():
        raise ModelFormatError(f"{path}: no such model file; pass the path of a .pt2, TorchScript or state_dict file")
    if path.is_dir():
        raise ModelFormatError(f"{path}: is a folder, expected a model file (.pt2, TorchScript or state_dict)")
    sha = file_sha256(path)
    kind = sniff_format(path)
    try:
        if kind == "export":
            module = _load_export(path, device)
            fmt = "torch.export"
        elif kind == "torchscript":
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", FutureWarning)  # "TorchScript is deprecated": the README says so
                module = torch.jit.load(str(path), map_location="cpu")
            fmt = "torchscript"
        else:
            module, fmt = _load_pickled(path, arch=arch, trust_model=trust_model)
    except ModelFormatError:
        raise
    except Exception as exc:  # noqa: BLE001 - damaged bytes fail in many ways (IndexError, KeyError, ...)
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise ModelFormatError(
            f"{path}: cannot be read as a PyTorch model ({first[:200]}); is the file complete and saved with "
            "torch.export.save, torch.jit.save or torch.save(model.state_dict())?"
        ) from exc
    if fmt != "torch.export":  # an exported program is already in eval form and on its device
        module = module.to(device)
        module.eval()
    return LoadedModel(module=module, format=fmt, path=path, sha256=sha, arch=arch)


def _load_export(path: Path, device) -> torch.nn.Module:
    program = torch.export.load(str(path))
    if torch.device(device).type != "cpu":
        from torch.export.passes import move_to_device_pass

        program = move_to_device_pass(program, torch.device(device))
    return program.module()


def _load_pickled(path: Path, *, arch: str | None, trust_model: bool):
    try:
        # weights_only=True unpickles tensors and plain containers only: no code from the file runs.
        obj = torch.load(str(path), map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as exc:
        if "Unsupported global" not in str(exc) and "GLOBAL" not in str(exc):
            raise  # not a pickle of Python objects at all: garbage or a damaged file (reported by the caller)
        if not trust_model:
            raise ModelFormatError(
                f"{path}: is a pickled Python object (a whole model saved with torch.save(model)); loading it "
                f"could run code from the file, so it is refused. If you trust this file, pass --trust-model; "
                f"otherwise {SAFE_EXPORT_HINT}"
            ) from exc
        obj = load_trusted_pickle(path)
    if isinstance(obj, torch.nn.Module):
        return obj, "pickle"
    state_dict = _find_state_dict(obj)
    if state_dict is None:
        raise ModelFormatError(
            f"{path}: holds a {type(obj).__name__}, neither a model nor a state_dict of tensors; "
            f"{SAFE_EXPORT_HINT}"
        )
    if not arch:
        raise ModelFormatError(
            f"{path}: is a state_dict (weights without the architecture); pass --arch with a torchvision model "
            "name such as resnet18, or package.module:factory importable from the current directory"
        )
    return build_from_state_dict(state_dict, arch, path), "state_dict"


def importable_from_here() -> None:
    """Modules in the current directory import, as they do under `python -m reportgen` (the console script's
    sys.path starts at its own folder instead)."""
    if "" not in sys.path and "." not in sys.path:
        sys.path.insert(0, "")


def load_trusted_pickle(path: Path):
    """A whole pickled model, its classes imported from the current directory; a class that can't be found is
    one line naming it, not a hint that the file is damaged."""
    importable_from_here()
    try:
        return torch.load(str(path), map_location="cpu", weights_only=False)
    except (ModuleNotFoundError, AttributeError) as exc:
        module = getattr(exc, "name", None) if isinstance(exc, ModuleNotFoundError) else None
        wanted = [f"{m}.{c}" for m, c in pickled_classes(path) if module is None or m.split(".")[0] == module]
        missing = wanted[0] if len(wanted) == 1 or (wanted and module) else (module or str(exc))
        raise ModelFormatError(
            f"{path}: the pickled model needs {missing!r}, which can't be imported ({exc}); run reportgen from the "
            "folder that holds that module (or add it to PYTHONPATH), or save the model with torch.export instead"
        ) from exc


def pickled_classes(path: Path) -> list[tuple[str, str]]:
    """(module, name) of every global a torch.save file's pickle refers to, read with pickletools (which walks
    the opcodes and runs nothing), leaving out torch's own and the standard library's."""
    import pickletools

    try:
        with zipfile.ZipFile(path) as archive:
            data = archive.read(next(n for n in archive.namelist() if n.endswith("data.pkl")))
    except (OSError, zipfile.BadZipFile, StopIteration):
        return []
    found, strings = [], []
    try:
        for op, arg, _pos in pickletools.genops(data):
            if isinstance(arg, str):
                strings.append(arg)
            if op.name == "STACK_GLOBAL" and len(strings) >= 2:
                found.append((strings[-2], strings[-1]))
            elif op.name == "GLOBAL" and isinstance(arg, str):
                found.append(tuple(arg.split(" ", 1)))
    except (ValueError, pickle.UnpicklingError):
        pass
    own = ("torch", "collections", "builtins", "_codecs", "numpy", "copyreg")
    return list(dict.fromkeys((m, c) for m, c in found if m.split(".")[0] not in own))


def _find_state_dict(obj) -> dict | None:
    if isinstance(obj, dict) and obj and all(isinstance(v, torch.Tensor) for v in obj.values()):
        return obj
    if isinstance(obj, dict):
        # Training checkpoints commonly nest the weights under one of these keys.
        for key in ("state_dict", "model_state_dict", "model", "net"):
            if key in obj:
                found = _find_state_dict(obj[key])
                if found is not None:
                    return found
    return None


def _num_classes_from(state_dict: dict) -> int | None:
    """The output count: rows of the last 2-D weight (the classifier layer, for the usual layouts)."""
    weights = [v for k, v in state_dict.items() if k.endswith("weight") and v.ndim == 2]
    return int(weights[-1].shape[0]) if weights else None


def build_architecture(arch: str, num_classes: int | None) -> torch.nn.Module:
    if arch.startswith("timm:"):
        return _timm_model(arch.removeprefix("timm:"), num_classes)
    if ":" in arch:
        module_name, _, factory_name = arch.partition(":")
        importable_from_here()
        try:
            factory = getattr(importlib.import_module(module_name), factory_name)
        except (ImportError, AttributeError) as exc:
            raise ModelFormatError(
                f"--arch {arch}: cannot import {factory_name} from {module_name} ({exc}); run from the folder "
                "that holds the module, or fix the name"
            ) from exc
        return factory()
    import torchvision

    if arch not in torchvision.models.list_models():
        raise ModelFormatError(
            f"--arch {arch}: not a torchvision model name (e.g. resnet18, mobilenet_v3_small, vit_b_16) and not "
            "package.module:factory"
        )
    kwargs = {"weights": None}
    if num_classes is not None:
        kwargs["num_classes"] = num_classes
    return torchvision.models.get_model(arch, **kwargs)


def _timm_model(name: str, num_classes: int | None) -> torch.nn.Module:
    try:
        import timm
    except ImportError as exc:
        raise ModelFormatError(f"--arch timm:{name}: timm is not installed; pip install timm (or reportgen[timm])") \
            from exc
    if not timm.is_model(name):
        raise ModelFormatError(f"--arch timm:{name}: not a timm model name (timm.list_models() lists them)")
    kwargs = {"num_classes": num_classes} if num_classes is not None else {}
    return timm.create_model(name, pretrained=False, **kwargs)  # never a download: the weights are the file's


def build_from_state_dict(state_dict: dict, arch: str, path: Path) -> torch.nn.Module:
    model = build_architecture(arch, _num_classes_from(state_dict))
    expected = model.state_dict()
    missing = sorted(set(expected) - set(state_dict))
    unexpected = sorted(set(state_dict) - set(expected))
    mismatched = sorted(k for k in set(expected) & set(state_dict) if expected[k].shape != state_dict[k].shape)
    if missing or unexpected or mismatched:
        parts = []
        if missing:
            parts.append(f"missing {len(missing)} (e.g. {', '.join(missing[:3])})")
        if unexpected:
            parts.append(f"unexpected {len(unexpected)} (e.g. {', '.join(unexpected[:3])})")
        if mismatched:
            k = mismatched[0]
            parts.append(f"{len(mismatched)} of other shape (e.g. {k}: file {tuple(state_dict[k].shape)} vs "
                         f"{arch} {tuple(expected[k].shape)})")
        raise ModelFormatError(f"{path}: weights do not fit --arch {arch}: {'; '.join(parts)}; check the architecture")
    model.load_state_dict(state_dict)
    return model
