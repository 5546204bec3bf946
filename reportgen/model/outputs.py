"""The logits in whatever a model's forward returns: a tensor, a tuple or list, a dict or a ModelOutput."""

from __future__ import annotations

import torch

from reportgen.errors import ReportgenError

LOGIT_KEYS = ("logits", "out", "output", "pred")


class ModelOutputError(ReportgenError, TypeError):
    """The model's forward returned something that holds no logits."""


def as_logits(output) -> torch.Tensor:
    """A tensor as it is; the `logits` key or attribute of a dict or a Hugging Face ModelOutput; the first tensor
    of a tuple or list (or of a dict without such a key). Anything else: ModelOutputError naming the type."""
    if isinstance(output, torch.Tensor):
        return output
    if isinstance(output, dict):  # Hugging Face's ModelOutput is an OrderedDict too
        for key in LOGIT_KEYS:
            if isinstance(output.get(key), torch.Tensor):
                return output[key]
        tensors = [v for v in output.values() if isinstance(v, torch.Tensor)]
    elif isinstance(getattr(output, "logits", None), torch.Tensor):
        return output.logits
    elif isinstance(output, (tuple, list)):
        tensors = [v for v in output if isinstance(v, torch.Tensor)]
    else:
        tensors = []
    if tensors:
        return tensors[0]
    raise ModelOutputError(f"the model returned {type(output).__module__}.{type(output).__name__}, not logits: return a "
                    "tensor, a tuple whose first element is the logits, or an object with a `logits` field")
