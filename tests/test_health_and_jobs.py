"""/health and the Celery path (in-process by default, a real worker on Redis in services mode)."""
from tests.conftest import services_mode


def test_health_reports_database_and_redis(client):
    response = client.get("/health")
    body = response.get_json()
    assert response.status_code == 200
    assert body["database"] == "ok"
    assert body["redis"] == ("ok" if services_mode() else "not configured")


def test_a_job_round_trip_reaches_the_database(app, celery_worker):
    celery = app.extensions["celery"]
    result = celery.send_task("lowcode.ping") if services_mode() else celery.tasks["lowcode.ping"].delay()
    assert result.get(timeout=60) == {"database": "ok"}


def test_openapi_document_lists_the_rest_api(api):
    document = api("admin").get("/api/v1/_openapi").get_json()
    assert document["openapi"].startswith("3.")
    assert {"/api/v1/department/", "/api/v1/officer/", "/api/v1/audit/"} <= set(document["paths"])
