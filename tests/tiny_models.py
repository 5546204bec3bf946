"""Hand-built tiny models for tests (the captum way): seeded, trained in about a second on the tiny images."""

import torch
from torch import nn


class TinyNet(nn.Module):
    """2-layer conv net for 1x16x16 images; `fc` is the classifier, its input the 16-d embedding."""

    def __init__(self, num_classes: int = 3, channels: int = 1):
        super().__init__()
        self.conv1 = nn.Conv2d(channels, 6, 3, padding=1)
        self.conv2 = nn.Conv2d(6, 8, 3, padding=1)
        self.pool = nn.AdaptiveAvgPool2d(2)
        self.hidden = nn.Linear(32, 16)
        self.fc = nn.Linear(16, num_classes)

    def forward(self, x):
        x = torch.relu(self.conv1(x))
        x = torch.max_pool2d(x, 2)
        x = torch.relu(self.conv2(x))
        x = self.pool(x).flatten(1)
        return self.fc(torch.relu(self.hidden(x)))


def make_tiny_net():
    """Factory for `--arch tiny_models:make_tiny_net`."""
    return TinyNet()


class RaisingNet(TinyNet):
    """A model whose forward fails, as a model with a shape bug does."""

    def forward(self, x):
        raise RuntimeError("mat1 and mat2 shapes cannot be multiplied (4x7 and 9x3)")


class NaNNet(TinyNet):
    """Logits turn NaN for images whose mean is above 0.2 (some of the 'dot'/'ring' ones), finite otherwise."""

    def forward(self, x):
        logits = super().forward(x)
        bad = x.mean(dim=(1, 2, 3)) > 0.2
        return torch.where(bad[:, None], torch.full_like(logits, float("nan")), logits)


class TupleNet(TinyNet):
    def forward(self, x):
        return super().forward(x), x.mean()


class DictNet(TinyNet):
    def forward(self, x):
        return {"aux": x.mean(dim=(1, 2, 3)), "logits": super().forward(x)}
