"""The restricted script environment and the service registry (bpmn/script_engine.py, bpmn/services.py)."""
from datetime import date
from decimal import Decimal

import pytest

from bpmn.script_engine import RestrictedEnvironment, RestrictedScriptEngine, ScriptRejected, compile_restricted
from bpmn.services import ServiceError, ServiceRegistry


@pytest.fixture
def env():
    return RestrictedEnvironment(ServiceRegistry())


ESCAPES = [
    "__import__('os')",
    "().__class__.__bases__[0].__subclasses__()",
    "''.__class__.__mro__[1].__subclasses__()",
    "open('/etc/passwd')",
    "getattr(x, '__class__')",
    "getattr",
    "eval('1')",
    "exec('y = 1')",
    "compile('1', 'f', 'eval')",
    "globals()",
    "locals()",
    "vars()",
    "type(x)",
    "object",
    "(lambda: 0).__globals__",
    "(lambda f: f.__code__)(len)",
    "(lambda: 0).__builtins__",
    "'{0.__class__}'.format(1)",
    "'{0.__class__.__init__.__globals__}'.format(x)",
    "str.format('{0.__class__}', 1)",
    "'{x.__class__}'.format_map({'x': 1})",
    "f'{x.__class__}'",
    "(y for y in [1]).gi_frame.f_back.f_globals",
    "[y for y in [1]].copy().__class__",
    "int.mro()",
    "__builtins__",
]

SCRIPT_ESCAPES = [
    "import os",
    "from os import system",
    "import os as o\nresult = o.getcwd()",
    "class A:\n    pass",
    "def f(__builtins__):\n    return 1",
    "try:\n    1 / 0\nexcept Exception as __e:\n    pass",
    "match x:\n    case int(real=r):\n        pass",
    "async def f():\n    pass",
    "g = (y for y in [1])\nframe = g.gi_frame",
    "global __builtins__",
]


@pytest.mark.parametrize("expression", ESCAPES)
def test_known_escapes_are_rejected_as_expressions(env, expression):
    with pytest.raises(ScriptRejected) as caught:
        env.evaluate(expression, {"x": 1})
    assert expression in str(caught.value) and caught.value.reason


@pytest.mark.parametrize("script", SCRIPT_ESCAPES)
def test_known_escapes_are_rejected_as_scripts(env, script):
    data = {"x": 1}
    with pytest.raises(ScriptRejected) as caught:
        env.execute(script, data)
    assert caught.value.line is not None and "脚本" in str(caught.value)
    assert data == {"x": 1}


def test_the_refusal_names_the_expression_and_the_reason(env):
    with pytest.raises(ScriptRejected) as caught:
        env.evaluate("x.__class__", {"x": 1})
    message = str(caught.value)
    assert "x.__class__" in message and "__class__" in caught.value.reason and "表达式" in message


def test_builtins_are_a_whitelist(env):
    for name in ["print", "input", "help", "memoryview", "setattr", "breakpoint", "dir"]:
        with pytest.raises((NameError, ScriptRejected)):
            env.evaluate(f"{name}('x')", {})
    # Task data cannot bring the real builtins back in.
    assert env.evaluate("len(x)", {"x": [1, 2], "__builtins__": __builtins__}) == 2


def test_ordinary_conditions_work(env):
    assert env.evaluate('review_result == "通过"', {"review_result": "通过"}) is True
    assert env.evaluate('review_result == "通过"', {"review_result": "不通过"}) is False
    assert env.evaluate("len(depts) > 1", {"depts": ["a", "b"]}) is True
    assert env.evaluate("any(d['people'] > 2 for d in depts)", {"depts": [{"people": 3}]}) is True
    assert env.evaluate("level in ('一级', '二级') and not urgent", {"level": "一级", "urgent": False})
    assert env.evaluate('"PT1S"', {}) == "PT1S"
    assert env.evaluate("(deadline - date(2026, 1, 1)).days", {"deadline": date(2026, 1, 31)}) == 30
    assert env.evaluate("amount * 2", {"amount": Decimal("1.10")}) == Decimal("2.20")


def test_scripts_update_the_task_data(env):
    data = {"depts": [{"name": "乙", "people": 2}, {"name": "甲", "people": 3}], "gone": 1}
    env.execute(
        "people = sum(d['people'] for d in depts)\n"
        "names = ', '.join(sorted(d['name'] for d in depts))\n"
        "label = f'{names}（{people} 人）'\n"
        "def helper(v):\n    return v * 2\n"
        "doubled = helper(people)\n"
        "del gone",
        data,
    )
    assert data["people"] == 5 and data["doubled"] == 10 and data["label"] == "乙, 甲（5 人）"
    assert "gone" not in data and "helper" not in data  # functions end with the script


def test_a_failing_script_leaves_the_task_data_as_it_was(env):
    data = {"items": [1], "n": 0}
    with pytest.raises(ZeroDivisionError):
        env.execute("items.append(2)\nn = 1\nboom = 1 / 0", data)
    assert data == {"items": [1], "n": 0}


def test_compiled_code_is_cached():
    assert compile_restricted("a + 1", "eval") is compile_restricted("a + 1", "eval")


def test_service_registry_calls_with_keyword_arguments():
    services = ServiceRegistry()
    services.register("add", lambda a, b, name: {"sum": a + b, "name": name})
    assert services.call("add", a=1, b=2, name="x") == {"sum": 3, "name": "x"}
    assert services.call_json("add", a=1, b=2, name="中") == '{"sum": 3, "name": "中"}'
    assert services.names() == ["add"]


def test_service_failures_are_service_errors_naming_the_service():
    services = ServiceRegistry()
    services.register("broken", lambda: 1 / 0)
    services.register("not_json", lambda: object())
    for name, original in [("broken", ZeroDivisionError), ("not_json", TypeError), ("missing", LookupError)]:
        with pytest.raises(ServiceError) as caught:
            services.call(name)
        assert caught.value.service == name and isinstance(caught.value.error, original)
        assert name in str(caught.value)


def test_the_engine_passes_service_errors_through_not_as_name_errors():
    services = ServiceRegistry()
    services.register("broken", lambda code: 1 / 0)
    engine = RestrictedScriptEngine(services)
    assert engine.services is services

    class Task:
        data = {}

    with pytest.raises(ServiceError) as caught:
        engine.call_service(Task(), operation_name="broken", operation_params={"code": {"value": "x", "type": "str"}})
    assert isinstance(caught.value.error, ZeroDivisionError)
