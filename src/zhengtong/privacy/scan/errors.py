"""Error codes of privacy.scan."""

from __future__ import annotations

from zhengtong.core.errors import error_code

NEEDLE_TOO_SHORT = error_code(
    "privacy.scan.needle_too_short",
    422,
    "检索值至少需要两个字符。",
    "A needle needs at least two characters.",
)
EGRESS_REFUSED = error_code(
    "privacy.scan.egress_refused",
    422,
    "目标地址不在数据驻留允许列表（allowed_hosts）中，已拒绝连接。",
    "The address is not in the data residency allow-list (allowed_hosts); the connection was refused.",
)
