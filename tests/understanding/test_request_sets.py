"""The scorer of the blind request sets says exact, partly right, wrong and silent as a
reader of the sets would: what a want leaves out is free, what it says must hold."""

from __future__ import annotations

from testkit.request_sets import load, score

NOTES = "notes api: notes have title"


def build(entities: dict, **more) -> dict:
    return {"intent": "build", "entities": entities, **more}


def test_each_kind_of_reading_is_counted_where_it_belongs():
    rows = [
        # exact: the want names only the entity and its one field
        (NOTES, build({"Note": {"title": "str"}})),
        # partly: the entity is right, a field's type is not what was meant
        (NOTES, build({"Note": {"title": "int"}})),
        # wrong: another entity was meant
        (NOTES, build({"Memo": {}})),
        # wrong: a question was meant; and Shipmate built without a word about it
        (NOTES, {"intent": "question", "about": "what"}),
        # 'production' is what prod is called
        (
            "notes api: notes have title, deploy to staging then production",
            build({"Note": {}}, environments=["staging", "production"]),
        ),
        ("review notes-api", {"intent": "review", "service": "notes-api"}),
    ]
    result = score(rows)
    assert len(result.exact) == 3
    assert [why for _, why in result.partly] == ["Note {'title': 'str'} (want {'title': 'int'})"]
    assert [why for _, why in result.wrong] == [
        "entities ['Note'] (want ['Memo'])",
        "intent build (want question)",
    ]
    assert result.silent == [NOTES] * 3


def test_the_sets_are_there_and_each_row_says_what_it_wants():
    rows = load()
    assert len(rows) >= 100
    assert all(want["intent"] for _, want in rows)
