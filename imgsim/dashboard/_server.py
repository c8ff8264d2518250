"""The page's script and the server settings it is always started with.

Streamlit reads ``.streamlit/config.toml`` only from the folder it starts in;
`imgsim dashboard` passes these on its command line instead, where they win
over any config file, so they hold from every folder. The checkout's
``.streamlit/config.toml`` holds the same values for ``streamlit run app.py``
(a test keeps the two equal).
"""

from __future__ import annotations

from pathlib import Path

PAGE = Path(__file__).with_name("page.py")

LOOPBACK = "127.0.0.1"
DEFAULT_PORT = 8501

SERVER_OPTIONS: dict[str, dict[str, object]] = {
    "server": {
        # Local only: another address must be asked for (--address).
        "address": LOOPBACK,
        "headless": True,
        # Uploads stay in memory. 200 MB per file fits a 10000 x 10000 PNG; a request
        # is bounded further by IMGSIM_MAX_PIXELS, IMGSIM_MAX_IMAGES and IMGSIM_MAX_WORK.
        "maxUploadSize": 200,
        "enableXsrfProtection": True,
        # A closed tab's session, its uploads and its caches are released after 30 s.
        "disconnectedSessionTTL": 30,
    },
    "browser": {"gatherUsageStats": False},
    "client": {
        "toolbarMode": "viewer",
        # Unexpected errors show no traceback to visitors (the server log keeps it).
        "showErrorDetails": "none",
    },
    "theme": {"base": "light", "primaryColor": "#3b528b"},
}


def _flag_value(value: object) -> str:
    return str(value).lower() if isinstance(value, bool) else str(value)


def server_arguments(port: int = DEFAULT_PORT, address: str | None = None) -> list[str]:
    """``streamlit run`` arguments that start the page with `SERVER_OPTIONS`.

    Parameters
    ----------
    port : int
        The port to listen on.
    address : str, optional
        The address to listen on; loopback (127.0.0.1) unless given.

    Returns
    -------
    list of str
        ``["run", <page.py>, "--server.address", ..., ...]``.
    """
    options = {
        f"{section}.{name}": value
        for section, values in SERVER_OPTIONS.items()
        for name, value in values.items()
    }
    options["server.address"] = address or LOOPBACK
    options["server.port"] = port
    arguments = ["run", str(PAGE)]
    for name, value in options.items():
        arguments += [f"--{name}", _flag_value(value)]
    return arguments


def serve(port: int = DEFAULT_PORT, address: str | None = None) -> None:
    """Serve the page through Streamlit's own command line, in this process, until Ctrl-C.

    Streamlit is imported here, when the page is served, so that naming the page
    and its settings needs no Streamlit.

    Parameters
    ----------
    port, address
        As for `server_arguments`.

    Raises
    ------
    ImportError
        When Streamlit is not installed (the ``app`` extra).
    SystemExit
        As Streamlit's command line ends, 0 included.
    """
    from streamlit.web import cli as streamlit_cli

    streamlit_cli.main(server_arguments(port, address), prog_name="streamlit")
