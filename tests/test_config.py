"""Settings come from ZT_* variables over an optional TOML file, with embedded defaults."""

from __future__ import annotations

from pathlib import Path

import pytest

from zhengtong.core.config import load_settings


def test_defaults_are_the_embedded_ones() -> None:
    settings = load_settings({})
    assert settings.data_dir == Path("./var")
    assert settings.resolved_database_url.startswith("sqlite+aiosqlite:///")
    assert settings.redis_url is None and settings.admin_totp_required is True


def test_environment_overrides_the_file(tmp_path: Path) -> None:
    config = tmp_path / "zt.toml"
    config.write_text('data_dir = "/srv/zt"\nredis_url = "redis://file"\nmax_body_bytes = 2048\n')
    settings = load_settings(
        {"ZT_CONFIG_FILE": str(config), "ZT_REDIS_URL": "redis://env", "ZT_NATIONAL_CRYPTO": "1"}
    )
    assert settings.data_dir == Path("/srv/zt")
    assert settings.redis_url == "redis://env"
    assert settings.max_body_bytes == 2048
    assert settings.national_crypto is True


def test_unknown_setting_in_the_file_is_refused(tmp_path: Path) -> None:
    config = tmp_path / "zt.toml"
    config.write_text('databse_url = "typo"\n')
    with pytest.raises(ValueError, match="databse_url"):
        load_settings({"ZT_CONFIG_FILE": str(config)})
