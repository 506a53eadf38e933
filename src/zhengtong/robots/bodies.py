"""The message bodies a robot may post, as DingTalk's custom robot takes them: text, markdown,
link, actionCard and feedCard, with `at`. `checked` turns a body into the card that is stored
and shown, keeping only the fields each format defines, or refuses it naming the field.

Every link must be http(s). DingTalk's clients also take `dingtalk://dingtalkclient/page/link?
url=…` (open in the side bar or the browser), which robot libraries put around every link; it is
unwrapped to the address inside, in fields and in markdown alike."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs, urlsplit

MAX_TITLE = 200
MAX_TEXT = 20_000
MAX_URL = 2_000
MAX_BUTTONS = 10
MAX_LINKS = 10
MAX_AT = 100
_WRAPPED_LINK = re.compile(r"dingtalk://dingtalkclient/page/link\?[^\s)\"'<>]+")


class BodyInvalid(Exception):
    """The body is not one DingTalk's robot formats allow; `field` says where."""

    def __init__(self, field: str) -> None:
        super().__init__(field)
        self.field = field


@dataclass(frozen=True)
class AtList:
    """Whom the robot @mentions: by mobile number, by user id (a membership id), or everyone."""

    mobiles: list[str]
    user_ids: list[str]
    everyone: bool


def unwrap_link(url: str) -> str:
    """The address inside DingTalk's `dingtalk://dingtalkclient/page/link?url=…`; others unchanged."""
    if not url.startswith("dingtalk://dingtalkclient/page/link?"):
        return url
    return parse_qs(urlsplit(url).query).get("url", [""])[0]


def _text(part: dict[str, Any], name: str, where: str, *, limit: int, required: bool = True) -> str:
    value = part.get(name, "")
    if not isinstance(value, str) or len(value) > limit or (required and not value.strip()):
        raise BodyInvalid(f"{where}.{name}")
    return _WRAPPED_LINK.sub(lambda match: unwrap_link(match.group(0)), value)


def _url(part: dict[str, Any], name: str, where: str, *, required: bool = True) -> str:
    value = _text(part, name, where, limit=MAX_URL, required=required).strip()
    if value and urlsplit(value).scheme.lower() not in ("http", "https"):
        raise BodyInvalid(f"{where}.{name}")
    if required and not value:
        raise BodyInvalid(f"{where}.{name}")
    return value


def _part(body: dict[str, Any], name: str) -> dict[str, Any]:
    part = body.get(name)
    if not isinstance(part, dict):
        raise BodyInvalid(name)
    return part


def _items(part: dict[str, Any], name: str, where: str, limit: int) -> list[dict[str, Any]]:
    items = part.get(name)
    if (
        not isinstance(items, list)
        or not 1 <= len(items) <= limit
        or not all(isinstance(i, dict) for i in items)
    ):
        raise BodyInvalid(f"{where}.{name}")
    return items


def _card(msgtype: str, **fields: Any) -> dict[str, Any]:
    return {"msgtype": msgtype, **fields}


def _text_card(body: dict[str, Any]) -> dict[str, Any]:
    content = _text(_part(body, "text"), "content", "text", limit=MAX_TEXT)
    return _card("text", text=content, summary=content)


def _markdown_card(body: dict[str, Any]) -> dict[str, Any]:
    part = _part(body, "markdown")
    title = _text(part, "title", "markdown", limit=MAX_TITLE)
    return _card("markdown", title=title, text=_text(part, "text", "markdown", limit=MAX_TEXT), summary=title)


def _link_card(body: dict[str, Any]) -> dict[str, Any]:
    part = _part(body, "link")
    title = _text(part, "title", "link", limit=MAX_TITLE)
    return _card(
        "link",
        title=title,
        text=_text(part, "text", "link", limit=MAX_TEXT),
        url=_url(part, "messageUrl", "link"),
        pic_url=_url(part, "picUrl", "link", required=False),
        summary=title,
    )


def _action_card(body: dict[str, Any]) -> dict[str, Any]:
    part = _part(body, "actionCard")
    title = _text(part, "title", "actionCard", limit=MAX_TITLE)
    card = _card(
        "actionCard", title=title, text=_text(part, "text", "actionCard", limit=MAX_TEXT), summary=title
    )
    if "btns" in part:
        buttons = _items(part, "btns", "actionCard", MAX_BUTTONS)
        card["buttons"] = [
            {
                "title": _text(button, "title", "actionCard.btns", limit=MAX_TITLE),
                "url": _url(button, "actionURL", "actionCard.btns"),
            }
            for button in buttons
        ]
        # DingTalk's btnOrientation: "0" stacks the buttons, "1" puts them side by side.
        card["vertical_buttons"] = str(part.get("btnOrientation", "0")) != "1"
    else:
        card["single_title"] = _text(part, "singleTitle", "actionCard", limit=MAX_TITLE)
        card["url"] = _url(part, "singleURL", "actionCard")
    return card


def _feed_card(body: dict[str, Any]) -> dict[str, Any]:
    links = _items(_part(body, "feedCard"), "links", "feedCard", MAX_LINKS)
    checked = [
        {
            "title": _text(link, "title", "feedCard.links", limit=MAX_TITLE),
            "url": _url(link, "messageURL", "feedCard.links"),
            "pic_url": _url(link, "picURL", "feedCard.links", required=False),
        }
        for link in links
    ]
    return _card("feedCard", links=checked, summary=checked[0]["title"])


_FORMATS = {
    "text": _text_card,
    "markdown": _markdown_card,
    "link": _link_card,
    "actionCard": _action_card,
    "feedCard": _feed_card,
}


def checked(body: Any) -> dict[str, Any]:
    """The card of a robot's message body ({"msgtype", "title", "text", …, "summary"}), or
    BodyInvalid naming the field that is missing or wrong."""
    if not isinstance(body, dict):
        raise BodyInvalid("json")
    make = _FORMATS.get(str(body.get("msgtype", "")))
    if make is None:
        raise BodyInvalid("msgtype")
    return make(body)


def _strings(value: Any, where: str) -> list[str]:
    if value is None:
        return []
    if not isinstance(value, list) or len(value) > MAX_AT or not all(isinstance(v, str | int) for v in value):
        raise BodyInvalid(where)
    return [str(v).strip() for v in value if str(v).strip()]


def at_list(body: Any) -> AtList:
    """The body's `at` (atMobiles, atUserIds, isAtAll); nobody when it has none."""
    at = body.get("at") if isinstance(body, dict) else None
    if at is None:
        return AtList([], [], False)
    if not isinstance(at, dict):
        raise BodyInvalid("at")
    everyone = at.get("isAtAll", False)
    return AtList(
        mobiles=_strings(at.get("atMobiles"), "at.atMobiles"),
        user_ids=_strings(at.get("atUserIds"), "at.atUserIds"),
        everyone=everyone is True or str(everyone).lower() == "true",
    )


def plain_text(card: dict[str, Any]) -> str:
    """Everything the card says, for the keyword check: title, text, and its buttons' and links' titles."""
    titled = [*card.get("buttons", []), *card.get("links", [])]
    return "\n".join([card.get("title", ""), card.get("text", ""), *(item["title"] for item in titled)])
