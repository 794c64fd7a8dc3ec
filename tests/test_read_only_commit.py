"""A transaction that only read ends with COMMIT (its statements stay prepared on PostgreSQL); one
that wrote and is rolled back loses its writes, as before."""
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
