"""Write the benchmark's SQLite file as SQLAlchemy's SQLite dialect stores it (text datetimes,
0/1 booleans, REAL numerics), and the same rows pre-converted as CSV for the COPY floor.
  python gen-sqlite.py DB_PATH CSV_DIR [ROWS]    (default 1,000,000 rows over three tables)"""

import csv
import os
import random
import sqlite3
import sys
from datetime import datetime, timedelta

db, csv_dir = sys.argv[1], sys.argv[2]
total = int(sys.argv[3]) if len(sys.argv) > 3 else 1_000_000
n_customers, n_orders = total // 5, total // 2
n_events = total - n_customers - n_orders
rnd = random.Random(42)
t0 = datetime(2022, 1, 1)

con = sqlite3.connect(db)
con.executescript(
    """
CREATE TABLE customers (id INTEGER NOT NULL, name VARCHAR(100) NOT NULL, email VARCHAR(200) NOT NULL, active BOOLEAN NOT NULL, created_at DATETIME NOT NULL, PRIMARY KEY (id));
CREATE TABLE orders (id INTEGER NOT NULL, customer_id INTEGER NOT NULL, total NUMERIC(12, 2) NOT NULL, paid BOOLEAN NOT NULL, placed_at DATETIME NOT NULL, note TEXT, PRIMARY KEY (id), FOREIGN KEY(customer_id) REFERENCES customers (id));
CREATE TABLE events (id INTEGER NOT NULL, order_id INTEGER NOT NULL, kind VARCHAR(20) NOT NULL, at DATETIME NOT NULL, amount NUMERIC(10, 2) NOT NULL, PRIMARY KEY (id), FOREIGN KEY(order_id) REFERENCES orders (id));
"""
)


def ts(i: int) -> str:
    return (t0 + timedelta(seconds=i * 37, microseconds=i % 1_000_000)).strftime("%Y-%m-%d %H:%M:%S.%f")


def customers():
    for i in range(1, n_customers + 1):
        yield (i, f"Customer {i} Ünïcode", f"c{i}@example.com", i % 3 != 0, ts(i))


def orders():
    for i in range(1, n_orders + 1):
        yield (i, rnd.randint(1, n_customers), round(rnd.uniform(1, 5000), 2), i % 2, ts(i), None if i % 4 else f"note {i}, with a comma")


def events():
    kinds = ["created", "paid", "shipped", "refunded"]
    for i in range(1, n_events + 1):
        yield (i, rnd.randint(1, n_orders), kinds[i % 4], ts(i), round(rnd.uniform(0, 999), 2))


os.makedirs(csv_dir, exist_ok=True)
for name, rows, bool_cols in (("customers", customers, [3]), ("orders", orders, [3]), ("events", events, [])):
    marks = ", ".join("?" * len(next(rows())))
    with open(os.path.join(csv_dir, f"{name}.csv"), "w", newline="") as f:
        w = csv.writer(f)
        batch = []
        for r in rows():
            batch.append(r)
            # The floor: already in PostgreSQL's text forms (t/f, +00 for timestamptz).
            out = ["t" if (j in bool_cols and v) else "f" if j in bool_cols else ("" if v is None else v) for j, v in enumerate(r)]
            if name != "events":
                out[4] = out[4] + "+00"
            w.writerow(out)
            if len(batch) == 50_000:
                con.executemany(f"INSERT INTO {name} VALUES ({marks})", batch)
                batch = []
        con.executemany(f"INSERT INTO {name} VALUES ({marks})", batch)
con.commit()
con.close()
print(f"{n_customers} customers, {n_orders} orders, {n_events} events")
