"""Eager nn.Module (a state_dict with --arch, a trusted pickle, a module in memory): forward hooks."""

from __future__ import annotations

from contextlib import contextmanager

import torch

from reportgen.model.adapter import Layer, ModelAdapter
from reportgen.model.outputs import as_logits


def _first_tensor(output):
    if isinstance(output, torch.Tensor):
        return output
    if isinstance(output, (tuple, list)) and output and isinstance(output[0], torch.Tensor):
        return output[0]  # nn.MultiheadAttention returns (output, weights)
    return output


def _kind(module) -> str:
    return "conv" if isinstance(module, torch.nn.Conv2d) else "attention"


class EagerAdapter(ModelAdapter):
    format = "eager"

    def _attach_embedding(self, layer: str | None) -> None:
        self._handles = []
        modules = dict(self.module.named_modules())
        if layer:
            if layer not in modules:
                self._no_embedding(f"--layer {layer} is not a module of this model")
                return
            self._handles.append(modules[layer].register_forward_hook(
                lambda _m, _i, out: self._keep_embedding(as_logits(out))))
            self.embedding_layer = layer
            return
        linears = [name for name, m in modules.items() if isinstance(m, torch.nn.Linear)]
        if not linears:
            self._no_embedding("the model has no nn.Linear classifier layer")
            return
        self.embedding_layer = linears[-1]
        self._handles.append(modules[self.embedding_layer].register_forward_pre_hook(
            lambda _m, args: self._keep_embedding(args[0])))

    def conv_layers(self, probe: torch.Tensor | None = None) -> list[Layer]:
        wanted = {name: module for name, module in self.module.named_modules()
                  if isinstance(module, torch.nn.Conv2d) or "Attention" in type(module).__name__}
        if probe is None:
            return [Layer(name, _kind(m)) for name, m in wanted.items()]
        # registration order needn't be the order they run in: a probe forward decides
        order: list[str] = []
        handles = [m.register_forward_hook(lambda _m, _i, _o, name=name: order.append(name))
                   for name, m in wanted.items()]
        try:
            with torch.no_grad():
                self.module(probe)
        finally:
            for handle in handles:
                handle.remove()
        return [Layer(name, _kind(wanted[name])) for name in dict.fromkeys(order)]  # where each first ran

    def layer_names(self) -> list[str]:
        return [name for name, _m in self.module.named_modules() if name]

    @contextmanager
    def capture(self, names: list[str]):
        store: dict[str, torch.Tensor] = {}
        modules = dict(self.module.named_modules())
        missing = [n for n in names if n not in modules]
        if missing:
            raise KeyError(f"no module named {missing[0]!r}")

        def hook_for(name):
            def keep(_module, _inputs, output):
                tensor = _first_tensor(output)
                store[name] = tensor
                # Hand the next layer a copy: an in-place op after it (ReLU(inplace=True) in VGG) would otherwise
                # overwrite the stored tensor and break gradients taken with respect to it.
                return tensor.clone() if tensor is output else None
            return keep

        handles = [modules[n].register_forward_hook(hook_for(n)) for n in names]
        try:
            yield store
        finally:
            for handle in handles:
                handle.remove()

    def conv_weight(self, name: str) -> torch.Tensor:
        return dict(self.module.named_modules())[name].weight

    def close(self) -> None:
        for handle in self._handles:
            handle.remove()
        self._handles = []
