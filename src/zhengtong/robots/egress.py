"""Outgoing calls to robots' servers, and where they may not go.

A robot's address is chosen by a group's manager, so the platform must not become their way into
the installation's network (SSRF): every address the host name resolves to must be public — not
private, loopback, link-local, multicast, reserved or unspecified — unless it lies in a network
the operator allowed (ZT_ROBOT_ALLOWED_NETWORKS). The request then goes to the address that was
checked, so a second DNS answer cannot differ, with the host name in Host and in TLS SNI (the
certificate is still checked against the name). The residency rules (ZT_ALLOWED_HOSTS) hold too.
A redirect is followed by posting again to the new address, checked the same way; connecting,
sending and reading each time out after TIMEOUT_SECONDS.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from collections.abc import Sequence
from dataclasses import dataclass
from urllib.parse import urljoin, urlsplit

import httpx

from zhengtong.core.config import Settings
from zhengtong.core.errors import AppError
from zhengtong.privacy.scan.residency import check_outgoing

TIMEOUT_SECONDS = 5.0
MAX_REDIRECTS = 3
MAX_ANSWER_BYTES = 64 * 1024  # a robot answers with one message body at most
_REDIRECTS = frozenset({301, 302, 303, 307, 308})

Address = ipaddress.IPv4Address | ipaddress.IPv6Address


class Refused(Exception):
    """The platform may not call this address: trying again would not help."""


class Unreachable(Exception):
    """The call failed (timeout, connection, the server's error): worth another try later."""


@dataclass(frozen=True)
class Answer:
    status: int
    body: bytes
    location: str = ""  # where a redirect points


def address_refused(address: Address, allowed_networks: Sequence[str]) -> bool:
    """Whether an outgoing robot call may not go to `address`: anything but a public unicast
    address, unless the operator allowed its network."""
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    for network in allowed_networks:
        try:
            if address in ipaddress.ip_network(network, strict=False):
                return False
        except ValueError:  # another IP version, or a malformed entry the operator will see refused
            continue
    return not address.is_global or address.is_multicast or address.is_reserved or address.is_unspecified


def url_refusal(settings: Settings, url: str) -> str | None:
    """Why `url` may never be called, as far as it shows without DNS: its scheme, the residency
    rules, or a literal address outside the allowed networks. None when it may be tried."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return "scheme"
    try:
        check_outgoing(settings, url)
    except AppError:
        return f"host {parts.hostname} is outside the allowed hosts"
    try:
        literal = ipaddress.ip_address(parts.hostname)
    except ValueError:
        return None
    return f"address {literal} refused" if address_refused(literal, settings.robot_allowed_networks) else None


async def _checked_address(settings: Settings, url: str) -> Address:
    refusal = url_refusal(settings, url)
    if refusal:
        raise Refused(refusal)
    parts = urlsplit(url)
    host = parts.hostname or ""
    port = parts.port or (443 if parts.scheme == "https" else 80)
    try:
        async with asyncio.timeout(TIMEOUT_SECONDS):
            found = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (OSError, TimeoutError) as error:
        raise Unreachable(f"cannot resolve {host}") from error
    addresses = [ipaddress.ip_address(str(entry[4][0]).split("%")[0]) for entry in found]
    refused = [a for a in addresses if address_refused(a, settings.robot_allowed_networks)]
    if refused or not addresses:
        raise Refused(f"address {refused[0] if refused else host} refused")
    return addresses[0]


async def _post_to(address: Address, url: str, body: bytes, headers: dict[str, str]) -> Answer:
    """Posts to `address` as if to `url`'s host; reads the answer up to MAX_ANSWER_BYTES."""
    target = httpx.URL(url)
    async with (
        httpx.AsyncClient(
            timeout=httpx.Timeout(TIMEOUT_SECONDS), follow_redirects=False, trust_env=False
        ) as client,
        client.stream(
            "POST",
            target.copy_with(host=str(address)),
            content=body,
            headers={**headers, "Host": target.netloc.decode("ascii")},
            extensions={"sni_hostname": target.host} if target.scheme == "https" else {},
        ) as response,
    ):
        received = bytearray()
        async for chunk in response.aiter_bytes():
            received.extend(chunk)
            if len(received) > MAX_ANSWER_BYTES:
                break
        return Answer(
            response.status_code, bytes(received[:MAX_ANSWER_BYTES]), response.headers.get("location", "")
        )


async def post_json(settings: Settings, url: str, body: bytes, headers: dict[str, str]) -> Answer:
    """POSTs `body` (JSON) to a robot's `url`, following redirects to allowed addresses only.
    Raises Refused when the address may not be called, Unreachable when the call failed."""
    headers = {**headers, "Content-Type": "application/json; charset=utf-8"}
    for _hop in range(MAX_REDIRECTS + 1):
        address = await _checked_address(settings, url)
        try:
            answer = await _post_to(address, url, body, headers)
        except httpx.TimeoutException as error:
            raise Unreachable("timeout") from error
        except httpx.HTTPError as error:
            raise Unreachable(type(error).__name__) from error
        if answer.status in _REDIRECTS and answer.location:
            url = urljoin(url, answer.location)
            continue
        return answer
    raise Refused("too many redirects")
