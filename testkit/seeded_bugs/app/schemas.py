"""What the API takes and gives."""

from decimal import Decimal

from pydantic import BaseModel, Field


class CustomerIn(BaseModel):
    name: str = Field(min_length=1, max_length=200)
    email: str = Field(min_length=3, max_length=320)


class CustomerOut(CustomerIn):
    id: int


class OrderIn(BaseModel):
    customer_id: int
    total: Decimal = Field(gt=0)


class OrderOut(BaseModel):
    id: int
    customer_id: int
    customer_name: str
    total: Decimal
    status: str
