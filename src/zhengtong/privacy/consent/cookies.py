"""Every cookie the platform sets, and what else the web client keeps in the browser.

Policy part two, §2 promises to say which cookies and similar technologies (local storage) are
used and why. This list is what the cookie notice shows; a test fails when a response sets a
cookie that is not in it, and when a `set_cookie` call in the code names one that is not. Every
entry is necessary: the platform sets no optional cookie, so there is nothing to opt out of,
and none is set before it is needed (the session cookies at login).
"""

from __future__ import annotations

from dataclasses import dataclass

COOKIE = "cookie"
LOCAL_STORAGE = "local_storage"
SESSION_STORAGE = "session_storage"


@dataclass(frozen=True)
class StoredItem:
    name: str
    storage: str  # cookie, local_storage or session_storage
    necessary: bool
    lifetime_zh: str
    lifetime_en: str
    purpose_zh: str
    purpose_en: str


BROWSER_ITEMS: tuple[StoredItem, ...] = (
    StoredItem(
        "zt_session",
        COOKIE,
        True,
        "登录有效期内(默认 14 天)，退出登录即删除",
        "While you stay logged in (14 days by default); removed when you log out",
        "登录凭证：识别已登录的您。仅服务器可读(HttpOnly)。",
        "Login token: tells the server you are logged in. Only the server can read it (HttpOnly).",
    ),
    StoredItem(
        "zt_csrf",
        COOKIE,
        True,
        "与登录凭证相同",
        "Same as the login token",
        "防跨站请求伪造：页面把它随每个修改请求发回，证明请求来自本站页面。",
        (
            "Cross-site request forgery protection: the page sends it back with every change, "
            "proving the request comes from our own page."
        ),
    ),
    StoredItem(
        "zt_device",
        COOKIE,
        True,
        "2 年",
        "2 years",
        "账号安全：识别您用过的浏览器，在陌生设备登录时短信提醒您。只是随机编号，服务器仅保存其带密钥的摘要。",
        (
            "Account security: recognises browsers you have used, so a login from an unknown one "
            "sends you an SMS warning. A random number; the server keeps only a keyed hash of it."
        ),
    ),
    StoredItem(
        "zt_lang",
        LOCAL_STORAGE,
        True,
        "直到您清除浏览器数据",
        "Until you clear the browser's data",
        "记住您在本浏览器选择的界面语言。",
        "Remembers the interface language you chose in this browser.",
    ),
    StoredItem(
        "zt_second_factor_stage",
        SESSION_STORAGE,
        True,
        "关闭标签页即删除",
        "Removed when the tab closes",
        "登录进行到两步验证时，记住下一步，刷新页面后可以继续。",
        "Remembers the next login step while two-step verification is under way, so a reload can continue.",
    ),
    StoredItem(
        "zt_chat_notify_banner",
        LOCAL_STORAGE,
        True,
        "直到您清除浏览器数据",
        "Until you clear the browser's data",
        "记住您已关闭“开启桌面通知”的提示。",
        "Remembers that you closed the “turn on desktop notifications” hint.",
    ),
    StoredItem(
        "zt_cookie_notice",
        LOCAL_STORAGE,
        True,
        "直到您清除浏览器数据",
        "Until you clear the browser's data",
        "记住您已看过本 Cookie 说明，不再重复提示。",
        "Remembers that you have seen this cookie notice, so it is not shown again.",
    ),
)

COOKIE_NAMES = frozenset(item.name for item in BROWSER_ITEMS if item.storage == COOKIE)
