"""Cross-cutting services built once: audit, events, jobs, notify, rate limits, storage."""
