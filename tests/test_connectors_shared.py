"""A row the subject's rows point at that is another person's too (APPI-35: an erasure changes only the
subject's own rows): the address one person's order ships to and another person lives at."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from mamoru.connectors.maps import parse_map
from mamoru.connectors.sql import SqlConnector
from mamoru.policy.load import LoadedPolicy

MAP = """schema: mamoru.dataset/1
name: shop
url_env: SHOP_URL
tables:
  - name: customer
    primary_key: id
    identities: {email: email}
    references:
      - {column: home_id, to: address.id, follow: parent}
    fields:
      - {name: id}
      - {name: email, categories: [contact], erase: mask}
      - {name: home_id}
  - name: orders
    primary_key: id
    references:
      - {column: customer_id, to: customer.id}
      - {column: ship_to, to: address.id, follow: parent}
    erase: delete
    fields:
      - {name: id}
      - {name: customer_id}
      - {name: ship_to}
  - name: address
    primary_key: id
    fields:
      - {name: id}
      - {name: line, categories: [contact], erase: mask}
"""


def _shop(path: Path) -> str:
    with sqlite3.connect(path) as conn:
        conn.executescript(
            """
            CREATE TABLE address (id INTEGER PRIMARY KEY, line TEXT);
            CREATE TABLE customer (id INTEGER PRIMARY KEY, email TEXT, home_id INTEGER REFERENCES address (id));
            CREATE TABLE orders (id INTEGER PRIMARY KEY, customer_id INTEGER REFERENCES customer (id),
                                 ship_to INTEGER REFERENCES address (id));
            INSERT INTO address VALUES (1, '東京都港区芝公園1-1'), (2, '大阪市北区梅田2-2');
            INSERT INTO customer VALUES (1, 'hanako@example.jp', 1), (2, 'taro@example.jp', 2);
            -- Hanako sends a gift to Taro: her order ships to his home
            INSERT INTO orders VALUES (10, 1, 1), (11, 1, 2), (12, 2, 2);
            """
        )
    return f"sqlite:///{path}"


def _rows(url: str) -> dict[str, list[tuple[object, ...]]]:
    with sqlite3.connect(url.removeprefix("sqlite:///")) as conn:
        return {
            t: conn.execute(f"SELECT * FROM {t} ORDER BY 1").fetchall()
            for t in ("address", "customer", "orders")
        }


def test_appi_35_an_erasure_leaves_the_address_another_person_lives_at(
    tmp_path: Path, reference: LoadedPolicy
) -> None:
    url = _shop(tmp_path / "shop.db")
    connector = SqlConnector(parse_map(MAP, "shop.yaml", reference.policy), url)
    try:
        result = connector.erase({"email": "hanako@example.jp"})
    finally:
        connector.dispose()
    after = _rows(url)
    assert after["address"][1] == (2, "大阪市北区梅田2-2")  # Taro's home, untouched
    assert after["address"][0][1] != "東京都港区芝公園1-1"  # Hanako's own home, masked
    assert after["customer"][1] == (2, "taro@example.jp", 2)
    assert after["orders"] == [(12, 2, 2)]  # her orders deleted, his kept
    assert result["shared_rows"] == {"address": 1}
    assert result["masked_rows"]["address"] == 1
