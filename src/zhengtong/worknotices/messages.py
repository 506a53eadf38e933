"""The message formats of a work notice, as DingTalk's work notices take them: text, markdown,
link, action_card and oa. `checked` keeps what each format defines and refuses the rest, so the
web client only ever renders fields it knows; every link must be http(s) (no `javascript:`)."""

from __future__ import annotations

from typing import Any

import orjson

from zhengtong.core.errors import AppError
from zhengtong.worknotices import errors

MAX_TEXT = 5_000
MAX_SHORT = 200
MAX_BUTTONS = 5
MAX_FORM_ROWS = 20
MAX_MESSAGE_BYTES = 20_000


def _invalid(field: str) -> AppError:
    return AppError(errors.MESSAGE_INVALID, {"field": field})


def _text(
    body: dict[str, Any], name: str, field: str, *, limit: int = MAX_TEXT, required: bool = True
) -> str:
    value = body.get(name, "")
    if not isinstance(value, str) or len(value) > limit or (required and not value.strip()):
        raise _invalid(f"{field}.{name}")
    return value


def _url(body: dict[str, Any], name: str, field: str, *, required: bool = True) -> str:
    value = _text(body, name, field, limit=2_000, required=required)
    if value and not value.lower().startswith(("https://", "http://")):
        raise _invalid(f"{field}.{name}")
    return value


def _part(msg: dict[str, Any], name: str) -> dict[str, Any]:
    part = msg.get(name)
    if not isinstance(part, dict):
        raise _invalid(name)
    return part


def _action_card(card: dict[str, Any]) -> dict[str, Any]:
    checked: dict[str, Any] = {
        "title": _text(card, "title", "action_card", limit=MAX_SHORT),
        "markdown": _text(card, "markdown", "action_card"),
    }
    if "btn_json_list" in card:
        buttons = card["btn_json_list"]
        if not isinstance(buttons, list) or not 1 <= len(buttons) <= MAX_BUTTONS:
            raise _invalid("action_card.btn_json_list")
        checked["btn_orientation"] = "1" if str(card.get("btn_orientation", "0")) == "1" else "0"
        checked["btn_json_list"] = [_button(button) for button in buttons]
    else:
        checked["single_title"] = _text(card, "single_title", "action_card", limit=MAX_SHORT)
        checked["single_url"] = _url(card, "single_url", "action_card")
    return checked


def _button(button: Any) -> dict[str, str]:
    if not isinstance(button, dict):
        raise _invalid("action_card.btn_json_list")
    return {
        "title": _text(button, "title", "action_card.btn_json_list", limit=MAX_SHORT),
        "action_url": _url(button, "action_url", "action_card.btn_json_list"),
    }


def _oa(oa: dict[str, Any]) -> dict[str, Any]:
    head = oa.get("head", {})
    body = _part(oa, "body")
    if not isinstance(head, dict):
        raise _invalid("oa.head")
    form = body.get("form", [])
    if (
        not isinstance(form, list)
        or len(form) > MAX_FORM_ROWS
        or not all(isinstance(row, dict) for row in form)
    ):
        raise _invalid("oa.body.form")
    return {
        "message_url": _url(oa, "message_url", "oa", required=False),
        "head": {
            "bgcolor": _text(head, "bgcolor", "oa.head", limit=8, required=False),
            "text": _text(head, "text", "oa.head", limit=MAX_SHORT, required=False),
        },
        "body": {
            "title": _text(body, "title", "oa.body", limit=MAX_SHORT, required=False),
            "form": [
                {
                    "key": _text(row, "key", "oa.body.form", limit=MAX_SHORT, required=False),
                    "value": _text(row, "value", "oa.body.form", limit=MAX_SHORT, required=False),
                }
                for row in form
            ],
            "content": _text(body, "content", "oa.body", required=False),
            "author": _text(body, "author", "oa.body", limit=MAX_SHORT, required=False),
        },
    }


def checked(msg: Any) -> dict[str, Any]:
    """The message as stored and shown, or `worknotices.message_invalid` naming the field."""
    if isinstance(msg, str):  # the open API's form bodies carry the message as a JSON string
        try:
            msg = orjson.loads(msg)
        except orjson.JSONDecodeError as error:
            raise _invalid("msg") from error
    if not isinstance(msg, dict) or len(orjson.dumps(msg)) > MAX_MESSAGE_BYTES:
        raise _invalid("msg")
    kind = msg.get("msgtype")
    if kind == "text":
        return {"msgtype": kind, "text": {"content": _text(_part(msg, "text"), "content", "text")}}
    if kind == "markdown":
        part = _part(msg, "markdown")
        title = _text(part, "title", "markdown", limit=MAX_SHORT)
        return {"msgtype": kind, "markdown": {"title": title, "text": _text(part, "text", "markdown")}}
    if kind == "link":
        part = _part(msg, "link")
        return {
            "msgtype": kind,
            "link": {
                "title": _text(part, "title", "link", limit=MAX_SHORT),
                "text": _text(part, "text", "link"),
                "messageUrl": _url(part, "messageUrl", "link"),
                "picUrl": _url(part, "picUrl", "link", required=False),
            },
        }
    if kind == "action_card":
        return {"msgtype": kind, "action_card": _action_card(_part(msg, "action_card"))}
    if kind == "oa":
        return {"msgtype": kind, "oa": _oa(_part(msg, "oa"))}
    raise _invalid("msgtype")


def summary(msg: dict[str, Any]) -> str:
    """One line that says what the message is about (its title or first words), for lists."""
    kind = msg["msgtype"]
    part = msg[kind]
    if kind == "text":
        text = str(part["content"])
    elif kind == "oa":
        text = str(part["body"]["title"] or part["body"]["content"] or part["head"]["text"])
    else:
        text = str(part["title"])
    return text.strip().splitlines()[0][:80] if text.strip() else ""
