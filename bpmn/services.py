"""Named services that BPMN service tasks call; connectors register themselves here.

A service task names its service in `<spiffworkflow:serviceTaskOperator id="...">`; each
`<spiffworkflow:parameter>` value is an expression evaluated against the task data, and the results
arrive as keyword arguments. A service returns JSON-compatible data: SpiffWorkflow stores the result
in the task data through a JSON round trip, and task data ends up in the instance's saved state.
"""
from __future__ import annotations

import json
from typing import Any, Callable

Service = Callable[..., Any]


class ServiceError(Exception):
    """A service task's call failed; `service` names it and `error` is the original exception."""

    def __init__(self, service: str, error: Exception):
        super().__init__(f"服务 {service} 调用失败：{type(error).__name__}: {error}")
        self.service = service
        self.error = error


class UnknownService(LookupError):
    def __init__(self, service: str):
        super().__init__(f"未注册的服务：{service}")
        self.service = service


class ServiceRegistry:
    def __init__(self, services: dict[str, Service] | None = None):
        self._services: dict[str, Service] = dict(services or {})

    def register(self, name: str, fn: Service) -> None:
        """Register `fn` under `name`, replacing any service registered there before."""
        self._services[name] = fn

    def lookup(self, name: str) -> Service:
        try:
            return self._services[name]
        except KeyError:
            raise UnknownService(name) from None

    def names(self) -> list[str]:
        return sorted(self._services)

    def call(self, service: str, /, **kwargs: Any) -> Any:
        """Call `service` with keyword arguments; returns its result as JSON would carry it."""
        return json.loads(self.call_json(service, **kwargs))

    def call_json(self, service: str, /, **kwargs: Any) -> str:
        """Call `service` and return its result as JSON text (what SpiffWorkflow's service task expects).

        Every failure, an unknown name or a result JSON cannot carry included, is a ServiceError.
        """
        try:
            return json.dumps(self.lookup(service)(**kwargs), ensure_ascii=False)
        except Exception as error:
            raise ServiceError(service, error) from error
