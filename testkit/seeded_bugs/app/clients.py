"""The payment partner's API."""

import os
from decimal import Decimal

import requests

PAYMENTS_URL = os.environ.get("PAYMENTS_URL", "https://payments.example.com/v1/charges")


def charge(customer_id: int, amount: Decimal) -> str:
    """Charge the customer's card on file; returns the partner's charge id."""
    answer = requests.post(PAYMENTS_URL, json={"customer": customer_id, "amount": str(amount)})
    answer.raise_for_status()
    return answer.json()["id"]
