"""Fill the import-types fixture's SQLite file the way the app writes it, plus the other shapes
SQLite files hold. Run with the project's interpreter in the project folder:
  python seed-import-types.py [--bulk N] [--bad]
--bulk adds N generated order lines (for the interrupt test); --bad puts 7 into a boolean."""

import asyncio
import sqlite3
import sys
import uuid
from datetime import UTC, date, datetime, time
from decimal import Decimal

sys.path.insert(0, ".")

import models  # noqa: E402
from database import AsyncSessionLocal, Base, engine  # noqa: E402


async def through_the_app() -> None:
    async with engine.begin() as conn:
        await conn.run_sync(Base.metadata.create_all)
    async with AsyncSessionLocal() as db:
        # The child comes first in id order: a self-reference copied in one COPY in any order.
        child = models.Category(id=1, name="Espresso machines", parent_id=2)
        root = models.Category(id=2, name="Küche & Café ☕")
        db.add_all([root])
        await db.flush()
        db.add(child)
        db.add(models.Category(id=3, name="Unsorted", parent_id=None))
        db.add_all([
            models.Product(
                id=1, sku=uuid.UUID("6f1c2a4e-8b3d-4c5e-9f60-1a2b3c4d5e6f"), name="Ristretto 3000 — “pro”", description="line one\nline two\ttab, comma \"quote\" \\ backslash",
                price=Decimal("1299.99"), weight_kg=7.25, in_stock=True, status=models.Status.active,
                attributes={"colour": "red", "watts": 1450, "ratio": 0.1, "nested": {"b": [1, 2], "a": None}},
                tags=["steel", "ünïcode", {"zz": 1, "a": 2.50}], thumbnail=bytes(range(256)),
                created_at=datetime(2024, 5, 1, 9, 30, 0, 123456, tzinfo=UTC), updated_at=datetime(2024, 5, 2, 18, 0, 5),
                release_date=date(2024, 4, 30), opens_at=time(8, 15, 30, 500000), category_id=1,
            ),
            models.Product(
                id=2, name="Filter papers", price=Decimal("0.10"), weight_kg=None, in_stock=False, status=models.Status.draft,
                attributes=None, tags=None, thumbnail=None, created_at=datetime(2023, 12, 31, 23, 59, 59, tzinfo=UTC),
                updated_at=None, release_date=None, opens_at=None, category_id=None,
            ),
        ])
        db.add_all([
            models.OrderLine(order_id=100, line_no=1, product_id=1, quantity=1, unit_price=Decimal("1299.9900")),
            models.OrderLine(order_id=100, line_no=2, product_id=2, quantity=3, unit_price=Decimal("0.1000")),
            models.OrderLine(order_id=101, line_no=1, product_id=2, quantity=10, unit_price=Decimal("0.0950")),
        ])
        await db.commit()
    await engine.dispose()


def other_shapes(bulk: int, bad: bool) -> None:
    con = sqlite3.connect("shop.db")
    # What other writers leave in SQLite files: ISO 'T' and offsets, a 16-byte UUID blob,
    # numerics as text, an extra column and a table the models do not map.
    con.execute(
        "INSERT INTO products (id, sku, name, price, weight_kg, in_stock, status, attributes, tags, created_at, updated_at, release_date, category_id)"
        " VALUES (3, ?, 'Beans 1kg', '12.345', 1, ?, 'retired', '{\"origin\": \"Sidamo\"}', '[]', '2024-03-01T12:30:00+02:00', '2024-03-01T12:30:00.5+00:00', '2024-03-01', 2)",
        (uuid.UUID("00112233-4455-6677-8899-aabbccddeeff").bytes, 7 if bad else 1),
    )
    con.execute("ALTER TABLE products ADD COLUMN legacy_code TEXT")
    con.execute("UPDATE products SET legacy_code = 'OLD-' || id")
    con.execute("CREATE TABLE legacy_stats (day TEXT, hits INTEGER)")
    con.execute("INSERT INTO legacy_stats VALUES ('2024-01-01', 5)")
    if bulk:
        con.executemany(
            "INSERT INTO order_lines (order_id, line_no, product_id, quantity, unit_price) VALUES (?, ?, ?, ?, ?)",
            ((1000 + i // 10, i % 10 + 1, 1 + i % 3, i % 7 + 1, f"{(i % 1000) / 100:.2f}") for i in range(bulk)),
        )
    con.commit()
    con.close()


if __name__ == "__main__":
    bulk = int(sys.argv[sys.argv.index("--bulk") + 1]) if "--bulk" in sys.argv else 0
    asyncio.run(through_the_app())
    other_shapes(bulk, "--bad" in sys.argv)
