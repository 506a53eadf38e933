"""The cookie notice lists every cookie the platform sets: a workload through every way of
logging in and out must set no other, no `set_cookie` in the code may name another, and every
cookie is necessary (nothing optional is set by default)."""

from __future__ import annotations

import ast
from http.cookies import SimpleCookie
from pathlib import Path

import httpx
import pyotp
from consent_world import API, MakeClient, World

from helpers import csrf_headers, login, login_admin
from zhengtong.core.context import AppContext
from zhengtong.privacy.consent.cookies import BROWSER_ITEMS, COOKIE_NAMES

SOURCE = Path(__file__).resolve().parents[3] / "src" / "zhengtong"


class CookieJarWatch:
    """Collects the name of every cookie any response sets."""

    def __init__(self) -> None:
        self.names: set[str] = set()

    def watch(self, http: httpx.AsyncClient) -> httpx.AsyncClient:
        async def record(response: httpx.Response) -> None:
            for header in response.headers.get_list("set-cookie"):
                self.names.update(SimpleCookie(header).keys())

        http.event_hooks["response"].append(record)
        return http


async def test_the_cookie_list_is_public_and_says_what_each_is_for(make_client: MakeClient) -> None:
    answer = await make_client().get(f"{API}/privacy/cookies")

    assert answer.status_code == 200
    cookies = [item for item in answer.json() if item["storage"] == "cookie"]
    assert [item["name"] for item in cookies] == ["zt_session", "zt_csrf", "zt_device"]
    assert all(item["necessary"] and item["purpose_zh"] and item["purpose_en"] for item in answer.json())


async def test_every_cookie_a_response_sets_is_listed(
    context: AppContext, make_client: MakeClient, world: World
) -> None:
    # given
    jar = CookieJarWatch()
    await world.member("李科员")

    # when: SMS login, the app's own calls, a password, password login, QR login, the admin's
    # two-step login, logging out
    member = jar.watch(make_client())
    await login(member, context, world.mobiles["李科员"])
    for path in ("/me", "/me/sessions", "/directory/tree", "/privacy/policy/status", "/privacy/consents"):
        await member.get(f"{API}{path}")
    await member.put(
        f"{API}/me/password", json={"new_password": "zhengtong2026"}, headers=csrf_headers(member)
    )
    browser = jar.watch(make_client())
    await browser.post(
        f"{API}/auth/password/login", json={"mobile": world.mobiles["李科员"], "password": "zhengtong2026"}
    )
    qr_browser = jar.watch(make_client())
    qr = (await qr_browser.post(f"{API}/auth/qr")).json()
    await member.post(f"{API}/auth/qr/scan", json={"qr_text": qr["qr_text"]}, headers=csrf_headers(member))
    await member.post(
        f"{API}/auth/qr/confirm",
        json={"qr_text": qr["qr_text"], "approve": True},
        headers=csrf_headers(member),
    )
    polled = await qr_browser.get(f"{API}/auth/qr/{qr['id']}", params={"secret": qr["poll_secret"]})
    admin = jar.watch(make_client())
    secret = await login_admin(admin, context, world.admin_mobile)
    await admin.post(f"{API}/auth/logout", headers=csrf_headers(admin))
    again = jar.watch(make_client())
    await login(again, context, world.admin_mobile)
    await again.post(
        f"{API}/auth/totp/verify", json={"code": pyotp.TOTP(secret).now()}, headers=csrf_headers(again)
    )
    await member.post(f"{API}/auth/logout", headers=csrf_headers(member))
    await jar.watch(make_client()).get("/")

    # then
    assert polled.json() == {"status": "ok"}
    assert jar.names == {"zt_session", "zt_csrf", "zt_device"}
    assert jar.names <= COOKIE_NAMES


def _string_constants(tree: ast.Module) -> dict[str, str]:
    return {
        target.id: node.value.value
        for node in ast.walk(tree)
        if isinstance(node, ast.Assign)
        and isinstance(node.value, ast.Constant)
        and isinstance(node.value.value, str)
        for target in node.targets
        if isinstance(target, ast.Name)
    }


def test_every_set_cookie_in_the_code_names_a_listed_cookie() -> None:
    # Constants such as SESSION_COOKIE are defined in one module and used in another.
    trees = {path: ast.parse(path.read_text("utf-8")) for path in SOURCE.rglob("*.py")}
    constants: dict[str, str] = {}
    for tree in trees.values():
        constants.update(_string_constants(tree))
    named = []
    for path, tree in trees.items():
        for node in ast.walk(tree):
            if isinstance(node, ast.Call) and getattr(node.func, "attr", "") == "set_cookie":
                first = node.args[0] if node.args else next(k.value for k in node.keywords if k.arg == "key")
                name = (
                    first.value
                    if isinstance(first, ast.Constant)
                    else constants.get(getattr(first, "id", ""))
                )
                named.append((path.name, name))

    assert named, "no set_cookie call found: the scan is broken"
    assert [(path, name) for path, name in named if name not in COOKIE_NAMES] == []


def test_only_necessary_items_are_stored_in_the_browser() -> None:
    assert all(item.necessary for item in BROWSER_ITEMS)
    assert len({item.name for item in BROWSER_ITEMS}) == len(BROWSER_ITEMS)
