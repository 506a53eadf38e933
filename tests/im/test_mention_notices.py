"""@mentions under the bell: the people a message mentions by name get a notice that links to the
conversation and holds none of the message's text; nobody else does, and @所有人 fills no bell."""

from __future__ import annotations

from typing import Any

from chat_world import open_group, person

from zhengtong.core.context import AppContext


async def test_the_people_mentioned_find_it_under_their_bell(
    app: object, context: AppContext, make_client: Any
) -> None:
    zhang = await person(context, make_client, "张明")
    li = await person(context, make_client, "李华")
    wang = await person(context, make_client, "王芳")
    group = await open_group(zhang, li, wang, name="督查组")

    await zhang.send(group, "@李华 请把绝密材料发我", mentions=[li.id, zhang.id])

    [notice] = (await li.get("/notices")).json()["items"]
    assert notice["subject"]["zh-CN"] == "有人在「督查组」中@了你"
    assert notice["link"] == f"/chat/{group}" and notice["kind"] == "mention"
    assert "绝密" not in str(notice) and "张明" not in str(notice)  # sealed in chat, and outlives no one
    assert (await wang.get("/notices")).json()["items"] == []
    assert (await zhang.get("/notices")).json()["items"] == []  # mentioning oneself tells nobody


async def test_mentioning_everyone_fills_no_bell(app: object, context: AppContext, make_client: Any) -> None:
    zhang = await person(context, make_client, "张明")
    li = await person(context, make_client, "李华")
    group = await open_group(zhang, li, name="督查组")

    await zhang.send(group, "@所有人 下午开会", mention_all=True)

    assert (await li.get("/notices")).json()["items"] == []
