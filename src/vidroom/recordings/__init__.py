"""Recordings of a meeting's composite."""
