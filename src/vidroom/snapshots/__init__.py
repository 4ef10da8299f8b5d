"""Snapshots (PNG) of a meeting's composite."""
