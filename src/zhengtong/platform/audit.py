"""Append-only, hash-chained audit log (being written)."""
