"""Choosing providers from the settings: the outbox by default, the real channels when configured,
nothing the platform cannot use (an unknown provider, the outbox in production, a gateway without
its secret, a From that is no address, a VAPID subject push services refuse), and the residency
check covers the SMTP server and the gateway."""

from __future__ import annotations

import pytest

from zhengtong.core.config import Settings
from zhengtong.core.context import build_context
from zhengtong.notifications.push_provider import WebPushProvider
from zhengtong.platform.channels.gateway import GatewayProvider
from zhengtong.platform.channels.smtp import SmtpProvider
from zhengtong.platform.notify import OutboxProvider
from zhengtong.privacy.scan.residency import StartRefused, check_residency

CONFIGURED = {
    "sms_provider": "gateway",
    "voice_provider": "gateway",
    "sms_gateway_url": "https://sms-bridge.zt.internal/zt",
    "sms_gateway_secret": "a-long-shared-secret",
    "email_provider": "smtp",
    "smtp_url": "smtp://mailer:secret@mail.zt.internal:587?starttls=true",
    "email_from": "政通 <noreply@zt.example.gov.cn>",
    "push_provider": "webpush",
    "allowed_hosts": ("*.zt.internal", "127.0.0.0/8"),
}


async def test_the_outbox_by_default_and_the_configured_channels_otherwise(settings: Settings) -> None:
    default = build_context(settings)
    configured = build_context(settings.with_overrides(**CONFIGURED))
    try:
        assert {type(p) for p in (default.sms, default.voice, default.email, default.push)} == {
            OutboxProvider
        }
        assert isinstance(configured.sms, GatewayProvider) and configured.voice is configured.sms
        assert isinstance(configured.email, SmtpProvider)
        assert isinstance(configured.push, WebPushProvider)
        assert configured.vapid.public_key == default.vapid.public_key  # one key per data directory
    finally:
        await default.close()
        await configured.close()


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"push_provider": "carrier-pigeon"}, "ZT_PUSH_PROVIDER must be one of outbox, webpush"),
        (
            {"environment": "production", **CONFIGURED, "email_provider": "outbox"},
            "ZT_EMAIL_PROVIDER to smtp",
        ),
        ({**CONFIGURED, "sms_gateway_secret": "short"}, "ZT_SMS_GATEWAY_SECRET"),
        ({**CONFIGURED, "email_from": "政通"}, "ZT_EMAIL_FROM"),
        ({**CONFIGURED, "smtp_url": "http://mail.zt.internal"}, "ZT_SMTP_URL"),
        ({**CONFIGURED, "vapid_subject": "the operator"}, "ZT_VAPID_SUBJECT"),
    ],
)
def test_settings_the_platform_cannot_use_refuse_to_start(
    settings: Settings, changes: dict[str, object], message: str
) -> None:
    with pytest.raises((RuntimeError, ValueError), match=message):
        build_context(settings.with_overrides(**changes))


@pytest.mark.parametrize("name", ["smtp_url", "sms_gateway_url"])
def test_the_smtp_server_and_the_gateway_must_be_inside_the_allowed_hosts(
    settings: Settings, name: str
) -> None:
    outside = {"smtp_url": "smtps://smtp.mail.example.com", "sms_gateway_url": "https://sms.example.com/zt"}
    with pytest.raises(StartRefused, match=f"{name} points at"):
        check_residency(settings.with_overrides(**{**CONFIGURED, name: outside[name]}))
