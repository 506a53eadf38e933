"""Zhengtong (政通): a self-hostable collaboration platform for public bodies."""

__version__ = "0.1.0"
