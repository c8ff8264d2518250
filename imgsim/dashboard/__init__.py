"""The Streamlit dashboard: the page (`page.py`), its views, widgets and state.

This module imports no Streamlit, so that `imgsim dashboard` can name the page
and its server settings before Streamlit is loaded; `serve` imports it.
"""

from imgsim.dashboard._server import (
    DEFAULT_PORT,
    LOOPBACK,
    PAGE,
    SERVER_OPTIONS,
    serve,
    server_arguments,
)

__all__ = ["DEFAULT_PORT", "LOOPBACK", "PAGE", "SERVER_OPTIONS", "serve", "server_arguments"]
