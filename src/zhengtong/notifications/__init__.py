"""The notification centre: notices to people, the channels they leave through, the bell.
Importing the package starts listening for chat's @mentions (mentions.py)."""

from zhengtong.notifications import mentions as _mentions  # noqa: F401
