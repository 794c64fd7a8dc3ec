"""/health and the Celery path (in-process by default, a real worker on Redis in services mode)."""
import re

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


# Flask-AppBuilder's own endpoints (sign-in, menu, the document itself), not part of our API.
FRAMEWORK_API = re.compile(r"^/api/v1/(_openapi|openapi/|security/|menu/)")


def test_openapi_document_lists_every_rest_api_route(api, app):
    document = api("admin").get("/api/v1/_openapi").get_json()
    assert document["openapi"].startswith("3.")
    documented = {(path, method.upper()) for path, operations in document["paths"].items() for method in operations}
    routes = {(re.sub(r"<(?:[^:>]+:)?([^>]+)>", r"{\1}", rule.rule), method)
              for rule in app.url_map.iter_rules() if rule.rule.startswith("/api/v1/")
              and not FRAMEWORK_API.match(rule.rule)
              for method in rule.methods - {"HEAD", "OPTIONS"}}
    assert {("/api/v1/department/", "GET"), ("/api/v1/warnings/", "POST")} <= routes
    assert routes - documented == set()


def test_a_settled_server_process_freezes_what_it_loaded_and_collects_young_garbage_less_often():
    import gc

    from lowcode import process_tuning

    threshold = gc.get_threshold()
    try:
        process_tuning.settle()
        assert gc.get_freeze_count() > 0
        assert gc.get_threshold()[0] == process_tuning.YOUNG_THRESHOLD > threshold[0]
    finally:
        gc.unfreeze()
        gc.set_threshold(*threshold)
