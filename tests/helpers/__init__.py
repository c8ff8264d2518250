"""Helpers shared by the test folders (no tests here)."""

from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]  # the checkout
APP = ROOT / "app.py"
