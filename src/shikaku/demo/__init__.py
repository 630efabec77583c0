"""Synthetic demo data for `shikaku demo-data` (see docs/demo.md)."""

from shikaku.demo.generate import VOLUNTARY_SYMBOL_PREFIX, DemoFiles, write_demo_files

__all__ = ["VOLUNTARY_SYMBOL_PREFIX", "DemoFiles", "write_demo_files"]
