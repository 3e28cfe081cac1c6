"""The type a field's name means when nobody wrote one: 'hourly rate' is money,
'weight kg' a measure, 'bedrooms' a count, 'tasting notes' long text.

English puts the kind of a thing in the last word of its name (the head: rate, kg,
bedrooms, notes) and qualifies it with the words before (hourly, max payload,
tasting), so the head decides, and a money word anywhere in the name ('price paid',
'amount requested') makes it money. A name that says nothing stays short text, which
the plan card shows and a person can change.
"""

from __future__ import annotations

from workflows.spec import FieldType

MONEY = frozenset(
    "price prices amount total subtotal cost costs balance salary fee fees budget rent postage "
    "revenue wage wages payout deposit tip tips charge refund spend spent earnings income "
    "premium payment value".split()
)
# A rate is money when it is charged by time or as a price ('hourly rate'), else a ratio
# ('germination rate', 'error rate').
PRICED = frozenset(
    "hourly nightly daily weekly monthly yearly annual base flat day night tax".split()
)
# Units a measure is written in: 'weight kg', 'trunk diameter (cm)'.
UNITS = frozenset(
    "kg kgs g lb lbs oz km m cm mm mi miles ft c f celsius fahrenheit percent pct kwh kw w "
    "l ml liters litres hectares ha acres tonnes tons meters metres mhz ghz hz psi bar % "
    "mph kph knots".split()
)
# Units and quantities that are measured, not counted.
MEASURES = UNITS | frozenset(
    "abv weight height length width depth distance temperature temp humidity gravity ph "
    "magnitude salinity voltage current "
    "pressure speed latitude longitude lat lng lon altitude elevation volume area ratio "
    "percentage gpa bmi".split()
)
COUNTS = frozenset(
    "count quantity qty stock year years age capacity votes score scores rank seats paddlers "
    "pages minutes mins seconds secs hours days nights weeks months duration priority copies "
    "servings points goals bedrooms bathrooms floors floor docks slots bottles players "
    "attendees vintage runtime attempts visits views likes clicks downloads reps sets laps "
    "pieces items players members guests tickets nights stars "
    "innings period".split()
)
LONG_TEXT = frozenset(
    "description notes note body content bio summary comment comments message instructions "
    "abstract synopsis details payload statement transcript remarks feedback biography "
    "story recipe essay".split()
)
FLAGS = frozenset(
    "active done completed enabled archived published paid verified available visible "
    "featured approved confirmed blocked locked private vegetarian vegan explicit insured "
    "certified vaccinated resolved retired adopted refundable perishable controlled "
    "cancelled canceled closed open public".split()
)
# 'quantity on hand', 'number of seats'; a bare 'number' is an identifier ('invoice number')
COUNTED = frozenset("quantity qty number count num".split())
GROUPS = frozenset("group team party batch class household crew family squad".split())
DAY_WORDS = frozenset("birthday due date dob deadline expiry".split())


def type_meant(name: str) -> FieldType:
    """The type a bare snake_case field name suggests."""
    words = name.split("_")
    head = words[-1]
    if head == "email":
        return FieldType.email
    if head == "uuid":
        return FieldType.uuid
    if head == "at" or name in ("timestamp", "time") or head in ("time", "timestamp"):
        return FieldType.datetime
    if head in ("on", "date", "day") or words[0] == "date" or name in DAY_WORDS:
        return FieldType.date
    if words[0] in ("is", "has", "can", "in") and len(words) > 1 or name in FLAGS:
        return FieldType.bool
    if head == "rate":
        return FieldType.decimal if len(words) == 1 or words[-2] in PRICED else FieldType.float
    if set(words) & MONEY and head not in COUNTS | MEASURES:
        return FieldType.decimal
    if head in MEASURES or name in MEASURES:
        return FieldType.float
    if name == "level":
        return FieldType.int  # a floor's level; a 'skill level' is a word ('beginner')
    if head in COUNTS or name.endswith(("_count", "_number_int")) or _counted(words):
        return FieldType.int
    if words[0] in ("max", "min", "maximum", "minimum") and len(words) > 1 and head.endswith("s"):
        return FieldType.int  # 'max paddlers', 'min guests'
    if head == "size" and len(words) > 1 and words[-2] in GROUPS:
        return FieldType.int  # 'group size', not 'shirt size'
    if head in ("starting", "beginning", "ending", "commencing"):
        return FieldType.date  # 'week starting'

    if head in LONG_TEXT:
        return FieldType.text
    return FieldType.str


def _counted(words: list[str]) -> bool:
    return len(words) > 2 and words[0] in COUNTED and words[1] in ("of", "on", "in")
