"""One adapter per model format, the way pytorch-grad-cam's BaseCAM owns hooks and the forward pass.

An adapter wraps a loaded classifier and is the only place that knows its format. It gives the collect pass
`adapter(images) -> (logits, embeddings)` (the penultimate embedding tapped on the way), and the gradient
analyses the layers to read (`conv_layers`, `layer_names`), their outputs inside a forward (`capture`), a
convolution's weights (`conv_weight`) and, at the end, `close()`, which takes every hook or inserted graph node
out again, so a caller's module is left as it was. Each format overrides the few methods it does differently:

  - EagerAdapter (nn.Module, state_dict + --arch, a trusted pickle): forward hooks;
  - ExportedAdapter (torch.export program, .pt2): capture nodes inserted into its graph;
  - ScriptedAdapter (TorchScript): no hooks at all; the embedding by swapping the last Linear for an identity.
"""

from __future__ import annotations

from contextlib import contextmanager
from dataclasses import dataclass

import torch

from reportgen.model.outputs import as_logits

SCRIPT_NO_HOOKS = ("a TorchScript program can't take hooks on its inner layers; save the model with "
                   "torch.export (.pt2) or as a state_dict to get it")


class NoHooks(Exception):
    """The model's format gives no way to read an inner layer (TorchScript)."""


@dataclass
class Layer:
    name: str  # what the report shows and `capture` accepts
    kind: str  # "conv" | "attention"


class ModelAdapter:
    format = "eager"
    takes_hooks = True

    def __init__(self, module: torch.nn.Module, layer: str | None = None):
        self.module = module
        self.embedding_layer: str | None = None
        self.embedding_note: str | None = None
        self._captured: torch.Tensor | None = None
        self._attach_embedding(layer)

    # -- the forward the collect pass runs -----------------------------------------------------------------
    def __call__(self, images: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """(logits (B, K), embeddings (B, D)); the embeddings are the logits when no layer could be tapped."""
        self._captured = None
        logits = as_logits(self.module(images))
        embeddings = self._captured if self._captured is not None else logits
        if embeddings.shape[0] != logits.shape[0]:
            embeddings = logits
        return logits, embeddings.flatten(1)

    def logits(self, images: torch.Tensor) -> torch.Tensor:
        """The plain forward (gradients flow through it)."""
        return as_logits(self.module(images))

    # -- what each format overrides ------------------------------------------------------------------------
    def _attach_embedding(self, layer: str | None) -> None:
        raise NotImplementedError

    def conv_layers(self, probe: torch.Tensor | None = None) -> list[Layer]:
        """The 2-D convolutions and attention blocks, in the order a forward runs them."""
        raise NotImplementedError

    def layer_names(self) -> list[str]:
        """Every name `capture` accepts (for --cam-layer's message)."""
        raise NotImplementedError

    @contextmanager
    def capture(self, names: list[str]):
        """Within the block, each forward stores every named layer's output (still in the autograd graph, so
        gradients can be taken with respect to it) in the yielded dict."""
        raise NotImplementedError
        yield {}  # pragma: no cover - the generator shape for subclasses

    def conv_weight(self, name: str) -> torch.Tensor:
        """(O, I, kh, kw) weights of the convolution `name` (a name from `conv_layers`)."""
        raise NotImplementedError

    def close(self) -> None:
        """Take out everything attached to the module."""

    # -- shared ----------------------------------------------------------------------------------------------
    def _keep_embedding(self, tensor: torch.Tensor) -> torch.Tensor:
        self._captured = tensor
        return tensor

    def _no_embedding(self, reason: str) -> None:
        self.embedding_layer = None
        self.embedding_note = f"No penultimate layer found ({reason}); the projection uses the logits instead."

    def __enter__(self):
        return self

    def __exit__(self, *_exc) -> None:
        self.close()
