"""Try-on quality metrics: distribution (FID, KID), identity preservation, garment fidelity, paired GT scores.

Conventions follow the try-on literature (VITON-HD, LaDI-VTON, CatVTON evaluation code):

* FID (Heusel et al. 2017) and KID (Bińkowski et al. 2018) on 2048-d pool3 features of the TF FID InceptionV3
  (:class:`tryon.eval.features.FidInception`), computed here with numpy/scipy from the features. KID uses the
  unbiased MMD² estimator with the cubic polynomial kernel ``k(x, y) = (x·y / d + 1)³`` averaged over random
  subsets, as torchmetrics/clean-fid do; it is reported ×1000 (CatVTON's convention).
* SSIM (Wang et al. 2004): Gaussian window σ = 1.5, K1 = 0.01, K2 = 0.03, population covariance, via
  ``skimage.metrics.structural_similarity``; a masked SSIM is the mean of the SSIM map over the kept pixels.
* Feature similarity with EfficientNet-Lite0 ImageNet features (:class:`EfficientNetLite0Features`):
  cosine of spatially pooled features, and an LPIPS-style distance (Zhang et al. 2018: channel-normalised
  feature differences, squared, averaged) with unit layer weights (no LPIPS calibration exists for this net).

Images are (H, W, 3) uint8 RGB, masks (H, W) float32 in [0, 1].
"""

from __future__ import annotations

import numpy as np

_SSIM_RADIUS = 5
"""Half-width of skimage's Gaussian SSIM window for σ = 1.5 (win_size 11)."""

__all__ = [
    "fid_from_features", "kid_from_features", "ssim_map", "masked_ssim", "masked_l1", "identity_keep_mask",
    "mask_bbox", "crop_on_white", "pooled_cosine", "feature_distance", "image_tensor",
]


def fid_from_features(real: np.ndarray, fake: np.ndarray) -> float:
    """Fréchet distance between Gaussians fitted to two feature sets.

    Args:
        real: (N, D) features, N >= 2.
        fake: (M, D) features, M >= 2.

    Returns:
        ``|mu_r - mu_f|² + Tr(S_r + S_f - 2 (S_r S_f)^½)`` (>= 0 up to round-off). With N, M far below D the
        covariances are rank-deficient and the value is strongly biased upward: compare it only between runs
        with the same N and settings.

    Raises:
        ValueError: fewer than 2 samples in a set, or different feature sizes.
    """
    import scipy.linalg

    real = np.asarray(real, np.float64)
    fake = np.asarray(fake, np.float64)
    if real.ndim != 2 or fake.ndim != 2 or real.shape[1] != fake.shape[1]:
        raise ValueError(f"feature sets must be (N, D) with the same D, got {real.shape} and {fake.shape}")
    if len(real) < 2 or len(fake) < 2:
        raise ValueError("FID needs at least 2 images in each set")
    mu1, mu2 = real.mean(0), fake.mean(0)
    a, b = real - mu1, fake - mu2
    n, m = len(real), len(fake)
    mean_term = float(((mu1 - mu2) ** 2).sum())
    if min(n, m) < real.shape[1]:
        # Small sets: S1 = AᵀA/(n-1), S2 = BᵀB/(m-1), and the non-zero eigenvalues of S1·S2 are those of
        # (ABᵀ)(ABᵀ)ᵀ/((n-1)(m-1)), so Tr((S1 S2)^½) is the nuclear norm of ABᵀ over √((n-1)(m-1)). Exact,
        # and avoids the ill-conditioned D×D matrix square root of rank-deficient covariances.
        tr_sqrt = float(np.linalg.svd(a @ b.T, compute_uv=False).sum()) / np.sqrt((n - 1) * (m - 1))
        fid = mean_term + float((a * a).sum()) / (n - 1) + float((b * b).sum()) / (m - 1) - 2.0 * tr_sqrt
    else:
        s1, s2 = np.cov(real, rowvar=False), np.cov(fake, rowvar=False)
        covmean = scipy.linalg.sqrtm(s1 @ s2)
        if not np.isfinite(covmean).all():  # singular product: regularise as pytorch-fid does
            off = np.eye(s1.shape[0]) * 1e-6
            covmean = scipy.linalg.sqrtm((s1 + off) @ (s2 + off))
        fid = mean_term + float(np.trace(s1) + np.trace(s2) - 2.0 * np.trace(np.real(covmean)))
    return max(fid, 0.0)


def kid_from_features(real: np.ndarray, fake: np.ndarray, *, subsets: int = 100, subset_size: int = 1000,
                      seed: int = 0) -> tuple[float, float, int]:
    """Kernel Inception Distance: unbiased MMD² with a cubic polynomial kernel, averaged over random subsets.

    Args:
        real: (N, D) features, N >= 2.
        fake: (M, D) features, M >= 2.
        subsets: number of random subsets.
        subset_size: samples per subset; clipped to ``min(N, M)`` so that small sets work.
        seed: RNG seed for the subset draws (results are deterministic).

    Returns:
        (mean, std, subset size used) of MMD² over the subsets, in raw units (multiply by 1000 to report
        "KID×1000"). Can be slightly negative: the estimator is unbiased.

    Raises:
        ValueError: fewer than 2 samples in a set.
    """
    real = np.asarray(real, np.float64)
    fake = np.asarray(fake, np.float64)
    if len(real) < 2 or len(fake) < 2:
        raise ValueError("KID needs at least 2 images in each set")
    m = min(subset_size, len(real), len(fake))
    d = real.shape[1]
    rng = np.random.default_rng(seed)
    values = []
    for _ in range(subsets):
        x = real[rng.choice(len(real), m, replace=False)]
        y = fake[rng.choice(len(fake), m, replace=False)]
        kxx = (x @ x.T / d + 1.0) ** 3
        kyy = (y @ y.T / d + 1.0) ** 3
        kxy = (x @ y.T / d + 1.0) ** 3
        mmd = ((kxx.sum() - np.trace(kxx)) / (m * (m - 1)) + (kyy.sum() - np.trace(kyy)) / (m * (m - 1))
               - 2.0 * kxy.mean())
        values.append(mmd)
    return float(np.mean(values)), float(np.std(values)), m


def ssim_map(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Per-pixel SSIM of two (H, W, 3) uint8 images, averaged over channels -> (H, W) float32 in [-1, 1].

    Gaussian window (σ = 1.5), population covariance: the settings of Wang et al. 2004 and of
    ``torchmetrics.StructuralSimilarityIndexMeasure`` defaults.

    Raises:
        ValueError: the shapes differ.
    """
    from skimage.metrics import structural_similarity

    if a.shape != b.shape:
        raise ValueError(f"images differ in shape: {a.shape} vs {b.shape}")
    _, smap = structural_similarity(a, b, data_range=255, channel_axis=2, gaussian_weights=True, sigma=1.5,
                                    use_sample_covariance=False, full=True)
    return smap.mean(axis=2).astype(np.float32)


def masked_ssim(a: np.ndarray, b: np.ndarray, keep: np.ndarray | None = None) -> float | None:
    """Mean SSIM over the pixels where ``keep`` is True (all pixels when None); None if nothing is kept."""
    smap = ssim_map(a, b)
    if keep is None:
        return float(smap.mean())
    if not keep.any():
        return None
    return float(smap[keep].mean())


def masked_l1(a: np.ndarray, b: np.ndarray, keep: np.ndarray | None = None) -> float | None:
    """Mean absolute difference in [0, 1] units (uint8 / 255) over kept pixels and all channels; None if empty."""
    diff = np.abs(a.astype(np.float32) - b.astype(np.float32)).mean(axis=2) / 255.0
    if keep is None:
        return float(diff.mean())
    if not keep.any():
        return None
    return float(diff[keep].mean())


def identity_keep_mask(shape: tuple[int, int], composition_mask: np.ndarray, changed_mask: np.ndarray | None = None,
                       *, dilation: float = 0.02) -> np.ndarray:
    """Pixels that a try-on should leave as in the person photo: NOT (dilated new-garment ∪ old-garment region).

    The excluded region is ``composition_mask > 0.5`` (where the output shows the warped garment) together
    with ``changed_mask > 0.5`` when the try-on exposes it (e.g. the old garment / agnostic region that was
    repainted), both dilated by a disc of radius ``max(6, dilation × max(H, W))`` pixels so that the blended
    seam, small mask misalignments and the SSIM window (radius 5 px) straddling the edit do not count against
    identity.

    Args:
        shape: (H, W) of the evaluated images; masks are resized to it.
        composition_mask: (h, w) float32 in [0, 1].
        changed_mask: optional (h, w) float32 in [0, 1].
        dilation: radius as a fraction of the longer side.

    Returns:
        (H, W) bool, True where identity is measured.
    """
    import cv2

    from tryon.processing import resize_mask

    h, w = shape
    excluded = resize_mask(composition_mask, (h, w)) > 0.5
    if changed_mask is not None:
        excluded |= resize_mask(changed_mask, (h, w)) > 0.5
    r = max(_SSIM_RADIUS + 1, int(round(dilation * max(h, w))))
    kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * r + 1, 2 * r + 1))
    excluded = cv2.dilate(excluded.astype(np.uint8), kernel) > 0
    return ~excluded


def mask_bbox(mask: np.ndarray, threshold: float = 0.5) -> tuple[int, int, int, int] | None:
    """(y0, x0, y1, x1) bounding box (exclusive end) of ``mask > threshold``; None when empty."""
    ys, xs = np.nonzero(mask > threshold)
    if len(ys) == 0:
        return None
    return int(ys.min()), int(xs.min()), int(ys.max()) + 1, int(xs.max()) + 1


def crop_on_white(image: np.ndarray, mask: np.ndarray, size: int = 224) -> np.ndarray | None:
    """Composite ``image`` on white by ``mask``, crop to the mask's box, pad to a square, resize to ``size``.

    This puts a garment photo and a warped garment into the same in-shop-like framing before comparing
    their features. Returns (size, size, 3) uint8, or None when the mask is empty.
    """
    from tryon.processing import resize, resize_mask

    if mask.shape != image.shape[:2]:
        mask = resize_mask(mask, image.shape[:2])
    box = mask_bbox(mask)
    if box is None:
        return None
    y0, x0, y1, x1 = box
    m = np.clip(mask[y0:y1, x0:x1], 0.0, 1.0)[..., None]
    crop = image[y0:y1, x0:x1].astype(np.float32) * m + 255.0 * (1.0 - m)
    h, w = crop.shape[:2]
    side = max(h, w)
    canvas = np.full((side, side, 3), 255.0, np.float32)
    canvas[(side - h) // 2:(side - h) // 2 + h, (side - w) // 2:(side - w) // 2 + w] = crop
    return resize(np.clip(canvas + 0.5, 0, 255).astype(np.uint8), (size, size))


def image_tensor(images: list[np.ndarray]):
    """List of (H, W, 3) uint8 of one size -> torch (N, 3, H, W) float32 in [-1, 1]."""
    import torch

    x = np.stack(images).astype(np.float32) / 127.5 - 1.0
    return torch.from_numpy(np.ascontiguousarray(x.transpose(0, 3, 1, 2)))


def pooled_cosine(fa: dict, fb: dict) -> dict[str, np.ndarray]:
    """Cosine similarity of spatially mean-pooled features, per layer.

    Args:
        fa, fb: dicts layer -> (N, C, h, w) torch tensors (e.g. from :class:`EfficientNetLite0Features`).

    Returns:
        layer -> (N,) float64 cosine in [-1, 1].
    """
    import torch.nn.functional as F

    out = {}
    for name in fa:
        a = fa[name].mean(dim=(2, 3))
        b = fb[name].mean(dim=(2, 3))
        out[name] = F.cosine_similarity(a, b, dim=1).double().numpy()
    return out


def feature_distance(fa: dict, fb: dict) -> np.ndarray:
    """LPIPS-style distance with unit weights: mean over layers of the spatial mean of ``|f̂a - f̂b|²``.

    ``f̂`` is the feature unit-normalised over channels at each position (Zhang et al. 2018, eq. 1 without
    learned weights). 0 for identical inputs; up to 4 per layer (opposite unit vectors).

    Returns:
        (N,) float64.
    """
    import torch

    total = None
    for name in fa:
        a = fa[name] / (fa[name].norm(dim=1, keepdim=True) + 1e-10)
        b = fb[name] / (fb[name].norm(dim=1, keepdim=True) + 1e-10)
        d = ((a - b) ** 2).sum(dim=1).mean(dim=(1, 2))
        total = d if total is None else total + d
    assert total is not None
    return (total / len(fa)).double().numpy() if isinstance(total, torch.Tensor) else total
