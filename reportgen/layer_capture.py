"""Read inner layers' outputs during a forward pass, for each kind of loaded model.

Two mechanisms, one per format that allows it:
  - eager nn.Module: forward hooks on named modules;
  - torch.export GraphModule: a capture node inserted after the layer's node, removed again on exit.
A TorchScript program takes no hooks and its graph can't be edited from here, so it raises `NoHooks`.

Layers are named by module path ("layer4.1.conv2"); in an exported graph a module path names the last node
that module produced, a bare node name ("conv2d_3") names that node.
"""

from __future__ import annotations

from contextlib import contextmanager
from dataclasses import dataclass

import torch

CONV_OPS = ("aten.conv2d.default", "aten.conv2d.padding", "aten.convolution.default", "aten._convolution.default")
SCRIPT_NO_HOOKS = ("a TorchScript program can't take hooks on its inner layers; save the model with "
                   "torch.export (.pt2) or as a state_dict to get it")


class NoHooks(Exception):
    """The model's format gives no way to read an inner layer (TorchScript)."""


@dataclass
class Layer:
    name: str  # what the report shows and `capture_outputs` accepts
    kind: str  # "conv" | "attention" | "other"


def is_script(model) -> bool:
    return isinstance(model, torch.jit.ScriptModule)


def is_graph(model) -> bool:
    return isinstance(model, torch.fx.GraphModule)


def conv_layers(model, probe: torch.Tensor | None = None) -> list[Layer]:
    """The model's 2-D convolutions and attention blocks in execution order (a probe forward decides it for
    eager modules, whose registration order needn't be the order they run in)."""
    if is_script(model):
        raise NoHooks(SCRIPT_NO_HOOKS)
    if is_graph(model):
        layers = []
        for node in model.graph.nodes:
            if node.op != "call_function":
                continue
            if str(node.target) in CONV_OPS and _node_ndim(node) in (4, None):
                layers.append(Layer(_node_layer_name(model, node), "conv"))
            elif any("Attention" in type_name for _path, type_name in _stack(node)):
                if not layers or layers[-1].kind != "attention":
                    layers.append(Layer(_node_layer_name(model, node), "attention"))
        return layers
    wanted = {name: module for name, module in model.named_modules()
              if isinstance(module, torch.nn.Conv2d) or "Attention" in type(module).__name__}
    if probe is None:
        return [_eager_layer(name, m) for name, m in wanted.items()]
    order: list[str] = []
    handles = [m.register_forward_hook(lambda _m, _i, _o, name=name: order.append(name))
               for name, m in wanted.items()]
    try:
        with torch.no_grad():
            model(probe)
    finally:
        for handle in handles:
            handle.remove()
    seen = list(dict.fromkeys(order))  # a module run twice counts where it first ran
    return [_eager_layer(name, wanted[name]) for name in seen]


def layer_names(model) -> list[str]:
    """Every name `capture_outputs` accepts (for --cam-layer's error message)."""
    if is_script(model):
        raise NoHooks(SCRIPT_NO_HOOKS)
    if is_graph(model):
        names = {path for n in model.graph.nodes for path, _t in _stack(n) if path}
        return sorted(names | {n.name for n in model.graph.nodes if n.op == "call_function"})
    return [name for name, _m in model.named_modules() if name]


@contextmanager
def capture_outputs(model, names: list[str]):
    """Within the block, every forward stores each named layer's output (a tensor in the autograd graph, so
    gradients can be taken with respect to it) in the yielded dict."""
    if is_script(model):
        raise NoHooks(SCRIPT_NO_HOOKS)
    store: dict[str, torch.Tensor] = {}
    if is_graph(model):
        with _graph_capture(model, names, store):
            yield store
        return
    modules = dict(model.named_modules())
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


@contextmanager
def _graph_capture(model, names, store):
    graph = model.graph
    inserted = []
    for name in names:
        node = find_node(model, name)
        with graph.inserting_after(node):
            inserted.append(graph.call_function(_storer(store, name), (node,)))
    model.recompile()
    try:
        yield
    finally:
        # Take the nodes out again: the model is shared with the other analyses.
        for node in inserted:
            graph.erase_node(node)
        model.recompile()


def _storer(store: dict, name: str):
    """A graph node's target that keeps a reference to the tensor; the node has no users, so nothing else
    in the graph changes and the stored tensor is the very one the next layer consumes."""

    def reportgen_capture(tensor):
        store[name] = tensor
        return tensor

    return reportgen_capture


def find_node(model, name: str):
    nodes = [n for n in model.graph.nodes if n.op == "call_function"]
    by_name = [n for n in nodes if n.name == name]
    if by_name:
        return by_name[0]
    owned = [n for n in nodes if any(path == name for path, _t in _stack(n))]
    if not owned:
        raise KeyError(f"no module or node named {name!r} in the exported program")
    return owned[-1]


def _stack(node) -> list[tuple[str, str]]:
    stack = node.meta.get("nn_module_stack") or {}
    return [(path, str(type_name)) for path, type_name in stack.values()]


def _node_layer_name(model, node) -> str:
    """The module path when it leads back to this very node (a Conv2d module), else the node's own name."""
    paths = [path for path, _t in _stack(node) if path]
    if paths and find_node(model, paths[-1]) is node:
        return paths[-1]
    return node.name


def _node_ndim(node):
    value = node.meta.get("val")
    return value.ndim if isinstance(value, torch.Tensor) else None


def _eager_layer(name: str, module) -> Layer:
    return Layer(name, "conv" if isinstance(module, torch.nn.Conv2d) else "attention")


def _first_tensor(output):
    if isinstance(output, torch.Tensor):
        return output
    if isinstance(output, (tuple, list)) and output and isinstance(output[0], torch.Tensor):
        return output[0]  # nn.MultiheadAttention returns (output, weights)
    return output
