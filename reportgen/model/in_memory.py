"""A model handed over in memory is the caller's: it runs in eval mode on the report's device while the report
is made, and leaves as it came (training flag and device restored; the adapter takes its hooks out)."""

from __future__ import annotations

from contextlib import contextmanager

import torch


def module_device(module: torch.nn.Module) -> torch.device:
    for tensor in (*module.parameters(), *module.buffers()):
        return tensor.device
    return torch.device("cpu")


@contextmanager
def lent(module: torch.nn.Module, device: torch.device):
    """`module` in eval mode on `device` within the block; its mode and device as they were afterwards."""
    was_training, home = module.training, module_device(module)
    module.eval()
    if home != device:
        module.to(device)
    try:
        yield module
    finally:
        if home != device:
            module.to(home)
        module.train(was_training)
