"""Logs without personal data: where the log files go, what is scrubbed on the way, how long
they stay.

A server writes two log types besides stderr, one file per type and UTC day under the data
directory (`logs/access-2025-03-01.log`, `logs/app-2025-03-01.log`); several processes append to
the same file. The access log carries keyed pseudonyms and route templates only
(web.middleware.AccessLogMiddleware); the application log is everything else. The audit log is
not a file: it lives in the database (platform.audit) and has its own retention.

What keeps personal data out is, first, the code: log calls pass ids and codes, never a mobile
number, name or message text, and the request body is never logged. Second, every handler
carries `DeidentifyingFilter`, a safety net for text the code does not control (exception
messages, third-party libraries): IP addresses are cut to their /24 or /48 network, and mobile
numbers, e-mail addresses and ID numbers are masked. Names cannot be recognised by a pattern, so
for them the first rule is the only one; the log test proves it with a canary workload.
Libraries that would log request or message content at debug level (SQL parameters, form fields,
WebSocket frames) are held at WARNING.

`delete_expired_logs` removes each type's files once they are older than its retention
(`access_log_days`, `app_log_days`); the retention job (privacy.scan.jobs) runs it daily.
"""

from __future__ import annotations

import ipaddress
import logging
import re
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path

from zhengtong.core.clock import utcnow
from zhengtong.core.config import Settings
from zhengtong.core.netaddr import truncate_ip

ACCESS_LOGGER = "zhengtong.access"
LOG_TYPES = ("access", "app")
LOG_FORMAT = "%(asctime)s %(levelname)s %(name)s %(message)s"
_LOG_FILE = re.compile(r"^(?P<kind>[a-z]+)-(?P<day>\d{4}-\d{2}-\d{2})\.log(?:\.gz)?$")

# Their debug output carries SQL parameters, form fields or WebSocket frames (message text).
QUIET_LOGGERS = (
    "aiosqlite",
    "asyncpg",
    "sqlalchemy.engine",
    "sqlalchemy.pool",
    "multipart",
    "python_multipart",
    "websockets",
    "httpx",
    "httpcore",
)


# Scrubbing ------------------------------------------------------------------------------------
_IPV4 = re.compile(r"(?<![\d.])\d{1,3}(?:\.\d{1,3}){3}(?![\d.]|/\d)")
_IPV6 = re.compile(r"(?<![0-9A-Fa-f:])[0-9A-Fa-f]{0,4}(?::[0-9A-Fa-f]{0,4}){2,7}(?![0-9A-Fa-f:]|/\d)")
_ID_NUMBER = re.compile(r"(?<![0-9A-Za-z])(\d{6})\d{8}(\d{3}[0-9Xx])(?![0-9A-Za-z])")
_MOBILE = re.compile(r"(?<![\d+])(?:\+?86[\s-]?)?(1[3-9]\d)[\s-]?\d{4}[\s-]?(\d{4})(?!\d)")
_EMAIL = re.compile(r"[A-Za-z0-9._%+-]+@([A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,})")


def _truncated(match: re.Match[str]) -> str:
    text = match.group(0)
    try:
        address = ipaddress.ip_address(text)
    except ValueError:
        return text  # a time of day (12:30:45), a version number: not an address
    if address.is_loopback or address.is_unspecified:
        return text  # this machine, or "every interface": no person behind it
    return truncate_ip(text)


def scrub(text: str) -> str:
    """`text` with IP addresses truncated and mobile numbers, e-mail addresses and ID numbers
    masked (138****5678, ***@example.cn, 110105********123X)."""
    text = _ID_NUMBER.sub(r"\1********\2", text)
    text = _EMAIL.sub(r"***@\1", text)
    text = _MOBILE.sub(r"\1****\2", text)
    text = _IPV4.sub(_truncated, text)
    return _IPV6.sub(_truncated, text)


class DeidentifyingFilter(logging.Filter):
    """Scrubs each record's message, exception text and stack before any handler writes it."""

    _formatter = logging.Formatter()

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # arguments that do not fit the format: keep the format alone
            message = str(record.msg)
        record.msg, record.args = scrub(message), None
        if record.exc_info and not record.exc_text:
            record.exc_text = self._formatter.formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = scrub(record.exc_text)
        if record.stack_info:
            record.stack_info = scrub(record.stack_info)
        return True


# Files ----------------------------------------------------------------------------------------
def log_file_name(kind: str, day: date) -> str:
    return f"{kind}-{day.isoformat()}.log"


class DailyFileHandler(logging.FileHandler):
    """Appends to <directory>/<kind>-<UTC date>.log, moving to the next file when the date
    changes. Each record is one write in append mode, so several processes can share a file.
    Opening and moving to a new day also delete this kind's expired files, so a machine whose logs the
    retention job does not see (another host) keeps no more than its retention either."""

    def __init__(self, directory: Path, kind: str, keep_days: int) -> None:
        directory.mkdir(parents=True, exist_ok=True)
        self.directory = directory
        self.kind = kind
        self.keep_days = keep_days
        super().__init__(self._todays_path(), encoding="utf-8", delay=True)
        self._delete_expired()

    def _delete_expired(self) -> None:
        delete_expired_logs(self.directory, {self.kind: self.keep_days}, utcnow().date())

    def _todays_path(self) -> str:
        return str((self.directory / log_file_name(self.kind, utcnow().date())).resolve())

    def emit(self, record: logging.LogRecord) -> None:
        wanted = self._todays_path()
        if wanted != self.baseFilename:
            self.acquire()
            try:
                if self.stream is not None:
                    self.stream.close()
                    self.stream = None
                self.baseFilename = wanted
            finally:
                self.release()
            self._delete_expired()
        super().emit(record)


class _OnlyLogger(logging.Filter):
    def __init__(self, name: str, *, invert: bool = False) -> None:
        super().__init__()
        self.prefix = name
        self.invert = invert

    def filter(self, record: logging.LogRecord) -> bool:
        ours = record.name == self.prefix or record.name.startswith(self.prefix + ".")
        return ours != self.invert


@dataclass
class LoggingSetup:
    """What `configure_logging` installed, so that it can be taken away again (tests)."""

    handlers: list[logging.Handler] = field(default_factory=list)
    previous_levels: dict[str, int] = field(default_factory=dict)

    def undo(self) -> None:
        root = logging.getLogger()
        for handler in self.handlers:
            root.removeHandler(handler)
            handler.close()
        for name, level in self.previous_levels.items():
            logging.getLogger(name or None).setLevel(level)
        self.handlers.clear()


def configure_logging(settings: Settings, level: str | None = None, *, force: bool = False) -> LoggingSetup:
    """Stderr plus, with `log_to_files`, the daily access and application files, every handler
    scrubbing. Like logging.basicConfig it leaves a root logger that already has handlers alone
    (an embedding program, or pytest), unless `force`."""
    root = logging.getLogger()
    setup = LoggingSetup()
    if root.handlers and not force:
        return setup
    setup.previous_levels = {"": root.level} | {name: logging.getLogger(name).level for name in QUIET_LOGGERS}
    handlers: list[logging.Handler] = [logging.StreamHandler(sys.stderr)]
    if settings.log_to_files:
        days = log_retention_days(settings)
        access = DailyFileHandler(settings.log_dir, "access", days["access"])
        access.addFilter(_OnlyLogger(ACCESS_LOGGER))
        application = DailyFileHandler(settings.log_dir, "app", days["app"])
        application.addFilter(_OnlyLogger(ACCESS_LOGGER, invert=True))
        handlers += [access, application]
    formatter = logging.Formatter(LOG_FORMAT)
    for handler in handlers:
        handler.setFormatter(formatter)
        handler.addFilter(DeidentifyingFilter())
        root.addHandler(handler)
    root.setLevel((level or settings.log_level).upper())
    for name in QUIET_LOGGERS:
        logging.getLogger(name).setLevel(logging.WARNING)
    setup.handlers = handlers
    return setup


# Retention ------------------------------------------------------------------------------------
def log_retention_days(settings: Settings) -> dict[str, int]:
    return {"access": settings.access_log_days, "app": settings.app_log_days}


def delete_expired_logs(log_dir: Path, keep_days: Mapping[str, int], today: date) -> list[str]:
    """Deletes the log files of each type whose day is more than that type's days before `today`;
    returns their names. Files this module did not name are left alone."""
    if not log_dir.is_dir():
        return []
    deleted = []
    for path in sorted(log_dir.iterdir()):
        matched = _LOG_FILE.match(path.name)
        if not matched or matched["kind"] not in keep_days or not path.is_file():
            continue
        if date.fromisoformat(matched["day"]) < today - timedelta(days=keep_days[matched["kind"]]):
            path.unlink(missing_ok=True)
            deleted.append(path.name)
    return deleted
