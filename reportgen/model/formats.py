"""Which adapter a loaded module gets: the one place that looks at a module's type to know its format."""

from __future__ import annotations

import torch

from reportgen.model.adapter import ModelAdapter
from reportgen.model.eager import EagerAdapter
from reportgen.model.exported import ExportedAdapter
from reportgen.model.scripted import ScriptedAdapter


def adapter_for(module, layer: str | None = None) -> ModelAdapter:
    """The adapter of a loaded module's format; `layer` (--layer) names the module whose output is the embedding."""
    if isinstance(module, ModelAdapter):
        return module
    if isinstance(module, torch.jit.ScriptModule):
        return ScriptedAdapter(module, layer)
    if isinstance(module, torch.fx.GraphModule):
        return ExportedAdapter(module, layer)
    return EagerAdapter(module, layer)
