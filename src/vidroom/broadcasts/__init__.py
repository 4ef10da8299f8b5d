"""Live broadcasts (RTMP) of a meeting: their rows, queries and use cases."""
