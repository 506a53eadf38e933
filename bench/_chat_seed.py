"""Shared helpers for the chat benchmarks: realistic Chinese chat text, bulk seeding of an
organisation, its members, their sessions, groups and (up to millions of) messages with their
search index, and running `zhengtong serve` as a separate process.

Everything is written the way the services would write it — message content sealed with the
organisation's key (`im.content.seal`), index words from `im.content.words` stored as the keyed
hashes `im.content.token_hashes` makes, session tokens stored as `identity.service.session_token_hash`
— but with multi-row statements (PostgreSQL: COPY) instead of one service call per row.
"""

from __future__ import annotations

import base64
import gc
import os
import random
import time
import unicodedata
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import sqlalchemy as sa

from zhengtong.core.caller import Caller
from zhengtong.core.context import AppContext
from zhengtong.core.crypto import FieldCipher
from zhengtong.core.ids import new_id
from zhengtong.directory.visibility import Viewer, viewer_for
from zhengtong.identity import service as identity
from zhengtong.identity.models import AuthSession, KnownDevice
from zhengtong.im import content as sealing
from zhengtong.im.models import (
    Conversation,
    ConversationKind,
    ConversationMember,
    MemberRank,
    MessageSearchToken,
)
from zhengtong.org import service as org_service
from zhengtong.org.models import MemberDepartment, Membership

CHUNK = 5000

# -- text

# Two-character words a search looks for, with the share of messages that carry each one.
TOPIC_WORDS: dict[str, float] = {
    "会议": 0.05,
    "通知": 0.04,
    "文件": 0.04,
    "审批": 0.03,
    "报告": 0.03,
    "政务": 0.02,
    "预算": 0.015,
    "云盘": 0.01,
}
# Everyday office chat; none of these contains a topic word.
_FILLER_TEXT = (
    "好的 收到 谢谢 辛苦了 没问题 马上 请 大家 各位 同事 领导 今天 明天 后天 上午 下午 晚上 周一 周三 周五 "
    "三点 十点半 之前 之后 一下 已经 还没 可以 需要 麻烦 尽快 完成 提交 处理 材料 系统 项目 进度 讨论 "
    "确认 时间 地点 办公室 部门 科室 方案 修改 意见 反馈 看看 发给我 核对 数据 表格 盖章 签字 流程 群里 "
    "注意 准时 参加 负责 联系 电话 汇总 上报 统计 情况 说明 附件 第二版 最新 版本 检查 落实 工作 重点 "
    "任务 推进 协调 督办 整改 培训 考勤 请假 出差 报销 发票 采购 合同 档案 归档 审核 批复 调研 座谈 "
    "宣传 稿子 公众号 党建 学习 简报 值班 安全 消防 演练 服务 窗口 群众 办事 事项 指南 表单 平台 上线 "
    "测试 账号 密码 权限 网络 打印机 会场 布置 名单 座位 议程 材料袋 车辆 接待 来访 信访 回复 答复 "
    "规定 制度 要求 标准 考核 评分 年度 季度 月度 总结 计划 目标 指标 完成率 经费 资金 拨付 支出 "
    "OA PDF Excel 3号楼 5楼 2024年 第一季度 12345热线"
)
FILLER = tuple(_FILLER_TEXT.split())
ENDINGS = ("", "", "。", "！", "？", "，谢谢。", "～")


class ChatText:
    """Short messages like those of a government office's group chats: a few everyday words, and
    each topic word with its share (`TOPIC_WORDS`)."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.topics = list(TOPIC_WORDS.items())

    def sentence(self) -> str:
        rng = self.rng
        parts = [rng.choice(FILLER) for _ in range(rng.randint(2, 7))]
        for word, share in self.topics:
            if rng.random() < share:
                parts.insert(rng.randint(0, len(parts)), word)
        separator = "，" if rng.random() < 0.3 else ""
        return separator.join(parts) + rng.choice(ENDINGS)


# -- people and sessions


@dataclass(frozen=True)
class Person:
    account_id: str
    membership_id: str
    name: str


@dataclass
class Org:
    id: str
    cipher: FieldCipher
    people: list[Person] = field(default_factory=list)


SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁"
GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华玉兰萍鹏辉建国红梅飞鑫波斌宇浩凯健俊帆帅旭宁龙林"


async def open_organization(
    context: AppContext, members: int, rng: random.Random, *, settings: dict[str, Any] | None = None
) -> Org:
    """An organisation with `members` active members seated in its root department (multi-row
    inserts of accounts, memberships and seats)."""
    async with context.db.transaction() as session:
        organization = await org_service.create_organization(session, context.keyring, name="压测单位")
        if settings:
            organization.settings = settings
        root = await org_service.root_department(session, organization.id)
        org = Org(organization.id, sealing.org_cipher(context, organization))
    for start in range(0, members, CHUNK):
        accounts, memberships, seats = [], [], []
        for number in range(start, min(start + CHUNK, members)):
            account = identity.new_account_row(context.keyring, f"+86139{number:08d}")
            person = Person(
                account["id"], new_id(), rng.choice(SURNAMES) + "".join(rng.sample(GIVEN, rng.choice((1, 2))))
            )
            accounts.append(account)
            memberships.append(
                {
                    "id": person.membership_id,
                    "org_id": org.id,
                    "account_id": person.account_id,
                    "name": person.name,
                    "role": "member",
                    "status": "active",
                    "custom_fields": {},
                }
            )
            seat = {"id": new_id(), "org_id": org.id, "membership_id": person.membership_id}
            seats.append({**seat, "department_id": root.id})
            org.people.append(person)
        async with context.db.transaction() as session:
            await identity.insert_account_rows(session, accounts)
            await session.execute(sa.insert(Membership), memberships)
            await session.execute(sa.insert(MemberDepartment), seats)
    return org


async def open_sessions(context: AppContext, org: Org, people: Sequence[Person]) -> list[str]:
    """A logged-in browser session for each person (second factor done, the organisation chosen),
    as `identity.service.start_session` leaves it; returns the session tokens in order. Written
    in bulk: 10,000 logins through the API would mostly measure SMS codes and the audit log."""
    tokens = []
    now = datetime.now(UTC)
    for start in range(0, len(people), CHUNK):
        rows = []
        for person in people[start : start + CHUNK]:
            token = "zt_" + base64.urlsafe_b64encode(os.urandom(32)).decode().rstrip("=")
            tokens.append(token)
            rows.append(
                {
                    "id": new_id(),
                    "account_id": person.account_id,
                    "token_hash": identity.session_token_hash(context.keyring, token),
                    "kind": "browser",
                    "device_label": "bench",
                    "ip_prefix": "127.0.0.0/24",
                    "last_seen_at": now,
                    "expires_at": now + timedelta(days=30),
                    "second_factor_done": True,
                    "current_org_id": org.id,
                }
            )
        devices = [
            {
                "id": new_id(),
                "account_id": row["account_id"],
                "device_index": context.keyring.blind_index("device", f"{row['account_id']}:bench"),
                "label": "bench",
                "last_seen_at": now,
            }
            for row in rows
        ]
        async with context.db.transaction() as session:
            await session.execute(sa.insert(AuthSession), rows)
            await session.execute(sa.insert(KnownDevice), devices)  # the browser, as a login remembers it
    return tokens


async def open_group(
    context: AppContext,
    org: Org,
    people: Sequence[Person],
    *,
    name: str = "压测群",
    read_seqs: Sequence[int] | None = None,
    last_seq: int = 0,
) -> str:
    """A group whose owner is `people[0]`, everyone seated from the first message on; each
    person's read watermark from `read_seqs` (default: nothing read)."""
    conversation_id = new_id()
    async with context.db.transaction() as session:
        await session.execute(
            sa.insert(Conversation),
            [
                {
                    "id": conversation_id,
                    "org_id": org.id,
                    "kind": ConversationKind.GROUP,
                    "name": name,
                    "owner_membership_id": people[0].membership_id,
                    "max_members": max(1000, len(people)),
                    "member_count": len(people),
                    "last_seq": last_seq,
                }
            ],
        )
    for start in range(0, len(people), CHUNK):
        rows = [
            {
                "id": new_id(),
                "org_id": org.id,
                "conversation_id": conversation_id,
                "membership_id": person.membership_id,
                "account_id": person.account_id,
                "rank": MemberRank.OWNER if index == 0 else MemberRank.MEMBER,
                "visible_after_seq": 0,
                "joined_seq": 0,
                "read_seq": read_seqs[index] if read_seqs is not None else 0,
            }
            for index, person in enumerate(people[start : start + CHUNK], start)
        ]
        async with context.db.transaction() as session:
            await session.execute(sa.insert(ConversationMember), rows)
    return conversation_id


# -- messages


MESSAGE_COLUMNS = (
    "id",
    "created_at",
    "org_id",
    "conversation_id",
    "seq",
    "sender_membership_id",
    "kind",
    "content_sealed",
    "mentions",
    "mention_all",
    "reply_to_id",
    "client_msg_id",
    "recalled_at",
    "recalled_by_membership_id",
    "pinned_at",
    "reactions",
)
TOKEN_COLUMNS = ("message_id", "token_hash", "org_id", "conversation_id", "seq")


@dataclass
class LoadStats:
    messages: int = 0
    tokens: int = 0
    seconds: float = 0.0
    index_seconds: float = 0.0


class MessageLoader:
    """Writes messages (and, with `index=True`, their search words) in bulk: rows are built as
    `im.messages._store` builds them, then written with executemany on SQLite and COPY on
    PostgreSQL, in chunks. The search index's secondary indexes are dropped for the load and
    built afterwards, as a bulk load would, and foreign keys are not checked row by row; `finish()`
    builds the index and sets each conversation's last_seq."""

    def __init__(self, context: AppContext, org: Org, *, index: bool) -> None:
        self.context = context
        self.org = org
        self.index = index
        self.stats = LoadStats()
        self._hashes: dict[str, bytes] = {}
        self._last_seq: dict[str, int] = {}
        self._sqlite = context.db.is_sqlite
        self._dropped = False

    def _hash(self, word: str) -> bytes:
        found = self._hashes.get(word)
        if found is None:
            found = self._hashes[word] = sealing.token_hashes(self.org.cipher, [word])[0]
        return found

    async def _drop_lookup_index(self) -> None:
        if self.index and not self._dropped:
            async with self.context.db.engine.begin() as connection:
                for index in MessageSearchToken.__table__.indexes:
                    await connection.run_sync(index.drop)
            self._dropped = True

    async def add(
        self,
        conversation_id: str,
        count: int,
        senders: Sequence[Person],
        make_text: Callable[[], str],
        *,
        first_at: datetime,
        spacing: timedelta,
        sender_of: Callable[[int], Person] | None = None,
        chunk: int = 20_000,
    ) -> None:
        """`count` messages appended to a conversation, sent by `senders` at random (or by
        `sender_of(seq)`), created `spacing` apart from `first_at` on."""
        await self._drop_lookup_index()
        started = time.perf_counter()
        rng = random.Random(count)
        seq = self._last_seq.get(conversation_id, 0)
        org_id = self.org.id
        for start in range(0, count, chunk):
            messages: list[tuple[Any, ...]] = []
            tokens: list[tuple[Any, ...]] = []
            for _ in range(min(chunk, count - start)):
                seq += 1
                created = first_at + spacing * (seq - 1)
                message_id = id_at(created)
                text = make_text()
                content = {"text": text}
                messages.append(
                    (
                        message_id,
                        created,
                        org_id,
                        conversation_id,
                        seq,
                        (sender_of(seq) if sender_of else rng.choice(senders)).membership_id,
                        "text",
                        sealing.seal(self.org.cipher, message_id, content),
                        "[]",
                        False,
                        None,
                        None,
                        None,
                        None,
                        None,
                        "{}",
                    )
                )
                if self.index:
                    words = sorted(sealing.words(sealing.searchable_text(content)))
                    words = words[: sealing.MAX_TOKENS_PER_MESSAGE]  # as token_hashes() cuts
                    tokens.extend((message_id, self._hash(w), org_id, conversation_id, seq) for w in words)
            await self._write("im_messages", MESSAGE_COLUMNS, messages)
            if tokens:
                await self._write("im_message_tokens", TOKEN_COLUMNS, tokens)
            self.stats.messages += len(messages)
            self.stats.tokens += len(tokens)
        self._last_seq[conversation_id] = seq
        self.stats.seconds += time.perf_counter() - started

    async def _write(self, table: str, columns: Sequence[str], rows: list[tuple[Any, ...]]) -> None:
        async with self.context.db.engine.connect() as connection:
            raw = (await connection.get_raw_connection()).driver_connection
            assert raw is not None
            # Foreign keys are not checked row by row during the load (the rows are consistent
            # by construction), as a bulk load would; the checks are back on afterwards.
            if self._sqlite:
                rows = [tuple(_sqlite_value(value) for value in row) for row in rows]
                placeholders = ", ".join("?" for _ in columns)
                statement = f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({placeholders})"
                await raw.execute("PRAGMA foreign_keys=OFF")
                await raw.executemany(statement, rows)
                await raw.commit()
                await raw.execute("PRAGMA foreign_keys=ON")
            else:
                await raw.execute("SET session_replication_role = replica")
                await raw.copy_records_to_table(table, records=rows, columns=list(columns))
                await raw.execute("RESET session_replication_role")

    async def finish(self) -> None:
        started = time.perf_counter()
        if self._dropped:
            async with self.context.db.engine.begin() as connection:
                for index in MessageSearchToken.__table__.indexes:
                    await connection.run_sync(index.create)
            self._dropped = False
        async with self.context.db.transaction() as session:
            for conversation_id, seq in self._last_seq.items():
                await session.execute(
                    sa.update(Conversation)
                    .where(Conversation.id == conversation_id)
                    .values(last_seq=seq, last_message_at=datetime.now(UTC))
                )
        # Statistics, and on PostgreSQL the visibility map index-only scans need: what autovacuum
        # does on its own shortly after a load of this size.
        statement = "ANALYZE" if self._sqlite else "VACUUM ANALYZE"
        async with self.context.db.engine.connect() as connection:
            autocommit = await connection.execution_options(isolation_level="AUTOCOMMIT")
            await autocommit.execute(sa.text(statement))
        self.stats.index_seconds += time.perf_counter() - started


_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"


def id_at(moment: datetime) -> str:
    """An id as `core.ids.new_id` would have made it at `moment` (ids sort by creation time)."""
    value = (int(moment.timestamp() * 1000) << 80) | int.from_bytes(os.urandom(10), "big")
    chars = []
    for _ in range(26):
        chars.append(_ALPHABET[value & 31])
        value >>= 5
    return "".join(reversed(chars))


def _sqlite_value(value: Any) -> Any:
    """What SQLAlchemy's SQLite dialect stores: UTC datetimes as text without the zone, booleans as 0/1."""
    if isinstance(value, datetime):
        return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")
    if isinstance(value, bool):
        return int(value)
    return value


async def set_policy(context: AppContext, org: Org, im_settings: dict[str, Any]) -> None:
    from zhengtong.org.models import Organization

    async with context.db.transaction() as session:
        organization = await session.get(Organization, org.id)
        assert organization is not None
        organization.settings = {**(organization.settings or {}), "im": im_settings}


# -- measuring


def percentile(sorted_values: Sequence[float], fraction: float) -> float:
    if not sorted_values:
        return float("nan")
    return sorted_values[min(len(sorted_values) - 1, int(fraction * len(sorted_values)))]


def new_master_key() -> str:
    return base64.b64encode(os.urandom(32)).decode()


# -- in process


def bench_context(data_dir: Path, database_url: str, master_key: str | None = None) -> AppContext:
    """The platform's context in this process (in-process event log), on the given database."""
    from zhengtong.core.config import Settings
    from zhengtong.core.context import build_context

    key = master_key or new_master_key()
    return build_context(Settings(data_dir=data_dir, database_url=database_url, master_key=key))


async def viewer_of(context: AppContext, org: Org, person: Person) -> Viewer:
    async with context.db.transaction() as session:
        return await viewer_for(session, Caller(person.account_id, "bench", org.id, "member", True, False))


@asynccontextmanager
async def api_client(context: AppContext, token: str) -> AsyncIterator[httpx.AsyncClient]:
    """The whole application (middleware, authentication, handlers, JSON) in this process, called
    through httpx without a network: what a request costs the server, minus the socket."""
    from zhengtong.app import create_app

    app = create_app(context.settings, context=context)
    app.state.context = context  # the lifespan, which would set these, does not run here
    app.state.ready = True
    transport = httpx.ASGITransport(app=app)
    headers = {"Authorization": f"Bearer {token}"}
    async with httpx.AsyncClient(transport=transport, base_url="http://bench", headers=headers) as client:
        yield client


async def time_calls(call: Callable[[], Awaitable[Any]], count: int, *, warmup: int = 10) -> list[float]:
    """Sorted milliseconds of `count` calls, after `warmup` untimed ones."""
    for _ in range(warmup):
        await call()
    timings = []
    for _ in range(count):
        started = time.perf_counter()
        await call()
        timings.append((time.perf_counter() - started) * 1000)
    return sorted(timings)


def pad(text: str, width: int) -> str:
    """`text` padded to `width` terminal columns (a Chinese character takes two)."""
    columns = sum(2 if unicodedata.east_asian_width(char) in "WF" else 1 for char in text)
    return text + " " * max(0, width - columns)


def timing_row(label: str, timings: Sequence[float], goal_ms: float | None = None) -> str:
    p95 = percentile(timings, 0.95)
    verdict = "" if goal_ms is None else ("  met" if p95 < goal_ms else "  MISSED")
    return (
        f"  {pad(label, 44)} p50 {percentile(timings, 0.5):7.2f} ms  p95 {p95:7.2f} ms  "
        f"max {timings[-1]:7.2f} ms{verdict}"
    )


def settle_garbage() -> None:
    """What seeding left behind is not the requests' garbage: collect it and freeze what is alive,
    so timings carry only the collections the calls themselves cause."""
    gc.collect()
    gc.freeze()
