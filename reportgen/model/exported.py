"""torch.export programs (.pt2): capture nodes inserted into the graph module, and taken out again.

Layers are named by module path ("layer4.1.conv2", from each node's nn_module_stack); a module path names the last
node that module produced; a bare node name ("conv2d_3") names that node.
"""

from __future__ import annotations

from contextlib import contextmanager

import torch

from reportgen.model.adapter import Layer, ModelAdapter

LINEAR_OPS = ("aten.linear.default", "aten.addmm.default")
CONV_OPS = ("aten.conv2d.default", "aten.conv2d.padding", "aten.convolution.default", "aten._convolution.default")


def module_stack(node) -> list[tuple[str, str]]:
    """(module path, module type) from outermost to innermost, as torch.export recorded them."""
    stack = node.meta.get("nn_module_stack") or {}
    return [(path, str(type_name)) for path, type_name in stack.values()]


def _storer(store: dict, name: str):
    """A node target that keeps a reference to the tensor; the node has no users, so nothing else in the graph
    changes and the stored tensor is the very one the next layer consumes."""

    def reportgen_capture(tensor):
        store[name] = tensor
        return tensor

    return reportgen_capture


class ExportedAdapter(ModelAdapter):
    format = "torch.export"

    def _calls(self) -> list:
        return [n for n in self.module.graph.nodes if n.op == "call_function"]

    def _attach_embedding(self, layer: str | None) -> None:
        self._inserted = []
        graph = self.module.graph
        if layer:
            owned = [n for n in self._calls() if layer in [p for p, _t in module_stack(n)]]
            if not owned:
                self._no_embedding(f"--layer {layer} is not a module of this exported program")
                return
            with graph.inserting_after(owned[-1]):
                self._inserted.append(graph.call_function(self._keep_embedding, (owned[-1],)))
            self.embedding_layer = layer
        else:
            linears = [n for n in self._calls() if str(n.target) in LINEAR_OPS]
            if not linears:
                self._no_embedding("the exported program has no linear classifier op")
                return
            target = linears[-1]
            # addmm(bias, input, weight) vs linear(input, weight, bias)
            source = target.args[1] if str(target.target) == "aten.addmm.default" else target.args[0]
            with graph.inserting_before(target):
                self._inserted.append(graph.call_function(self._keep_embedding, (source,)))
            paths = [p for p, _t in module_stack(target) if p]
            self.embedding_layer = paths[-1] if paths else target.name
        self.module.recompile()

    def find_node(self, name: str):
        nodes = self._calls()
        by_name = [n for n in nodes if n.name == name]
        if by_name:
            return by_name[0]
        owned = [n for n in nodes if any(path == name for path, _t in module_stack(n))]
        if not owned:
            raise KeyError(f"no module or node named {name!r} in the exported program")
        return owned[-1]

    def _layer_name(self, node) -> str:
        """The module path when it leads back to this very node (a Conv2d module), else the node's own name."""
        paths = [path for path, _t in module_stack(node) if path]
        if paths and self.find_node(paths[-1]) is node:
            return paths[-1]
        return node.name

    def conv_layers(self, probe: torch.Tensor | None = None) -> list[Layer]:
        layers: list[Layer] = []
        for node in self._calls():
            value = node.meta.get("val")
            ndim = value.ndim if isinstance(value, torch.Tensor) else None
            if str(node.target) in CONV_OPS and ndim in (4, None):
                layers.append(Layer(self._layer_name(node), "conv"))
            elif any("Attention" in type_name for _path, type_name in module_stack(node)):
                if not layers or layers[-1].kind != "attention":
                    layers.append(Layer(self._layer_name(node), "attention"))
        return layers

    def layer_names(self) -> list[str]:
        names = {path for n in self.module.graph.nodes for path, _t in module_stack(n) if path}
        return sorted(names | {n.name for n in self._calls()})

    @contextmanager
    def capture(self, names: list[str]):
        store: dict[str, torch.Tensor] = {}
        graph = self.module.graph
        inserted = []
        for name in names:
            node = self.find_node(name)
            with graph.inserting_after(node):
                inserted.append(graph.call_function(_storer(store, name), (node,)))
        self.module.recompile()
        try:
            yield store
        finally:
            for node in inserted:  # the module is shared with the other analyses
                graph.erase_node(node)
            self.module.recompile()

    def conv_weight(self, name: str) -> torch.Tensor:
        weight = self.find_node(name).args[1]  # conv2d(input, weight, bias, ...): a get_attr node
        value = self.module
        for part in str(weight.target).split("."):
            value = getattr(value, part)
        return value

    def close(self) -> None:
        if self._inserted:
            for node in self._inserted:
                self.module.graph.erase_node(node)
            self._inserted = []
            self.module.recompile()
