"""Tables of privacy.scan."""

from __future__ import annotations
