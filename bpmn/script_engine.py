"""Restricted Python for BPMN scripts, conditions, timer expressions and service parameters.

SpiffWorkflow's default engine is plain eval/exec, so a definition author could run
`__import__('os')`. Here every source is parsed and checked before it runs: no imports, no class
definitions, no pattern matching, no name or attribute starting with `_` (that closes the
`().__class__.__bases__[0].__subclasses__()` family), no introspection names, no `str.format`
(its format strings read attributes), no frame/generator/traceback attributes. Builtins are a
whitelist. The check is the security boundary; it does not bound CPU or memory (`10**10**10`),
so scripts stay the work of whoever may publish definitions.
"""
from __future__ import annotations

import ast
import builtins
import copy
from datetime import date, datetime, timedelta
from decimal import Decimal
from functools import lru_cache

from SpiffWorkflow.bpmn.exceptions import WorkflowTaskException
from SpiffWorkflow.bpmn.script_engine import BasePythonScriptEngineEnvironment, PythonScriptEngine
from SpiffWorkflow.exceptions import SpiffWorkflowException

from .services import ServiceRegistry

_SAFE_NAMES = (
    "len min max sum abs round sorted reversed any all int float str bool list dict set tuple "
    "range enumerate zip isinstance divmod Exception ValueError"
).split()
SAFE_BUILTINS: dict[str, object] = {
    **{name: getattr(builtins, name) for name in _SAFE_NAMES},
    "datetime": datetime, "date": date, "timedelta": timedelta, "Decimal": Decimal,
}

# Unreachable anyway (not in the builtins); named so that the author gets a clear refusal
# rather than a NameError.
FORBIDDEN_NAMES = frozenset(
    "exec eval compile open getattr setattr delattr hasattr globals locals vars dir type object "
    "super breakpoint input help memoryview classmethod staticmethod property".split()
)
# `format`/`format_map` resolve `{0.__class__}` inside a string, out of the checker's sight;
# the prefixes reach frames (gi_frame.f_back.f_builtins) and code objects.
FORBIDDEN_ATTRIBUTES = frozenset({"format", "format_map", "mro"})
FORBIDDEN_ATTRIBUTE_PREFIXES = ("gi_", "cr_", "ag_", "f_", "tb_", "co_")
FORBIDDEN_NODES = {
    ast.Import: "不允许 import",
    ast.ImportFrom: "不允许 import",
    ast.ClassDef: "不允许定义类",
    ast.AsyncFunctionDef: "不允许异步函数",
    ast.Await: "不允许 await",
    ast.Match: "不允许 match 语句",
}


class ScriptRejected(Exception):
    """A script or expression failed the safety check; names the source, the line and the reason."""

    def __init__(self, source: str, mode: str, reason: str, line: int | None):
        kind = "表达式" if mode == "eval" else "脚本"
        where = f"第 {line} 行：" if line else ""
        super().__init__(f"{kind}被拒绝（{where}{reason}）：{_excerpt(source)}")
        self.source = source
        self.reason = reason
        self.line = line


@lru_cache(maxsize=4096)
def compile_restricted(source: str, mode: str = "exec"):
    """Check `source` and compile it (`mode` "eval" for expressions); raises ScriptRejected."""
    tree = ast.parse(source, mode=mode)
    for node in ast.walk(tree):
        reason = _refusal(node)
        if reason:
            raise ScriptRejected(source, mode, reason, getattr(node, "lineno", None))
    # "<string>" is the file name SpiffWorkflow looks for when it reports a failing line.
    return compile(tree, "<string>", mode)


def _refusal(node: ast.AST) -> str | None:
    for node_type, reason in FORBIDDEN_NODES.items():
        if isinstance(node, node_type):
            return reason
    if isinstance(node, ast.Attribute):
        attr = node.attr
        if attr.startswith("_"):
            return f"不允许访问以下划线开头的属性 {attr}"
        if attr in FORBIDDEN_ATTRIBUTES or attr.startswith(FORBIDDEN_ATTRIBUTE_PREFIXES):
            return f"不允许访问属性 {attr}"
        return None
    for name in _bound_names(node):
        if name.startswith("_"):
            return f"不允许使用以下划线开头的名称 {name}"
        if name in FORBIDDEN_NAMES:
            return f"不允许使用 {name}"
    return None


def _bound_names(node: ast.AST) -> tuple[str, ...]:
    if isinstance(node, ast.Name):
        return (node.id,)
    if isinstance(node, ast.arg):
        return (node.arg,)
    if isinstance(node, (ast.FunctionDef, ast.ExceptHandler)) and node.name:
        return (node.name,)
    if isinstance(node, (ast.Global, ast.Nonlocal)):
        return tuple(node.names)
    return ()


def _excerpt(source: str, limit: int = 200) -> str:
    source = source.strip()
    return source if len(source) <= limit else source[:limit] + "…"


class RestrictedEnvironment(BasePythonScriptEngineEnvironment):
    """Runs checked code with whitelisted builtins; task data is the only global namespace."""

    def __init__(self, services: ServiceRegistry):
        super().__init__()
        self.services = services

    def evaluate(self, expression, context, external_context=None):
        code = compile_restricted(expression, "eval")
        return eval(code, {**(external_context or {}), **context, "__builtins__": SAFE_BUILTINS})

    def execute(self, script, context, external_context=None):
        code = compile_restricted(script, "exec")
        external = external_context or {}
        # Run on a copy so that a script failing half-way leaves the task data as it was: the
        # task can then be retried or skipped from a clean state.
        namespace = {**external, **copy.deepcopy(context), "__builtins__": SAFE_BUILTINS}
        exec(code, namespace)
        del namespace["__builtins__"]
        context.clear()
        # Functions a script defines cannot be saved with the instance, so they end with the script.
        context.update({k: v for k, v in namespace.items() if k not in external and not callable(v)})
        return True

    def call_service(self, context, operation_name, operation_params, **kwargs):
        arguments = {name: param["value"] for name, param in operation_params.items()}
        return self.services.call_json(operation_name, **arguments)


class RestrictedScriptEngine(PythonScriptEngine):
    def __init__(self, services: ServiceRegistry | None = None):
        super().__init__(environment=RestrictedEnvironment(services or ServiceRegistry()))

    @property
    def services(self) -> ServiceRegistry:
        return self.environment.services

    def call_service(self, task, **kwargs):
        # 3.2.0's version refers to an undefined `script` when the call fails, so every service
        # error became a NameError; a ServiceError (service name + original error) goes through.
        return self.environment.call_service(task.data, **kwargs)

    def create_task_exec_exception(self, task, script, err):
        # The base class builds its message with `"..." + err.args[0]`, which itself raises when
        # the first argument is not a string (KeyError(3)) and hides the real error.
        if isinstance(err, SpiffWorkflowException):
            return super().create_task_exec_exception(task, script, err)
        line_number, error_line = self.get_error_line_number_and_content(script, err)
        return WorkflowTaskException(f"{type(err).__name__}: {err}", task=task, exception=err,
                                     line_number=line_number, error_line=error_line)
