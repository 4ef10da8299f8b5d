"""The embedded media server (MCU). The only package that imports aiortc and av; it knows
nothing about HTTP or the database. Callers use :mod:`vidroom.media.contract`."""
