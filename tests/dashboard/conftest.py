"""The page through Streamlit's AppTest: in this process, no server, no browser."""

from __future__ import annotations

import functools

import pytest


@pytest.fixture(scope="session", autouse=True)
def component_manifests_scanned_once():
    """Each new AppTest scans every installed distribution's metadata for custom
    components (about 0.1 s, most of a cached page run). Nothing is installed
    during a test session, so one scan answers them all."""
    from streamlit.components.v2 import manifest_scanner

    with pytest.MonkeyPatch.context() as patch:
        scan = functools.cache(manifest_scanner.scan_component_manifests)
        patch.setattr(manifest_scanner, "scan_component_manifests", lambda: list(scan()))
        yield
