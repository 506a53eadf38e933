"""Searching the address book: by name (from any character), full pinyin, pinyin initials, job
number and title; departments by name; the best match first."""

from __future__ import annotations

import pytest
from directory_world import DirectoryOrg, MakeOrg

API = "/api/v1/directory"


async def people(make_org: MakeOrg) -> DirectoryOrg:
    """测试单位 ─ 办公室 (张三, 张三丰, 李张三), 信息化处 (欧阳娜娜, 章杉), 网络安全科 in 信息化处."""
    org = await make_org()
    await org.department("办公室")
    await org.department("信息化处")
    await org.department("网络安全科", "信息化处")
    await org.member("张三", ["办公室"], job_number="A-1024", title="科长")
    await org.member("张三丰", ["办公室"], job_number="B-2048", title="科员")
    await org.member("李张三", ["办公室"], title="科员")
    await org.member("欧阳娜娜", ["信息化处"], job_number="X-0001", title="网络管理员")
    await org.member("章杉", ["网络安全科"], title="工程师")
    await org.member("查询人", ["办公室"])
    return org


async def search(org: DirectoryOrg, query: str) -> tuple[list[str], list[str]]:
    """(member names, department names) found for `query` by 查询人, an ordinary member."""
    viewer = await org.client("查询人")
    answer = await viewer.get(f"{API}/search", params={"q": query})
    assert answer.status_code == 200, answer.text
    body = answer.json()
    return [m["name"] for m in body["members"]], [d["name"] for d in body["departments"]]


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("张三", ["张三", "张三丰", "李张三"]),  # exact name first, then longer names, then inside a name
        ("三", ["张三", "张三丰", "李张三"]),  # a given-name character
        ("三丰", ["张三丰"]),
        ("zhangsan", ["张三", "张三丰", "李张三"]),  # full pinyin
        ("Zhang San", ["张三", "张三丰", "李张三"]),  # case and spaces do not matter
        ("zs", ["张三", "章杉", "张三丰"]),  # initials (and a prefix of zsf)
        ("zsf", ["张三丰"]),
        ("san", ["张三", "张三丰", "李张三"]),  # pinyin from a syllable inside
        ("ouyang", ["欧阳娜娜"]),
        ("oynn", ["欧阳娜娜"]),
        ("A-1024", ["张三"]),  # job number
        ("a-10", ["张三"]),
        ("x-0001", ["欧阳娜娜"]),
        ("网络管理", ["欧阳娜娜"]),  # title
        ("工程师", ["章杉"]),
        ("周", []),
    ],
)
async def test_search_members(query: str, expected: list[str], make_org: MakeOrg) -> None:
    org = await people(make_org)

    members, _departments = await search(org, query)

    assert members == expected


async def test_search_ranks_names_before_pinyin_before_titles(make_org: MakeOrg) -> None:
    # given 科员 is a title, and a name too
    org = await people(make_org)
    await org.member("科员甲", ["办公室"])

    members, _departments = await search(org, "科员")

    assert members == ["科员甲", "张三丰", "李张三"]


async def test_search_departments_by_name(make_org: MakeOrg) -> None:
    org = await people(make_org)

    _members, departments = await search(org, "信息")
    _none, inside = await search(org, "安全")

    assert departments == ["信息化处"]
    assert inside == ["网络安全科"]


async def test_search_finds_renamed_members_by_their_new_name_only(make_org: MakeOrg) -> None:
    org = await people(make_org)
    await org.update("章杉", name="章珊珊")

    assert (await search(org, "章珊珊"))[0] == ["章珊珊"]
    assert (await search(org, "杉"))[0] == []
    assert (await search(org, "zhangshanshan"))[0] == ["章珊珊"]


async def test_search_returns_at_most_thirty_members(make_org: MakeOrg) -> None:
    org = await make_org()
    await org.department("办公室")
    for number in range(35):
        await org.member(f"王{number:02d}", ["办公室"])
    await org.member("查询人", ["办公室"])

    members, _departments = await search(org, "王")

    assert members == [f"王{number:02d}" for number in range(30)]


async def test_search_query_must_not_be_empty(make_org: MakeOrg) -> None:
    org = await people(make_org)
    viewer = await org.client("查询人")

    empty = await viewer.get(f"{API}/search", params={"q": ""})
    blank = await viewer.get(f"{API}/search", params={"q": "   "})

    assert empty.status_code == 422
    assert blank.json() == {"members": [], "departments": []}


async def test_search_results_name_the_departments(make_org: MakeOrg) -> None:
    # given
    org = await people(make_org)
    viewer = await org.client("查询人")

    # when
    answer = await viewer.get(f"{API}/search", params={"q": "章杉"})

    # then the member is shown with where they sit
    [member] = answer.json()["members"]
    assert (member["name"], member["department_names"]) == ("章杉", ["网络安全科"])
