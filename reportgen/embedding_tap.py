"""Find the penultimate embedding (the input of the final classifier layer) for each kind of loaded model.

A tap wraps the model: `tap(images) -> (logits (B, K), embeddings (B, D))`. Three mechanisms, one per format:
  - eager nn.Module: a forward-pre hook on the last nn.Linear (or a forward hook on `--layer NAME`);
  - torch.export GraphModule: a capture node inserted before the last linear op of the graph;
  - TorchScript: hooks can't be added to a loaded program, so the last Linear's weight is swapped for an
    identity and the logits are recomputed from the captured embedding (checked against a real forward).
When none applies, the embeddings are the logits and `note` says why.
"""

from __future__ import annotations

import torch

LINEAR_OPS = ("aten.linear.default", "aten.addmm.default")


def as_logits(output) -> torch.Tensor:
    """Pick the logits from whatever the model returned (a tensor, a tuple/list, or a dict)."""
    if isinstance(output, torch.Tensor):
        return output
    if isinstance(output, dict):
        for key in ("logits", "out", "output", "pred"):
            if isinstance(output.get(key), torch.Tensor):
                return output[key]
        tensors = [v for v in output.values() if isinstance(v, torch.Tensor)]
    elif isinstance(output, (tuple, list)):
        tensors = [v for v in output if isinstance(v, torch.Tensor)]
    else:
        tensors = []
    if tensors:
        return tensors[0]
    raise TypeError(f"the model returned {type(output).__name__}, not a tensor of logits")


class EmbeddingTap:
    def __init__(self, model: torch.nn.Module, layer: str | None = None):
        self.model = model
        self.layer: str | None = None
        self.note: str | None = None
        self._captured: torch.Tensor | None = None
        self._script_linear = None  # (module, weight, bias) while the TorchScript identity swap is active
        self._script_checked = False
        if isinstance(model, torch.jit.ScriptModule):
            self._attach_script(layer)
        elif isinstance(model, torch.fx.GraphModule):
            self._attach_graph(layer)
        else:
            self._attach_eager(layer)

    # -- eager modules -------------------------------------------------------------------------------
    def _attach_eager(self, layer: str | None) -> None:
        modules = dict(self.model.named_modules())
        if layer:
            if layer not in modules:
                self._fallback(f"--layer {layer} is not a module of this model")
                return
            modules[layer].register_forward_hook(lambda _m, _i, out: self._capture(as_logits(out)))
            self.layer = layer
            return
        linears = [name for name, m in modules.items() if isinstance(m, torch.nn.Linear)]
        if not linears:
            self._fallback("the model has no nn.Linear classifier layer")
            return
        self.layer = linears[-1]
        modules[self.layer].register_forward_pre_hook(lambda _m, args: self._capture(args[0]))

    # -- torch.export programs -----------------------------------------------------------------------
    def _attach_graph(self, layer: str | None) -> None:
        graph = self.model.graph
        nodes = [n for n in graph.nodes if n.op == "call_function"]
        if layer:
            owned = [n for n in nodes if layer in _module_paths(n)]
            if not owned:
                self._fallback(f"--layer {layer} is not a module of this exported program")
                return
            target, source = owned[-1], owned[-1]
            insert_after = True
        else:
            linears = [n for n in nodes if str(n.target) in LINEAR_OPS]
            if not linears:
                self._fallback("the exported program has no linear classifier op")
                return
            target = linears[-1]
            # addmm(bias, input, weight) vs linear(input, weight, bias)
            source = target.args[1] if str(target.target) == "aten.addmm.default" else target.args[0]
            insert_after = False
            paths = _module_paths(target)
            self.layer = paths[-1] if paths else target.name
        if insert_after:
            with graph.inserting_after(target):
                graph.call_function(self._capture, (source,))
            self.layer = layer
        else:
            with graph.inserting_before(target):
                graph.call_function(self._capture, (source,))
        self.model.recompile()

    # -- TorchScript ---------------------------------------------------------------------------------
    def _attach_script(self, layer: str | None) -> None:
        if layer:
            self._fallback("TorchScript programs take no hooks, so --layer can't be read; use a .pt2 export")
            return
        linears = [(name, m) for name, m in self.model.named_modules()
                   if getattr(m, "original_name", "") == "Linear"]
        if not linears:
            self._fallback("the TorchScript program has no Linear classifier layer")
            return
        name, module = linears[-1]
        self.layer = name
        self._script_linear = (module, module.weight.detach().clone(), module.bias)

    def _script_forward(self, images: torch.Tensor):
        module, weight, bias = self._script_linear
        bias_value = bias.detach().clone() if bias is not None else None
        if not self._script_checked:
            reference = as_logits(self.model(images))
        dim = weight.shape[1]
        module.weight = torch.nn.Parameter(torch.eye(dim, dtype=weight.dtype, device=weight.device))
        if bias is not None:
            module.bias = torch.nn.Parameter(torch.zeros(dim, dtype=weight.dtype, device=weight.device))
        try:
            embeddings = as_logits(self.model(images))
        finally:
            module.weight = torch.nn.Parameter(weight)
            if bias is not None:
                module.bias = torch.nn.Parameter(bias_value)
        logits = embeddings @ weight.T + (bias_value if bias is not None else 0)
        if not self._script_checked:
            self._script_checked = True
            # The swap is only valid if the Linear is the program's last op; a real forward decides.
            if embeddings.ndim != 2 or not torch.allclose(logits, reference, rtol=1e-4, atol=1e-4):
                self._script_linear = None
                self._fallback("the TorchScript program does more after its last Linear layer")
                return reference, reference
        return logits, embeddings

    # -- shared ----------------------------------------------------------------------------------------
    def _capture(self, tensor: torch.Tensor) -> torch.Tensor:
        self._captured = tensor
        return tensor

    def _fallback(self, reason: str) -> None:
        self.layer = None
        self.note = f"No penultimate layer found ({reason}); the projection uses the logits instead."

    def __call__(self, images: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        if self._script_linear is not None:
            logits, embeddings = self._script_forward(images)
            return logits, embeddings.flatten(1)
        self._captured = None
        logits = as_logits(self.model(images))
        embeddings = self._captured if self._captured is not None else logits
        if isinstance(embeddings, torch.Tensor) and embeddings.shape[0] != logits.shape[0]:
            embeddings = logits
        return logits, embeddings.flatten(1)


def _module_paths(node) -> list[str]:
    stack = node.meta.get("nn_module_stack") or {}
    return [path for path, _type in stack.values() if path]
