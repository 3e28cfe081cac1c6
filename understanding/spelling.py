"""English as people type it in Slack: misspelt words mended, nouns told from verbs,
plurals made singular.

Libraries, not word lists of our own:
- symspellpy (SymSpell with its 82,765-word English frequency dictionary) mends a word
  no dictionary knows to the most frequent word one edit away, in well under a
  millisecond: 'ordrs' → orders, 'wiht' → with, 'suplier' → supplier. A word the request
  itself also spells right wins over the dictionary's pick. One edit, not two: two
  turn names and abbreviations into other words ('hinagys' → hinges).
- wordfreq (word frequencies from many corpora, which know words the spelling
  dictionary does not: kanban, gamertag, setlist) keeps a rare real word as written;
  a word is mended only when what it would become is written far more often.
- lemminflect (lemmas with parts of speech from the Penn Treebank and Wikipedia) says
  whether a word can be a noun at all, so 'Develop', 'Integrate' or 'Reproduce' never
  become entities, and gives singulars ('species', 'criteria' → criterion).
Both load their data from the wheel, offline. The dictionary takes about 2 s to load
once per process, so it loads on first use.
"""

from __future__ import annotations

import importlib.resources
import re
from functools import cache

from lemminflect import getAllLemmas
from symspellpy import SymSpell, Verbosity
from wordfreq import zipf_frequency

# Short words that may be abbreviations ('desc', 'addr', 'iban') are mended only into
# these, the words that steer a request.
STRUCTURAL = frozenset(
    "with have from into each many they their them when then only also must that this "
    "what belongs field fields".split()
)


# How much more often (Zipf scale: 1 is ten times) the mended word must be written than
# the word as typed: 'wiht' 1.9 → 'with' 7.4; 'kanban' 2.0 stays (not 'kansan'), and so
# does 'shortener' 1.7 (not 'shortened' 3.3).
MUCH_MORE_COMMON = 2.0


@cache
def _dictionary() -> SymSpell:
    speller = SymSpell(max_dictionary_edit_distance=1, prefix_length=7)
    words = importlib.resources.files("symspellpy") / "frequency_dictionary_en_82_765.txt"
    speller.load_dictionary(str(words), term_index=0, count_index=1)
    return speller


def known(word: str) -> bool:
    return word in _dictionary().words or bool(getAllLemmas(word))


def mended(word: str, request_words: frozenset[str] = frozenset(), keep=frozenset()) -> str:
    """The word meant by a lowercase word no dictionary knows, or the word itself.

    `keep`: words that must stay as written (Shipmate's own vocabulary: 'mysql').
    """
    if len(word) < 4 or not word.isalpha() or word in keep or known(word):
        return word
    same = [w for w in request_words if w != word and _one_edit(word, w) and known(w)]
    if same:
        return same[0]
    found = _dictionary().lookup(word, Verbosity.CLOSEST, max_edit_distance=1)
    if not found:
        return word
    # a slip keeps the word's start: 'rehersals' is rehearsals, not the commoner reversals
    meant = max(found, key=lambda s: (s.term[:3] == word[:3], s.count)).term
    if meant.startswith(word) or word.startswith(meant):
        return word  # 'checkin' is not 'checking': an ending is a word, not a slip
    if len(word) == 4 and meant not in STRUCTURAL:
        return word  # 'desc', 'addr': more likely shorthand than a slip
    if zipf_frequency(meant, "en") - zipf_frequency(word, "en") < MUCH_MORE_COMMON:
        return word  # 'kanban', 'shortener': words of their own, only rarer
    return meant


def mend_text(text: str, keep: frozenset[str]) -> str:
    """Every misspelt word of a request mended, keeping its case where it was capitalised."""
    for shortest in (5, 4):  # long words first: 'ordrs' → orders tells what 'ordr' is
        words = frozenset(re.findall(r"[a-z]+", text.lower()))
        words |= {s for w in words if (s := noun_singular(w))}

        def one(match: re.Match, words=words) -> str:
            written = match.group()
            meant = mended(written.lower(), words, keep)
            if meant == written.lower():
                return written
            return meant.capitalize() if written[0].isupper() else meant

        # a value in 'flash|onsight|redpoint' is a word of its trade, kept as written
        text = re.sub(rf"(?<![\w/|-])[A-Za-z]{{{shortest},}}(?![\w/|-])", one, text)
    return text


def can_be_noun(word: str) -> bool:
    """False only for a word the lexicon knows and never as a noun: 'develop'."""
    lemmas = getAllLemmas(word)
    return not lemmas or "NOUN" in lemmas or "PROPN" in lemmas


def noun_singular(word: str) -> str | None:
    """The singular of a noun the lexicon knows ('recipes' → recipe), else None."""
    lemmas = getAllLemmas(word).get("NOUN")
    if lemmas:
        return lemmas[0]
    return None


def _one_edit(a: str, b: str) -> bool:
    if abs(len(a) - len(b)) > 1:
        return False
    if len(a) == len(b):
        diff = [i for i in range(len(a)) if a[i] != b[i]]
        swapped = len(diff) == 2 and diff[1] == diff[0] + 1 and a[diff[0]] == b[diff[1]]
        return len(diff) == 1 or swapped and a[diff[1]] == b[diff[0]]
    short, long_ = sorted((a, b), key=len)
    return any(long_[:i] + long_[i + 1 :] == short for i in range(len(long_)))
