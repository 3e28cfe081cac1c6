"""Misspelt words mended, rare real words kept, verbs never taken for things."""

from __future__ import annotations

import pytest

from testkit.request_table import shape
from understanding.spelling import can_be_noun, mended, noun_singular

MENDED = [
    ("custmer", "customer"),
    ("invoces", "invoices"),
    ("shipmnets", "shipments"),
    ("wiht", "with"),
    ("belnogs", "belongs"),
    ("uniqe", "unique"),
    ("recipies", "recipes"),
    ("emploee", "employee"),
]
KEPT = ["kanban", "gamertag", "setlist", "checkin", "desc", "iban", "sku", "mysql", "hinagys"]


@pytest.mark.parametrize(("typed", "meant"), MENDED)
def test_a_slip_of_one_letter_is_mended(typed, meant):
    assert mended(typed) == meant


@pytest.mark.parametrize("word", KEPT)
def test_rare_words_shorthand_and_names_stay_as_written(word):
    assert mended(word, keep=frozenset({"mysql"})) == word


def test_the_requests_own_spelling_wins_over_the_dictionarys():
    assert mended("ordr", frozenset({"order", "ordr"})) == "order"


def test_verbs_are_not_things_and_plurals_are_made_singular():
    assert [w for w in ["develop", "integrate", "archived", "order"] if can_be_noun(w)] == ["order"]
    assert [noun_singular(w) for w in ["recipes", "criteria", "species", "buses"]] == [
        "recipe",
        "criterion",
        "species",
        "bus",
    ]


def test_a_request_full_of_slips_reads_as_meant():
    assert shape(
        "pls make an api for invoces wiht custmers. each invoce belnogs to a custmer; "
        "invoces have number (uniqe) and total"
    ) == (
        "invoices-api postgresql none rest local staging | "
        "Invoice(number:str!, total:decimal, customer->Customer) Customer(name:str, email:email)"
    )
