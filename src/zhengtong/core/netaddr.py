"""IP addresses reduced to their network prefix, so that stored and logged addresses do not
identify a single device (IPv4 /24, IPv6 /48)."""

from __future__ import annotations

import ipaddress


def truncate_ip(address: str) -> str:
    try:
        parsed = ipaddress.ip_address(address)
    except ValueError:
        return ""
    prefix = 24 if parsed.version == 4 else 48
    return str(ipaddress.ip_network(f"{parsed}/{prefix}", strict=False))
