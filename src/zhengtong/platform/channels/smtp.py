"""E-mail over SMTP (aiosmtplib): one connection per message, bounded by the configured timeout.

`ZT_SMTP_URL` names the server: `smtp://user:password@host:port` (plain, or `?starttls=true` to
upgrade with STARTTLS; port 25, or 587 with STARTTLS) and `smtps://…` for implicit TLS (port
465). The user and password are percent-decoded. Certificates are checked against the system's
CAs. The message is MIME with UTF-8 subject and body (Chinese as written), a Message-ID of the
sender's domain and `Auto-Submitted: auto-generated` (RFC 3834), so that mail servers do not
answer it with out-of-office replies.
"""

from __future__ import annotations

from dataclasses import dataclass
from email.errors import MessageError
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid, parseaddr
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

import aiosmtplib

from zhengtong.core.clock import utcnow
from zhengtong.core.config import Settings
from zhengtong.platform.notify import DeliveryFailed
from zhengtong.privacy.scan.residency import check_outgoing

_DEFAULT_PORTS = {"smtp": 25, "smtps": 465}
_STARTTLS_PORT = 587
_TRUE = {"1", "true", "yes", "on"}


@dataclass(frozen=True)
class SmtpServer:
    host: str
    port: int
    implicit_tls: bool
    starttls: bool
    username: str | None
    password: str | None


def parse_smtp_url(url: str) -> SmtpServer:
    """The server a ZT_SMTP_URL names; ValueError for anything else (refused at start)."""
    parts = urlsplit(url)
    if parts.scheme not in _DEFAULT_PORTS or not parts.hostname:
        raise ValueError("ZT_SMTP_URL must look like smtp://user:password@host:port or smtps://…")
    starttls = parse_qs(parts.query).get("starttls", ["false"])[0].lower() in _TRUE
    implicit_tls = parts.scheme == "smtps"
    if implicit_tls and starttls:
        raise ValueError("ZT_SMTP_URL: smtps:// is TLS from the start; starttls=true is for smtp://")
    default_port = _STARTTLS_PORT if starttls else _DEFAULT_PORTS[parts.scheme]
    return SmtpServer(
        host=parts.hostname,
        port=parts.port or default_port,
        implicit_tls=implicit_tls,
        starttls=starttls,
        username=unquote(parts.username) if parts.username else None,
        password=unquote(parts.password) if parts.password else None,
    )


def compose(sender: str, address: str, subject: str, text: str) -> EmailMessage:
    """A plain-text message in UTF-8; the headers are encoded as RFC 2047 words where needed."""
    message = EmailMessage()
    message["From"] = sender
    message["To"] = address
    message["Subject"] = subject
    message["Date"] = format_datetime(utcnow())
    message["Message-ID"] = make_msgid(domain=_domain_of(sender))
    message["Auto-Submitted"] = "auto-generated"
    message.set_content(text, charset="utf-8")
    return message


def _domain_of(sender: str) -> str:
    return parseaddr(sender)[1].rpartition("@")[2] or "localhost"


def _checked_sender(sender: str) -> str:
    name, address = parseaddr(sender)
    if "@" not in address:
        raise ValueError("ZT_EMAIL_FROM must be an address such as 政通 <noreply@zt.example.gov.cn>")
    username, domain = address.rsplit("@", 1)
    return str(Address(display_name=name, username=username, domain=domain))


class SmtpProvider:
    """EmailProvider over SMTP."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.server = parse_smtp_url(settings.smtp_url)
        self.sender = _checked_sender(settings.email_from)
        self.timeout = float(settings.notify_timeout_seconds)
        # Our name in EHLO: without it the client asks the resolver (socket.getfqdn), which can
        # stall where DNS is slow or absent.
        self.local_hostname = urlsplit(settings.public_url).hostname or "localhost"

    async def send_email(
        self, address: str, template: str, subject: str, text: str, params: dict[str, Any]
    ) -> None:
        check_outgoing(self.settings, self.settings.smtp_url)
        try:
            message = compose(self.sender, address, subject, text)
        except (ValueError, MessageError) as error:
            raise DeliveryFailed("BadAddress") from error
        server = self.server
        try:
            await aiosmtplib.send(
                message,
                hostname=server.host,
                port=server.port,
                username=server.username,
                password=server.password,
                use_tls=server.implicit_tls,
                start_tls=server.starttls,
                local_hostname=self.local_hostname,
                timeout=self.timeout,
            )
        except aiosmtplib.SMTPRecipientsRefused as error:
            codes = sorted({response.code for response in error.recipients})
            raise DeliveryFailed(f"smtp {codes[0] if codes else 'refused'}") from error
        except aiosmtplib.SMTPResponseException as error:
            raise DeliveryFailed(f"smtp {error.code}") from error
        except (aiosmtplib.SMTPTimeoutError, TimeoutError) as error:
            raise DeliveryFailed("Timeout") from error
        except (aiosmtplib.SMTPException, OSError) as error:
            raise DeliveryFailed(type(error).__name__) from error
