"""The baseline a report is measured against: what a plain evaluation script does, decode + forward, nothing else."""

import sys
import time

import torch
import torchvision
from torch.utils.data import DataLoader

if __name__ == "__main__":
    start = time.perf_counter()
    model_path, data_root, workers = sys.argv[1], sys.argv[2], int(sys.argv[3])
    model = torch.export.load(model_path).module()
    transform = torchvision.transforms.Compose([torchvision.transforms.Grayscale(),
                                                torchvision.transforms.ToTensor()])
    total = 0
    with torch.inference_mode():
        for split in ("train", "val"):
            data = torchvision.datasets.ImageFolder(f"{data_root}/{split}", transform=transform)
            for x, y in DataLoader(data, batch_size=128, num_workers=workers):
                model(x)
                total += len(y)
    print(f"{total} images in {time.perf_counter() - start:.2f}s", file=sys.stderr)
