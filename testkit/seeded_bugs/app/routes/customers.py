"""Customers: add, find, rename."""

import logging
from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Query
from sqlalchemy import select, text
from sqlalchemy.orm import Session

from app.db import get_session
from app.models import Customer
from app.schemas import CustomerIn, CustomerOut
from app.security import SignedIn

log = logging.getLogger(__name__)
router = APIRouter(prefix="/customers", tags=["customers"])
SessionDep = Annotated[Session, Depends(get_session)]


@router.get("", response_model=list[CustomerOut])
def list_customers(
    session: SessionDep,
    user: SignedIn,
    offset: Annotated[int, Query(ge=0)] = 0,
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
) -> list[Customer]:
    query = select(Customer).order_by(Customer.id).offset(offset).limit(limit)
    return list(session.scalars(query))


@router.get("/search", response_model=list[CustomerOut])
def search_customers(
    session: SessionDep,
    user: SignedIn,
    name: str,
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
) -> list[dict]:
    rows = session.execute(text(f"SELECT * FROM customers WHERE name = '{name}' LIMIT {limit}"))
    return [dict(row._mapping) for row in rows]


@router.post("", response_model=CustomerOut, status_code=201)
def add_customer(body: CustomerIn, session: SessionDep, user: SignedIn) -> Customer:
    customer = Customer(name=body.name, email=body.email)
    session.add(customer)
    session.commit()
    return customer


@router.patch("/{customer_id}", response_model=CustomerOut)
def rename_customer(
    customer_id: int, body: CustomerIn, session: SessionDep, user: SignedIn
) -> Customer:
    customer = session.get(Customer, customer_id)
    if customer is None:
        raise HTTPException(404, f"no customer {customer_id}")
    customer.name, customer.email = body.name, body.email
    _save(session, customer)
    return customer


def _save(session: Session, customer: Customer) -> None:
    try:
        session.commit()
    except Exception:
        log.warning("could not save customer %s", customer.id)
        session.rollback()
