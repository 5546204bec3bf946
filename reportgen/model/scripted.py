"""TorchScript programs: no hooks and no graph edits from here. The embedding comes from swapping the last Linear's
weight for an identity and recomputing the logits from it (checked against a real forward once); inner layers
can't be read, so the gradient analyses that need them say so (NoHooks)."""

from __future__ import annotations

from contextlib import contextmanager

import torch

from reportgen.model.adapter import SCRIPT_NO_HOOKS, Layer, ModelAdapter, NoHooks
from reportgen.model.outputs import as_logits


class ScriptedAdapter(ModelAdapter):
    format = "torchscript"
    takes_hooks = False

    def _attach_embedding(self, layer: str | None) -> None:
        self._linear = None  # (module, weight, bias) while the identity swap is in use
        self._checked = False
        if layer:
            self._no_embedding("TorchScript programs take no hooks, so --layer can't be read; use a .pt2 export")
            return
        linears = [(name, m) for name, m in self.module.named_modules()
                   if getattr(m, "original_name", "") == "Linear"]
        if not linears:
            self._no_embedding("the TorchScript program has no Linear classifier layer")
            return
        name, module = linears[-1]
        self.embedding_layer = name
        self._linear = (module, module.weight.detach().clone(), module.bias)

    def __call__(self, images: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        if self._linear is None:
            return super().__call__(images)
        module, weight, bias = self._linear
        bias_value = bias.detach().clone() if bias is not None else None
        reference = None if self._checked else as_logits(self.module(images))
        dim = weight.shape[1]
        module.weight = torch.nn.Parameter(torch.eye(dim, dtype=weight.dtype, device=weight.device))
        if bias is not None:
            module.bias = torch.nn.Parameter(torch.zeros(dim, dtype=weight.dtype, device=weight.device))
        try:
            embeddings = as_logits(self.module(images))
        finally:
            module.weight = torch.nn.Parameter(weight)
            if bias is not None:
                module.bias = torch.nn.Parameter(bias_value)
        logits = embeddings @ weight.T + (bias_value if bias is not None else 0)
        if reference is not None:
            self._checked = True
            # The swap is only valid if the Linear is the program's last op; a real forward decides.
            if embeddings.ndim != 2 or not torch.allclose(logits, reference, rtol=1e-4, atol=1e-4):
                self._linear = None
                self._no_embedding("the TorchScript program does more after its last Linear layer")
                return reference, reference.flatten(1)
        return logits, embeddings.flatten(1)

    def conv_layers(self, probe: torch.Tensor | None = None) -> list[Layer]:
        raise NoHooks(SCRIPT_NO_HOOKS)

    def declared_convs(self) -> list[tuple[str, torch.nn.Module]]:
        """The convolutions in declaration order: all a program says about its layers (not the order they run)."""
        return [(name, m) for name, m in self.module.named_modules() if getattr(m, "original_name", "") == "Conv2d"]

    def layer_names(self) -> list[str]:
        raise NoHooks(SCRIPT_NO_HOOKS)

    @contextmanager
    def capture(self, names: list[str]):
        raise NoHooks(SCRIPT_NO_HOOKS)
        yield {}  # pragma: no cover

    def conv_weight(self, name: str) -> torch.Tensor:
        return dict(self.declared_convs())[name].weight
