"""Runs: extract targets as of a date, partition them, render, pack, reconcile (DESIGN.md)."""
