"""The command line in new processes (every test here is marked e2e)."""

from __future__ import annotations

import pytest

from tests.helpers.images import encode
from tests.unit.metrics.test_msssim import photo_pair


@pytest.fixture(scope="session")
def ms_folder(tmp_path_factory):
    """Two kinds of 240 x 220 colour images, each a smooth base and a noisy copy."""
    folder = tmp_path_factory.mktemp("msssim")
    for seed in range(2):
        base, noisy = photo_pair((220, 240, 3), seed=seed)
        (folder / f"kind{seed}-base.png").write_bytes(encode(base, "PNG"))
        (folder / f"kind{seed}-noisy.png").write_bytes(encode(noisy, "PNG"))
    return folder
