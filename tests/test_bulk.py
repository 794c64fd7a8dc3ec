"""Bulk inserts: the ids returned are those of the rows, in the order given, on either database."""
from sqlalchemy import delete, func, select

from lowcode import bulk
from lowcode.models import PersonalIndex

TABLE = PersonalIndex.__table__


def _rows(tag: str, count: int) -> list[dict]:
    return [{"object_type": tag, "object_id": n, "field": f"f{n}", "kind": "mobile", "value_index": f"{tag}-{n}"}
            for n in range(count)]


def test_inserted_ids_name_the_rows_in_order_after_a_deleted_last_row(db_session):
    connection = db_session.connection()
    first = bulk.insert_rows(connection, TABLE, _rows("bulk-a", 3))
    connection.execute(delete(TABLE).where(TABLE.c.id == first[-1]))  # the table's last id is free again
    for tag, count in (("bulk-b", 5), ("bulk-c", bulk.COPY_FROM + 7)):  # an executemany, then a COPY on PostgreSQL
        ids = bulk.insert_rows(connection, TABLE, _rows(tag, count))
        assert len(set(ids)) == count and not set(ids) & set(first[:-1])
        found = dict(connection.execute(select(TABLE.c.id, TABLE.c.value_index).where(TABLE.c.id.in_(ids))).all())
        assert [found[i] for i in ids] == [f"{tag}-{n}" for n in range(count)]
    assert connection.scalar(select(func.count()).select_from(TABLE).where(TABLE.c.object_type.like("bulk-%"))) \
        == 2 + 5 + bulk.COPY_FROM + 7
    assert bulk.insert_rows(connection, TABLE, []) == []
