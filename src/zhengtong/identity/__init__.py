"""Accounts, login (SMS code, password, QR), second factor, sessions and devices."""
