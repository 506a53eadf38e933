"""E-mail over SMTP against a real SMTP server (aiosmtpd) started on a free port: the message
arrives with UTF-8 MIME headers and body as written; a server that refuses (5xx) or hangs makes
the provider fail within the timeout, and the delivery job records the failed attempt."""

from __future__ import annotations

import asyncio
import email
import email.policy
import time
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager, contextmanager
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword
from notify_world import BODY, SUBJECT, deliveries, member_with_email, run_jobs

from helpers import free_port
from zhengtong.core.clock import clock
from zhengtong.core.config import Settings
from zhengtong.core.context import AppContext
from zhengtong.notifications.notices import notify_people
from zhengtong.platform.channels.smtp import SmtpProvider, parse_smtp_url
from zhengtong.platform.notify import DeliveryFailed

SENDER = "政通平台 <noreply@zt.example.gov.cn>"


class Inbox:
    """aiosmtpd handler: keeps what arrives; answers RCPT or DATA as told, or stalls in DATA."""

    def __init__(self, *, refuse_rcpt: str = "", stall_seconds: float = 0) -> None:
        self.refuse_rcpt = refuse_rcpt
        self.stall_seconds = stall_seconds
        self.envelopes: list[Any] = []

    async def handle_RCPT(self, server: Any, session: Any, envelope: Any, address: str, options: Any) -> str:
        if self.refuse_rcpt:
            return self.refuse_rcpt
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        if self.stall_seconds:
            await asyncio.sleep(self.stall_seconds)
        self.envelopes.append(envelope)
        return "250 Message accepted for delivery"


def _only_zt(server: Any, session: Any, envelope: Any, mechanism: str, auth_data: Any) -> AuthResult:
    ok = isinstance(auth_data, LoginPassword) and auth_data == (b"zt@notice", b"p@ss:word")
    return AuthResult(success=ok)


@contextmanager
def smtp_server(inbox: Inbox) -> Iterator[int]:
    """A real SMTP server in a thread of its own, with AUTH (plain text allowed: loopback)."""
    port = free_port()
    controller = Controller(
        inbox, hostname="127.0.0.1", port=port, authenticator=_only_zt, auth_require_tls=False
    )
    controller.start()
    try:
        yield port
    finally:
        controller.stop()


@asynccontextmanager
async def silent_server() -> AsyncIterator[int]:
    """Accepts connections and never says a word (no SMTP greeting)."""

    async def hold(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.read()
        writer.close()

    server = await asyncio.start_server(hold, "127.0.0.1", 0)
    try:
        yield server.sockets[0].getsockname()[1]
    finally:
        server.close()


# A server that answers gets more than the folder's one second a step: on a loaded machine (CI,
# with browsers) the server's thread once took longer to answer, and the send failed as a timeout.
ANSWERING_SERVER_TIMEOUT = 5


def _provider(settings: Settings, port: int, *, timeout: int | None = None) -> SmtpProvider:
    url = f"smtp://zt%40notice:p%40ss%3Aword@127.0.0.1:{port}"
    options: dict[str, Any] = {"email_provider": "smtp", "smtp_url": url, "email_from": SENDER}
    if timeout is not None:
        options["notify_timeout_seconds"] = timeout
    return SmtpProvider(settings.with_overrides(**options))


async def _fails_within(send: Callable[[], Any], seconds: float) -> DeliveryFailed:
    started = time.monotonic()
    with pytest.raises(DeliveryFailed) as failed:
        await send()
    assert time.monotonic() - started < seconds
    return failed.value


def test_the_url_names_the_server_and_how_to_secure_it() -> None:
    plain = parse_smtp_url("smtp://mailer:s%2Fecret@mail.zt.local")
    assert (plain.host, plain.port, plain.starttls, plain.implicit_tls) == ("mail.zt.local", 25, False, False)
    assert (plain.username, plain.password) == ("mailer", "s/ecret")
    upgraded = parse_smtp_url("smtp://mail.zt.local?starttls=true")
    assert (upgraded.port, upgraded.starttls, upgraded.username) == (587, True, None)
    assert parse_smtp_url("smtps://mail.zt.local").port == 465
    for bad in ("http://mail.zt.local", "smtp://", "smtps://mail.zt.local?starttls=true"):
        with pytest.raises(ValueError):
            parse_smtp_url(bad)


async def test_a_message_arrives_with_utf8_headers_and_body(settings: Settings) -> None:
    inbox = Inbox()
    with smtp_server(inbox) as port:
        await _provider(settings, port, timeout=ANSWERING_SERVER_TIMEOUT).send_email(
            "zhang.ming@shuiwu.example.gov.cn", "notice.maintenance", SUBJECT["zh-CN"], BODY["zh-CN"], {}
        )

    [envelope] = inbox.envelopes
    assert envelope.mail_from == "noreply@zt.example.gov.cn"
    assert envelope.rcpt_tos == ["zhang.ming@shuiwu.example.gov.cn"]
    raw: bytes = envelope.original_content
    headers = raw.split(b"\r\n\r\n", 1)[0]
    assert b"=?utf-8?" in headers and "系统".encode() not in headers  # RFC 2047 words, 7-bit headers
    message = email.message_from_bytes(raw, policy=email.policy.default)
    assert message["Subject"] == "系统维护通知"
    assert message["From"].addresses[0].display_name == "政通平台"
    assert message["To"] == "zhang.ming@shuiwu.example.gov.cn"
    assert message["Auto-Submitted"] == "auto-generated"
    assert message["Message-ID"].endswith("@zt.example.gov.cn>")
    assert message.get_content_type() == "text/plain" and message.get_content_charset() == "utf-8"
    assert message.get_content().strip() == BODY["zh-CN"]


async def test_a_refusing_server_fails_the_send_at_once(settings: Settings) -> None:
    with smtp_server(Inbox(refuse_rcpt="550 5.1.1 Mailbox unavailable")) as port:
        provider = _provider(settings, port)
        failure = await _fails_within(
            lambda: provider.send_email("nobody@shuiwu.example.gov.cn", "t", "主题", "正文", {}), 1.0
        )
    assert failure.reason == "smtp 550"


async def test_a_server_that_never_greets_fails_within_the_timeout(settings: Settings) -> None:
    async with silent_server() as port:
        provider = _provider(settings, port)
        failure = await _fails_within(
            lambda: provider.send_email("a@shuiwu.example.gov.cn", "t", "主题", "正文", {}), 2.5
        )
    assert failure.reason == "Timeout"


async def test_a_server_that_stalls_after_the_message_fails_within_the_timeout(settings: Settings) -> None:
    with smtp_server(Inbox(stall_seconds=5)) as port:
        provider = _provider(settings, port)
        failure = await _fails_within(
            lambda: provider.send_email("a@shuiwu.example.gov.cn", "t", "主题", "正文", {}), 2.5
        )
    assert failure.reason == "Timeout"


async def test_the_delivery_records_the_refused_attempt_and_sends_once_the_server_takes_it(
    app: object, context: AppContext, settings: Settings
) -> None:
    # given: 张明 has an organisation e-mail; the server refuses every recipient
    context.settings = context.settings.with_overrides(notify_timeout_seconds=ANSWERING_SERVER_TIMEOUT)
    zhang, address = await member_with_email(context, "张明")
    async with context.db.transaction() as session:
        await notify_people(
            session,
            context,
            [zhang.account_id],
            kind="maintenance",
            subject=SUBJECT,
            body=BODY,
            channels=["email"],
        )
    with smtp_server(Inbox(refuse_rcpt="550 5.7.1 Rejected by policy")) as port:
        context.email = _provider(settings, port, timeout=ANSWERING_SERVER_TIMEOUT)
        await run_jobs(context)

    # then: the attempt is recorded with the server's answer and a retry is planned
    first = (await deliveries(context, zhang.account_id))["email"]
    assert (first.result, first.detail, first.attempts, first.waiting) == ("queued", "smtp 550", 1, True)

    # when: a minute later the server takes it
    inbox = Inbox()
    with smtp_server(inbox) as port:
        context.email = _provider(settings, port, timeout=ANSWERING_SERVER_TIMEOUT)
        clock.advance(61)
        await run_jobs(context)

    second = (await deliveries(context, zhang.account_id))["email"]
    assert (second.result, second.detail, second.attempts, second.waiting) == ("sent", "", 2, False)
    assert [envelope.rcpt_tos for envelope in inbox.envelopes] == [[address]]
