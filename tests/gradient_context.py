"""Build what the gradient analyses get from the pipeline (Collected + their inputs) for one saved model file, the
way pipeline.build_report does, so an analysis can be run on every model format without writing a report."""

from __future__ import annotations

import torch
from torch import nn

from reportgen.analyses.runner import run_all
from reportgen.collect.batched_pass import collect_outputs
from reportgen.collect.dataset import input_loader
from reportgen.data.discover import discover
from reportgen.explain.model_access import ModelAccess
from reportgen.model.formats import adapter_for
from reportgen.model.input_spec import infer_input_spec
from reportgen.model.load import load_model

ARCH = {"state_dict": "tiny_models:make_tiny_net"}


def collected_and_inputs(model_path, data_root, fmt: str, **inputs):
    """(Collected, the analyses' inputs) for a saved model; `inputs` adds or overrides (saliency_samples, ...)."""
    loaded = load_model(model_path, arch=ARCH.get(fmt), trust_model=fmt == "pickle", device="cpu")
    source = discover(data_root)
    spec = infer_input_spec(loaded.module, image_size=16)
    adapter = adapter_for(loaded.module)  # as in the pipeline: it may insert a capture node into a .pt2 graph
    collected = collect_outputs(adapter, source, spec, device=torch.device("cpu"), batch_size=32, workers=0,
                                quiet=True)
    access = ModelAccess(adapter, input_loader(source, spec, collected, torch.device("cpu")), spec.mean, spec.std)
    return collected, {"top_k": 3, "model_access": access, **inputs}


def analyse(module, collected, **inputs):
    """One analysis run as the pipeline runs it (its declared inputs picked from `inputs`); its Section, checked."""
    (section,) = run_all(collected, inputs, modules=[module], quiet=True).sections
    assert section.error is None, f"{section.error}\n{section.trace}"
    return section
class MLP(nn.Module):
    """No convolution at all."""

    def __init__(self, num_classes: int = 3):
        super().__init__()
        self.body = nn.Sequential(nn.Flatten(), nn.Linear(256, 32), nn.ReLU(), nn.Linear(32, num_classes))

    def forward(self, x):
        return self.body(x)


class TinyViT(nn.Module):
    """A ViT in miniature: a patch-embedding convolution, then self-attention, then a linear head."""

    def __init__(self, num_classes: int = 3, dim: int = 16):
        super().__init__()
        self.patch = nn.Conv2d(1, dim, 4, stride=4)
        self.attention = nn.MultiheadAttention(dim, 2, batch_first=True)
        self.head = nn.Linear(dim, num_classes)

    def forward(self, x):
        tokens = self.patch(x).flatten(2).transpose(1, 2)
        mixed, _ = self.attention(tokens, tokens, tokens, need_weights=False)
        return self.head((tokens + mixed).mean(dim=1))


class InplaceVGG(nn.Module):
    """Conv -> ReLU(inplace=True), as VGG does: the ReLU overwrites the conv's output in place."""

    def __init__(self, num_classes: int = 3):
        super().__init__()
        self.features = nn.Sequential(nn.Conv2d(1, 4, 3, padding=1), nn.ReLU(inplace=True),
                                      nn.Conv2d(4, 6, 3, padding=1), nn.ReLU(inplace=True),
                                      nn.AdaptiveAvgPool2d(2))
        self.classifier = nn.Linear(24, num_classes)

    def forward(self, x):
        return self.classifier(self.features(x).flatten(1))


class ReversedRegistration(nn.Module):
    """Registers its convolutions in the opposite order to the one they run in."""

    def __init__(self, num_classes: int = 3):
        super().__init__()
        self.late = nn.Conv2d(5, 7, 3, padding=1)
        self.early = nn.Conv2d(1, 5, 3, padding=1)
        self.head = nn.Linear(7, num_classes)

    def forward(self, x):
        return self.head(torch.relu(self.late(torch.relu(self.early(x)))).mean(dim=(2, 3)))


def export(model: nn.Module, example: torch.Tensor) -> torch.fx.GraphModule:
    program = torch.export.export(model.eval(), (example,), dynamic_shapes=({0: torch.export.Dim("batch")},))
    return program.module()
