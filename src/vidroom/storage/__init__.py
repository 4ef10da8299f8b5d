"""Where recordings and snapshots live (one small interface; local files now)."""
