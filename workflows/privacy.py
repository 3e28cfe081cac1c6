"""Which fields hold data about a person, so a service knows what it must protect.

A field is `personal` when it identifies or reaches someone (a name, an email, a phone,
an address, a birth date, an IP address) and `sensitive` when its leak harms them (a
national id, a passport, a tax id, a card or bank account, health). A spec can say so
for a field ("ssn (sensitive)", or `sensitive` in the plan language) or say that it is
not ("not-personal"); otherwise its name decides. A bare `name`, `address` or `city` is
personal only on an entity that stands for people (a Customer's name, not a Product's).
This is what the plan card marks and the generated README's data inventory lists
(`EntitySpec.privacy_of`, `ServiceSpec.personal_data` in workflows/spec.py).
"""

from __future__ import annotations

import re
from enum import StrEnum


class Privacy(StrEnum):
    none = "none"
    personal = "personal"
    sensitive = "sensitive"


def _words(*names: str) -> re.Pattern:
    """A field name that ends in one of these words (`emergency_contact_phone`, not
    `phone_model`)."""
    return re.compile(rf"(?:^|_)(?:{'|'.join(names)})$")


SENSITIVE = _words(
    "ssn",
    "social_security(?:_number)?",
    "national_(?:id|insurance)(?:_number)?",
    "passport(?:_number|_no)?",
    "tax_id(?:entification)?(?:_number)?",
    "tax_number",
    "taxpayer_id",
    "driver_?s?_licen[cs]e(?:_number)?",
    "(?:credit_)?card_number",
    "credit_card",
    "cvv",
    "iban",
    "bank_account(?:_number)?",
    "account_number",
    "routing_number",
    "(?:health_)?insurance(?:_policy)?_(?:number|id)",
    "diagnos[ie]s",
    "medical_(?:history|records?|notes|conditions?)",
    "health_(?:records?|conditions?|data|notes|history)",
    "blood_type",
    "allerg(?:y|ies)",
    "medications?",
    "disabilit(?:y|ies)",
    "special_needs",
    "dietary_(?:restrictions|needs)",
    "hiv_status",
    "pregnan\\w*",
    "sexual_orientation",
    "ethnicity",
    "race",
    "religion",
    "biometrics?",
    "fingerprint(?:_\\w+)?",
    "face_(?:id|template)",
    "salary",
    "(?:annual_)?income",
    "credit_score",
    "performance_(?:rating|review)",
    "gpa",
    "password(?:_hash)?",
    "security_answer",
    "maiden_name",
)
PERSONAL = _words(
    "e_?mail(?:_address)?",
    "(?:phone|mobile|cell|telephone)(?:_number)?",
    "(?:first|last|full|given|family|middle|display|legal)_name",
    "surname",
    "date_of_birth",
    "birth_?date",
    "birthday",
    "dob",
    "(?:home|street|postal|mailing|billing|shipping|previous|current)_address",
    "street",
    "ip(?:_address)?",
    "login_ip",
    "gender",
    "nationality",
    "device_id",
    "card_last_?4",
    "licen[cs]e_number",
    "last_location",
    "home_(?:zip|city|postcode)",
)
# Personal only on an entity that stands for people: a Customer's name, not a Product's.
OF_A_PERSON = _words(
    "name", "address", "city", "zip(?:_code)?", "post_?code", "age", "photo", "bio", "location"
)
PEOPLE = {
    "Customer", "Client", "User", "Account", "Person", "People", "Member", "Employee",
    "Staff", "Patient", "Student", "Teacher", "Guest", "Contact", "Lead", "Subscriber",
    "Applicant", "Candidate", "Driver", "Owner", "Tenant", "Renter", "Landlord", "Volunteer",
    "Donor", "Attendee", "Passenger", "Visitor", "Author", "Buyer", "Seller", "Profile",
    "Traveler", "Traveller", "Speaker", "Doctor", "Nurse", "Parent", "Guardian", "Player",
    "Athlete", "Worker", "Agent", "Freelancer", "Contractor", "Resident", "Citizen",
    "Dependant", "Dependent", "Spouse", "Beneficiary", "Caregiver",
}  # fmt: skip
# Who a field's person is, on any entity: a shipment's recipient_name, a store's owner_phone.
PERSON_ROLE = re.compile(
    r"(?:^|_)(?:recipient|customer|contact|guest|patient|owner|manager|buyer|seller|driver|"
    r"tenant|landlord|parent|guardian|student|employee|member|user|author|spouse|passenger|"
    r"applicant|candidate|attendee|client|cardholder|beneficiary|next_of_kin)_"
    r"(?:first_|last_|full_)?(?:name|e_?mail|phone|mobile|address|dob|birth_?date)$"
)
# A mailbox or line of a role, not of a person: a company's support_email, a from_email.
ROLE_MAILBOX = re.compile(
    r"^(?:support|from|sender|reply_to|no_?reply|info|sales|help|system|admin|company|"
    r"business|store|shop|office|team|notification)_"
)
# Things, places and organisations: nothing on them is about a person unless it names one
# (a store's phone, a company's tax id, a server's IP, a pet's medical history).
NOT_PEOPLE = re.compile(
    r"(?:Store|Shop|Compan(?:y|ie)|Organi[sz]ation|Business|Branch|Office|Warehouse|Vendor|"
    r"Supplier|Server|Host|Device|Machine|Sensor|Newsletter|Campaign|Template|Setting|"
    r"NotificationSetting|Config(?:uration)?|Pet|Animal|Product|Item|Venue|Site|Restaurant|"
    r"Hotel|Clinic|Hospital|School|University|Bank|Agency|Team|Department)s?"
)


def _stands_for_people(entity: str) -> bool:
    """Customer, UserDevice, DriverShift: one of its words is a kind of person."""
    return any(part in PEOPLE for part in re.findall(r"[A-Z][a-z]*", entity))


def inferred(entity: str, field: str, kind: str = "str") -> Privacy:
    """What the field's name (and an email type) says on that entity."""
    if PERSON_ROLE.search(field):
        return Privacy.personal
    if NOT_PEOPLE.fullmatch(entity) or ROLE_MAILBOX.search(field):
        return Privacy.none
    if SENSITIVE.search(field):
        return Privacy.sensitive
    if kind == "email" or PERSONAL.search(field):
        return Privacy.personal
    if OF_A_PERSON.search(field) and _stands_for_people(entity):
        return Privacy.personal
    return Privacy.none
