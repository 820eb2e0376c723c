"""Fixtures of the evaluation tests."""

import pytest


@pytest.fixture(scope="package", autouse=True)
def _one_torch_thread():
    """One intra-op thread: on a shared 2-core machine OpenMP spin-waiting makes 2 threads ~100x slower."""
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)
