"""The meeting API's media signalling websocket ``/call``: eyeson's SEPP (eyeson-sepp.md)."""
