"""Service boundaries from a data model: tables that refer to each other more than to the
rest stay together, a child stays with the parent it is named after, a small model that
hangs together is one service, and a foreign key across two services is said as a
lookup and events."""

from __future__ import annotations

from activities.review.architecture import Graph, boundaries, crossings, notes


def model(*edges: tuple[str, str, str], alone: tuple[str, ...] = ()) -> Graph:
    names = {t for a, b, _ in edges for t in (a, b)} | set(alone)
    return Graph(nodes={t: t for t in sorted(names)}, edges=list(edges))


SHOP = model(
    ("orders", "customers", "customer_id"),
    ("order_lines", "orders", "order_id"),
    ("order_lines", "products", "product_id"),
    ("payments", "orders", "order_id"),
    ("stock_levels", "products", "product_id"),
    ("stock_levels", "warehouses", "warehouse_id"),
)


def test_a_shop_splits_into_ordering_and_stock():
    proposed = boundaries(SHOP)
    assert [(b.name, b.tables) for b in proposed] == [
        ("order-service", ["customers", "order_lines", "orders", "payments"]),
        ("product-service", ["products", "stock_levels", "warehouses"]),
    ]
    assert crossings(SHOP, proposed) == [
        "`order_lines.product_id` → `products`: order-service keeps the id only, reads "
        "`GET /products/{id}` from product-service, and listens to its `product.deleted` / "
        "`.updated` events"
    ]


def test_a_model_that_hangs_together_is_one_service():
    blog = model(("posts", "authors", "author_id"), ("comments", "posts", "post_id"))
    assert len(boundaries(blog)) == 1
    assert "one service is right" in notes({"tables": blog}, [])


def test_no_models_is_said_not_guessed():
    assert "No database models" in notes({}, [])
    assert boundaries(Graph()) == []
