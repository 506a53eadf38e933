"""Durable jobs (being written)."""
