"""`zhengtong privacy scan`: the proof that nothing of a person is left.

Given needles (a mobile number, a name, an e-mail address, an ID number), the scan looks
everywhere the platform can hold data and reports each place that still holds one:

- every column of every table (a walk over the metadata, so a new table is covered without being
  listed): text, JSON and bytes; ciphertext is opened with the platform's field key or the row's
  organisation key under the AADs the code binds values with; keyed blind indexes are compared
  with the needle's own (a mobile number's `mobile_index`);
- every stored file (opened with the organisation's key when sealed; spreadsheets are unzipped);
- the chat search index, which holds keyed word hashes: each needle's words are hashed with each
  organisation's search key and looked up; the directory's search tokens (with the name's pinyin);
- Redis keys and values when Redis is configured (event streams, rate-limit keys);
- the log files.

Matching ignores case, spaces and hyphens; a mobile number matches with or without +86, and a
masked form (138****0000) does not count. Ciphertext that no key opens is listed apart
(`unopened`): either its organisation key was destroyed, which is the point of crypto-shredding,
or it was sealed under an AAD this module does not know yet (see `register_aad_prefix`).
"""

from __future__ import annotations

import contextlib
import gzip
import io
import json
import re
import zipfile
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import LargeBinary, Table, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from zhengtong.core.context import AppContext
from zhengtong.core.crypto import CryptoError, FieldCipher, Keyring
from zhengtong.core.errors import AppError
from zhengtong.core.inventory import DataClass, declaration_of
from zhengtong.privacy.consent import minors
from zhengtong.privacy.scan.errors import NEEDLE_TOO_SHORT

PLACES = ("column", "file", "search_index", "log", "cache")

# Tables that are search indexes: their hits are reported as "search_index".
SEARCH_INDEX_TABLES = frozenset({"member_search_tokens", "im_message_tokens"})
# Indexes of keyed hashes, searched by hashing the needle (`_scan_chat_index`) instead of row by row.
_HASHED_INDEX_TABLES = frozenset({"im_message_tokens"})

# Values are bound to their row with AAD "<prefix>:<row id>" (or to their storage key for files).
_AAD_PREFIXES: list[str] = [
    "account-mobile",
    "account-totp",
    "join-request-mobile",
    "im-message",
    "im-file",
    "im-announcement",
    "ding",
    "ding-file",
]

# Wrapped key material: it opens only as random bytes, and `_org_ciphers` has already unwrapped it.
_KEY_COLUMNS = frozenset({"organizations.data_key_wrapped"})

_CIPHERTEXT_MIN_BYTES = 1 + 12 + 16  # algorithm byte, nonce, tag
_ALGORITHM_BYTES = (1, 2)


def register_aad_prefix(prefix: str) -> None:
    """Tells the scan about a new kind of sealed column: `prefix` as in AAD "<prefix>:<row id>"."""
    if prefix not in _AAD_PREFIXES:
        _AAD_PREFIXES.append(prefix)


# Results ----------------------------------------------------------------------------------------
@dataclass(frozen=True, order=True)
class Hit:
    needle: str  # the needle as given
    place: str  # "column" | "file" | "search_index" | "log" | "cache"
    location: str  # "memberships.name row 01J…", a storage key, "log app-2025-01-01.log:123"


@dataclass
class ScanReport:
    needles: list[str]
    hits: list[Hit] = field(default_factory=list)
    # Ciphertext no key opened: a destroyed organisation key, or an AAD the scan does not know.
    unopened: list[str] = field(default_factory=list)
    looked_at: dict[str, int] = field(default_factory=lambda: dict.fromkeys(PLACES, 0))

    @property
    def clean(self) -> bool:
        return not self.hits

    def places(self) -> set[str]:
        return {hit.place for hit in self.hits}

    def hits_for(self, needle: str) -> list[Hit]:
        return [hit for hit in self.hits if hit.needle == needle]

    def to_json(self) -> dict[str, Any]:
        return {
            "needles": self.needles,
            "clean": self.clean,
            "hits": [{"needle": h.needle, "place": h.place, "location": h.location} for h in self.hits],
            "unopened": self.unopened,
            "looked_at": self.looked_at,
        }


# Needles ----------------------------------------------------------------------------------------
_SEPARATORS = re.compile(r"[\s\-‐‑–—－()（）]+")
_MOBILE = re.compile(r"^(?:\+?86)?(1\d{10})$")  # mainland China, with or without +86
_E164 = re.compile(r"^\+[1-9]\d{7,14}$")  # any other number in international form
_CJK = re.compile(r"[\u3400-\u9fff]")


def compact(text: str) -> str:
    """What matching compares: lower case, without spaces, hyphens and brackets."""
    return _SEPARATORS.sub("", text.casefold())


@dataclass(frozen=True)
class Needle:
    text: str  # as given
    forms: tuple[str, ...]  # compact forms searched in every text
    index_forms: tuple[str, ...]  # searched in search indexes only (a name's pinyin)
    hashes: dict[bytes, str]  # keyed blind indexes of the needle → what they index
    words: frozenset[str]  # what the chat index holds of it (see `_index_words`)

    def found_in(self, text: str, *, in_index: bool = False) -> bool:
        if any(form in text for form in self.forms):
            return True
        return in_index and any(form in text for form in self.index_forms)


def _holds_personal_data(column: Any) -> bool:
    declared = declaration_of(column)
    return declared is None or declared.data_class is not DataClass.NONE


def _index_words(text: str) -> frozenset[str]:
    """The chat index's words a message holding `text` certainly has: every single Chinese
    character and the Latin/digit runs. Longer Chinese words depend on the sentence around them
    (jieba may cut 甘露寺蜜璃 differently inside a sentence), so they are not relied upon."""
    from zhengtong.im.content import words

    return frozenset(word for word in words(text) if len(word) == 1 or word.isascii())


def prepare_needle(keyring: Keyring, raw: str) -> Needle:
    text = raw.strip()
    compacted = compact(text)
    if len(compacted) < 2:
        raise AppError(NEEDLE_TOO_SHORT, {"needle_length": len(compacted)})
    forms = [compacted]
    hashes: dict[bytes, str] = {}
    mainland = _MOBILE.match(compacted)
    e164 = "+86" + mainland.group(1) if mainland else compacted if _E164.match(compacted) else None
    if e164 is not None:
        # The national number is what every written form contains (+86 138…, 86138…, 138 …).
        forms = [mainland.group(1)] if mainland else [e164, e164[1:]]
        index = keyring.blind_index("mobile", e164)
        hashes[index] = "mobile blind index"
        forms.append(index.hex())  # rate-limit keys and the like name the index in hex
    index_forms: list[str] = []
    if _CJK.search(text):
        from zhengtong.directory.pinyin import full_pinyin, initials

        index_forms.append(compact(full_pinyin(text)))
        if len(text) >= 3:  # two initials alone (zs) are far too common to mean this person
            index_forms.append(compact(initials(text)))
    return Needle(text, tuple(forms), tuple(f for f in index_forms if f), hashes, _index_words(text))


# Opening ciphertext -----------------------------------------------------------------------------
def _looks_sealed(value: bytes) -> bool:
    return len(value) >= _CIPHERTEXT_MIN_BYTES and value[0] in _ALGORITHM_BYTES


class _Opener:
    """Tries the keys and AADs a value may be sealed with; remembers what worked per column."""

    def __init__(self, keyring: Keyring, org_ciphers: dict[str, FieldCipher | None]) -> None:
        self.platform = keyring.platform
        self.org_ciphers = org_ciphers
        self._recipes: dict[str, tuple[str, str]] = {}  # column → (cipher kind, AAD prefix)

    def _ciphers(self, org_id: str | None) -> list[tuple[str, FieldCipher]]:
        ciphers = [("platform", self.platform)]
        org_cipher = self.org_ciphers.get(org_id or "")
        if org_cipher is not None:
            ciphers.append(("org", org_cipher))
        return ciphers

    def open_column(
        self, where: str, value: bytes, row_id: str, org_id: str | None, bound_to: bytes | None = None
    ) -> bytes | None:
        """`bound_to`: the AAD when the column binds its values to something else than the row's id."""
        if bound_to is not None:
            return self._open_with(org_id, value, bound_to)
        recipes = [(kind, prefix) for kind, _ in self._ciphers(org_id) for prefix in ["", *_AAD_PREFIXES]]
        remembered = self._recipes.get(where)
        if remembered in recipes:
            recipes.remove(remembered)
            recipes.insert(0, remembered)
        ciphers = dict(self._ciphers(org_id))
        for kind, prefix in recipes:
            aad = f"{prefix}:{row_id}".encode() if prefix else b""
            try:
                opened = ciphers[kind].decrypt(value, aad)
            except CryptoError:
                continue
            self._recipes[where] = (kind, prefix)
            return opened
        return None

    def _open_with(self, org_id: str | None, value: bytes, aad: bytes) -> bytes | None:
        for _kind, cipher in self._ciphers(org_id):
            with contextlib.suppress(CryptoError):
                return cipher.decrypt(value, aad)
        return None

    def open_file(self, key: str, data: bytes) -> bytes | None:
        """A stored file is sealed with its organisation's key and bound to its storage key."""
        segments = set(key.split("/"))
        candidates = [cipher for org_id, cipher in self.org_ciphers.items() if org_id in segments]
        candidates += [cipher for org_id, cipher in self.org_ciphers.items() if org_id not in segments]
        for cipher in [*candidates, self.platform]:
            if cipher is None:
                continue
            for aad in (key.encode(), b""):
                try:
                    return cipher.decrypt(data, aad)
                except CryptoError:
                    continue
        return None

    def key_destroyed(self, org_id: str | None) -> bool:
        return org_id is not None and org_id in self.org_ciphers and self.org_ciphers[org_id] is None


async def _org_ciphers(session: AsyncSession, keyring: Keyring) -> dict[str, FieldCipher | None]:
    from zhengtong.org.models import Organization

    ciphers: dict[str, FieldCipher | None] = {}
    for org_id, wrapped in await session.execute(select(Organization.id, Organization.data_key_wrapped)):
        try:
            ciphers[org_id] = keyring.org_cipher(org_id, wrapped) if wrapped is not None else None
        except CryptoError:
            ciphers[org_id] = None
    return ciphers


# Turning values into text -----------------------------------------------------------------------
def _decode(data: bytes) -> str:
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        # Spreadsheets exported by Chinese office software are often GB18030 (GBK) encoded.
        return data.decode("gb18030", errors="ignore")


def _unescape_json(text: str) -> str:
    """JSON written with escaped non-ASCII (\\u7532) would hide a Chinese name from a substring
    search; such text is parsed and written back plainly."""
    if "\\u" not in text:
        return text
    try:
        return json.dumps(json.loads(text), ensure_ascii=False)
    except ValueError:
        return text


def file_texts(data: bytes) -> list[str]:
    """The text inside a file: spreadsheets and other zip-based documents are unpacked, gzip
    (rotated logs) is inflated, everything else is read as text."""
    if data[:2] == b"\x1f\x8b":
        with contextlib.suppress(OSError, EOFError):
            data = gzip.decompress(data)
    if data[:4] == b"PK\x03\x04":
        try:
            with zipfile.ZipFile(io.BytesIO(data)) as archive:
                return [_decode(archive.read(name)) for name in archive.namelist()]
        except (zipfile.BadZipFile, OSError, EOFError):
            pass
    return [_unescape_json(_decode(data))]


def _value_text(value: Any) -> str | None:
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, str):
        return value
    if isinstance(value, dict | list):
        return json.dumps(value, ensure_ascii=False, default=str)
    if isinstance(value, int | float):
        return str(value)
    return None  # dates, times: nothing to find in them


# The scan ---------------------------------------------------------------------------------------
class _Scan:
    def __init__(self, context: AppContext, needles: list[Needle], report: ScanReport) -> None:
        self.context = context
        self.needles = needles
        self.report = report
        self._seen: set[Hit] = set()
        self.opener = _Opener(context.keyring, {})

    def hit(self, needle: Needle, place: str, location: str) -> None:
        found = Hit(needle.text, place, location)
        if found not in self._seen:
            self._seen.add(found)
            self.report.hits.append(found)

    def check_text(self, text: str, place: str, location: str) -> None:
        self.report.looked_at[place] += 1
        compacted = compact(text)
        for needle in self.needles:
            if needle.found_in(compacted, in_index=place == "search_index"):
                self.hit(needle, place, location)

    def check_hash(self, value: bytes, place: str, location: str) -> None:
        for needle in self.needles:
            if value in needle.hashes:
                self.hit(needle, place, f"{location} ({needle.hashes[value]})")

    # Database -------------------------------------------------------------------------------
    async def columns(self, session: AsyncSession) -> None:
        from zhengtong.models import metadata

        self.opener = _Opener(self.context.keyring, await _org_ciphers(session, self.context.keyring))
        for table in metadata.sorted_tables:
            if table.name not in _HASHED_INDEX_TABLES:
                await self._table(session, table)

    async def _table(self, session: AsyncSession, table: Table) -> None:
        place = "search_index" if table.name in SEARCH_INDEX_TABLES else "column"
        key_columns = list(table.primary_key.columns)
        has_org = "org_id" in table.columns
        rows = await session.stream(select(table).execution_options(yield_per=500))
        try:
            async for row in rows:
                values = row._mapping
                row_id = "/".join(str(values[column.name]) for column in key_columns)
                org_id = values["org_id"] if has_org else None
                for column in table.columns:
                    value = values[column.name]
                    where = f"{table.name}.{column.name}"
                    location = f"{where} row {row_id}"
                    # A name's pinyin is looked for in an index's tokens only: in its ids (random
                    # letters) short initials such as "hdr" turn up by chance.
                    column_place = place if _holds_personal_data(column) else "column"
                    if isinstance(value, bytes | memoryview):
                        bound_to = None
                        if where in minors.SEALED_COLUMNS:  # bound to a field and a member
                            bound_to = minors.sealed_column_aad(where, str(values["membership_id"]))
                        self._bytes(
                            bytes(value), column, where, location, row_id, org_id, column_place, bound_to
                        )
                        continue
                    text = _value_text(value)
                    if text:
                        self.check_text(_unescape_json(text), column_place, location)
        finally:
            await rows.close()

    def _bytes(
        self,
        value: bytes,
        column: Any,
        where: str,
        location: str,
        row_id: str,
        org_id: str | None,
        place: str,
        bound_to: bytes | None = None,
    ) -> None:
        self.check_hash(value, place, location)
        if where in _KEY_COLUMNS:
            return
        fixed_length = isinstance(column.type, LargeBinary) and column.type.length is not None
        if fixed_length or not _looks_sealed(value):  # a keyed hash, or bytes in the clear
            self.check_text(_decode(value), place, location)
            return
        opened = self.opener.open_column(where, value, row_id, org_id, bound_to)
        if opened is None:
            reason = "organisation key destroyed" if self.opener.key_destroyed(org_id) else "no key opens it"
            self.report.unopened.append(f"{location} ({reason})")
            self.check_text(_decode(value), place, location)
            return
        self.check_text(_unescape_json(_decode(opened)), place, f"{location} (decrypted)")

    async def chat_index(self, session: AsyncSession) -> None:
        """Hashes each needle's words with each organisation's search key: a message whose index
        holds every one of them still holds the needle."""
        from zhengtong.im.content import token_hashes
        from zhengtong.im.models import MessageSearchToken

        for org_id, cipher in self.opener.org_ciphers.items():
            if cipher is None:
                continue
            for needle in self.needles:
                hashes = set(token_hashes(cipher, needle.words))
                if not hashes:
                    continue
                self.report.looked_at["search_index"] += 1
                matches = await session.scalars(
                    select(MessageSearchToken.message_id)
                    .where(MessageSearchToken.org_id == org_id, MessageSearchToken.token_hash.in_(hashes))
                    .group_by(MessageSearchToken.message_id)
                    .having(func.count(MessageSearchToken.token_hash.distinct()) == len(hashes))
                )
                for message_id in matches:
                    self.hit(needle, "search_index", f"im_message_tokens message {message_id}")

    # Files ----------------------------------------------------------------------------------
    async def files(self) -> None:
        storage = self.context.storage
        for key in list(storage.keys()):
            self.check_text(key, "file", f"storage key {key}")
            data = await storage.get(key)
            if _looks_sealed(data):
                opened = self.opener.open_file(key, data)
                if opened is not None:
                    data = opened
                else:
                    self.report.unopened.append(f"storage {key} (no key opens it)")
            for text in file_texts(data):
                self.check_text(text, "file", f"storage {key}")

    def logs(self, log_dirs: Iterable[Path]) -> None:
        for directory in log_dirs:
            if not directory.is_dir():
                continue
            for path in sorted(p for p in directory.rglob("*") if p.is_file()):
                name = path.relative_to(directory).as_posix()
                for number, line in enumerate(_log_lines(path), start=1):
                    self.check_text(line, "log", f"log {name}:{number}")

    async def cache(self) -> None:
        settings = self.context.settings
        if not settings.redis_url:
            return
        from redis.asyncio import Redis

        client = Redis.from_url(settings.redis_url)
        try:
            async for key in client.scan_iter(match=settings.redis_prefix + "*", count=500):
                name = _decode(key)
                self.check_text(name, "cache", f"redis key {name}")
                for value in await _redis_values(client, key):
                    self.check_hash(value, "cache", f"redis {name}")
                    self.check_text(_unescape_json(_decode(value)), "cache", f"redis {name}")
        finally:
            await client.aclose()


def _log_lines(path: Path) -> Iterator[str]:
    """A log file line by line (rotated logs may be gzipped), without reading it whole."""
    with path.open("rb") as probe:
        gzipped = probe.read(2) == b"\x1f\x8b"
    opener = gzip.open if gzipped else open
    with opener(path, "rb") as handle:
        for raw in handle:
            yield _unescape_json(_decode(raw.rstrip(b"\r\n")))


async def _redis_values(client: Any, key: bytes) -> list[bytes]:
    kind = _decode(await client.type(key))
    if kind == "string":
        value = await client.get(key)
        return [value] if value is not None else []
    if kind == "hash":
        pairs = await client.hgetall(key)
        return [part for pair in pairs.items() for part in pair]
    if kind == "list":
        return list(await client.lrange(key, 0, -1))
    if kind == "set":
        return list(await client.smembers(key))
    if kind == "zset":
        return list(await client.zrange(key, 0, -1))
    if kind == "stream":
        entries = await client.xrange(key)
        return [part for _, fields in entries for pair in fields.items() for part in pair]
    return []


async def scan(context: AppContext, needles: Sequence[str], *, log_dirs: Sequence[Path] = ()) -> ScanReport:
    """Searches the database, the stored files, the search indexes, Redis and the log files for
    `needles` and reports every place that still holds one. `log_dirs` defaults to the configured
    log directory."""
    prepared = [prepare_needle(context.keyring, needle) for needle in needles]
    report = ScanReport(needles=[needle.text for needle in prepared])
    run = _Scan(context, prepared, report)
    async with context.db.transaction() as session:
        await run.columns(session)
        await run.chat_index(session)
    await run.files()
    await run.cache()
    run.logs(log_dirs or [context.settings.log_dir])
    report.hits.sort()
    return report
