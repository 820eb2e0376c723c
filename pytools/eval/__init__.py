"""Evaluation of try-on methods: ``evaluate_pairs`` (harness), metrics, feature networks, reports.

Modules: ``harness`` (pairs, ``evaluate_pairs``), ``metrics`` (FID/KID, masked SSIM/L1, feature similarity),
``features`` (EfficientNet-Lite0 and FID InceptionV3, torch), ``report`` (grid.png, index.html). Importing
this package does not import torch.
"""

from tryon.eval.harness import METRICS, Pair, TryonOutput, evaluate_pairs, load_pairs_csv, pairs_from_dirs

evaluate = evaluate_pairs
"""Alias named in the shared contract."""

__all__ = ["METRICS", "Pair", "TryonOutput", "evaluate", "evaluate_pairs", "load_pairs_csv", "pairs_from_dirs"]
