"""A transaction that only read ends with COMMIT (its statements stay prepared on PostgreSQL); one
that wrote and is rolled back loses its writes, as before, whatever wrote them."""
import pytest
from sqlalchemy import select, text

from lowcode.extensions import db
from lowcode.models import Department


def _prepared_on(connection) -> int:
    return connection.execute(text("SELECT count(*) FROM pg_prepared_statements")).scalar()


def test_reads_in_transactions_ended_by_the_session_stay_prepared(app):
    with app.app_context():
        if db.engine.dialect.name != "postgresql":
            pytest.skip("prepared statements are PostgreSQL's")
        for _ in range(8):   # psycopg prepares a statement at its fifth execution
            db.session.scalars(select(Department.id).where(Department.code == "310104000000")).all()
            db.session.close()   # the end of a request: SQLAlchemy rolls the transaction back
        assert _prepared_on(db.session.connection()) >= 1
        db.session.close()


def test_a_transaction_that_wrote_is_still_rolled_back(app):
    with app.app_context():
        db.session.execute(select(Department.id).limit(1)).all()
        db.session.execute(text("UPDATE department SET name = name || '（未提交）' WHERE code = '310104000000'"))
        db.session.execute(select(Department.id).limit(1)).all()
        db.session.close()
        name = db.session.scalar(select(Department.name).where(Department.code == "310104000000"))
        assert "未提交" not in name
        db.session.close()


def test_a_write_past_sqlalchemy_is_rolled_back_too(app):
    with app.app_context():
        if db.engine.dialect.name != "postgresql":
            pytest.skip("the driver's own cursor: PostgreSQL's")
        connection = db.session.connection()
        connection.execute(select(Department.id).limit(1)).all()
        with connection.connection.driver_connection.cursor() as cursor:   # as bulk.copy_rows writes
            cursor.execute("UPDATE department SET name = name || '（驱动写入）' WHERE code = '310104000000'")
        db.session.close()
        name = db.session.scalar(select(Department.name).where(Department.code == "310104000000"))
        assert "驱动写入" not in name
        db.session.close()
