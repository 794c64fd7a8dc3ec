"""The rows of `task_visibility` (models.TaskVisibility): a task is seen at every department path
at or above its issuer and each department it was dispatched or forwarded into. Written when a
task is created and when it is dispatched, in the same transaction."""
from __future__ import annotations

import datetime as dt

from sqlalchemy import text

from lowcode import bulk
from lowcode.extensions import db
from lowcode.models import TaskVisibility


def prefixes(path: str) -> list[str]:
    """A materialised path and the paths above it: "/a/b/" → ["/a/", "/a/b/"]."""
    parts = [part for part in path.split("/") if part]
    return ["/" + "/".join(parts[:n]) + "/" for n in range(1, len(parts) + 1)]


def add(task_id: int, path: str, created_at: dt.datetime) -> None:
    """The task is seen at `path` (a department's) and above; rows it has already are kept."""
    table = TaskVisibility.__table__
    statement = bulk.conflict_insert(db.session.get_bind().dialect.name, table).on_conflict_do_nothing()
    db.session.execute(statement, [{"task_id": task_id, "path": prefix, "created_at": created_at}
                                   for prefix in prefixes(path)])


# Every prefix of each issuer's and receiver's path, in one statement (PostgreSQL).
REBUILD_SQL = """
INSERT INTO task_visibility (task_id, path, created_at)
SELECT DISTINCT seen.task_id, left(seen.path, slash.position), seen.created_at
FROM (SELECT id AS task_id, dept_path AS path, created_at FROM task
      UNION ALL
      SELECT dispatch.task_id, dispatch.dept_path, task.created_at
      FROM dispatch JOIN task ON task.id = dispatch.task_id) AS seen
CROSS JOIN LATERAL (SELECT n AS position FROM generate_series(2, length(seen.path)) AS n
                    WHERE substr(seen.path, n, 1) = '/') AS slash
"""


def rebuild(connection) -> None:
    """Every row anew from the tasks and dispatches, for data loaded in bulk (PostgreSQL)."""
    connection.execute(text("DELETE FROM task_visibility"))
    connection.execute(text(REBUILD_SQL))
