"""Layers: images and text cards drawn over (or under) the meeting's video."""
