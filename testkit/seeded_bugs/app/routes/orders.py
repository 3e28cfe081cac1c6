"""Orders: place, list, find by customer, cancel."""

from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Query
from sqlalchemy import select
from sqlalchemy.orm import Session

from app import clients
from app.db import get_session
from app.models import Customer, Order
from app.schemas import OrderIn, OrderOut
from app.security import SignedIn

router = APIRouter(prefix="/orders", tags=["orders"])
SessionDep = Annotated[Session, Depends(get_session)]


def _public(order: Order, customer_name: str) -> OrderOut:
    return OrderOut(
        id=order.id,
        customer_id=order.customer_id,
        customer_name=customer_name,
        total=order.total,
        status=order.status,
    )


@router.get("", response_model=list[OrderOut])
def list_orders(
    session: SessionDep,
    user: SignedIn,
    offset: Annotated[int, Query(ge=0)] = 0,
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
) -> list[OrderOut]:
    query = select(Order).order_by(Order.id).offset(offset).limit(limit)
    return [_public(order, order.customer.name) for order in session.scalars(query)]


@router.get("/by-customer/{customer_id}", response_model=list[OrderOut])
def orders_of_customer(
    customer_id: int,
    session: SessionDep,
    user: SignedIn,
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
) -> list[OrderOut]:
    customer = session.get(Customer, customer_id)
    if customer is None:
        raise HTTPException(404, f"no customer {customer_id}")
    query = select(Order).where(Order.customer_id == customer_id).limit(limit)
    return [_public(order, customer.name) for order in session.scalars(query)]


@router.post("", response_model=OrderOut, status_code=201)
def place_order(body: OrderIn, session: SessionDep, user: SignedIn) -> OrderOut:
    customer = session.get(Customer, body.customer_id)
    if customer is None:
        raise HTTPException(404, f"no customer {body.customer_id}")
    order = Order(customer_id=customer.id, total=body.total, status="new")
    session.add(order)
    session.flush()
    clients.charge(customer.id, body.total)
    order.status = "paid"
    session.commit()
    return _public(order, customer.name)


@router.delete("/{order_id}", status_code=204)
def delete_order(order_id: int, session: SessionDep) -> None:
    order = session.get(Order, order_id)
    if order is None:
        raise HTTPException(404, f"no order {order_id}")
    session.delete(order)
    session.commit()
