"""Shared machinery every domain uses: configuration, database, errors, crypto, the data inventory."""
