"""The meeting API's realtime websocket ``/rt``: Rails ActionCable's JSON protocol (spec §5)."""
