"""The orders-api application."""

from fastapi import FastAPI

from app.routes import customers, orders

app = FastAPI(title="orders-api")
app.include_router(customers.router)
app.include_router(orders.router)


@app.get("/health")
def health() -> dict[str, str]:
    return {"status": "ok"}
