"""Which gates a route stays open through, declared on the route itself.

Two gates stand in front of every route: the privacy policy gate (privacy.consent.gate: until an
account acknowledges the latest major version, its calls are refused) and, after a service
shutdown's date, the collection gate (privacy.operator.gate: nothing new is collected). A route that
must stay open through one says so where it is defined, so that whoever adds or moves a route sees
the decision next to it:

    @open_through(Gate.POLICY, Gate.COLLECTION)
    @router.post("/privacy/exports", …)
    async def start_export(…): …

Every other route is gated: forgetting the mark closes a route, never opens one.
"""

from __future__ import annotations

from collections.abc import Callable
from enum import StrEnum
from typing import Any, TypeVar

_MARK = "__zt_open_through__"
Endpoint = TypeVar("Endpoint", bound=Callable[..., Any])


class Gate(StrEnum):
    # Needs no acknowledgement of the latest policy: reading and acknowledging it, who is logged
    # in, logging out, and leaving with one's data (export, account cancellation).
    POLICY = "policy"
    # Takes nothing new from anyone, so it stays open after collection stopped: logging in and out,
    # reading notices, exporting, requests about one's data, leaving, the operator's shutdown work.
    COLLECTION = "collection"


def open_through(*gates: Gate) -> Callable[[Endpoint], Endpoint]:
    def mark(endpoint: Endpoint) -> Endpoint:
        setattr(endpoint, _MARK, getattr(endpoint, _MARK, frozenset()) | frozenset(gates))
        return endpoint

    return mark


def is_open_through(endpoint: object, gate: Gate) -> bool:
    return gate in getattr(endpoint, _MARK, frozenset())
