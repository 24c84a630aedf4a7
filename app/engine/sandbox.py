"""The restricted script environment for scripts, conditions, DMN cells and timer expressions.

SpiffWorkflow runs diagram code with plain eval/exec. Here every expression and script is
compiled with RestrictedPython (no imports, no dunder attributes, no open/exec/eval) and
runs with a curated set of builtins and helpers only.
"""

from __future__ import annotations

import ast
import json
import operator
from collections.abc import Callable, Mapping
from functools import lru_cache
from typing import Any

from RestrictedPython import compile_restricted_eval, compile_restricted_exec
from RestrictedPython.Eval import default_guarded_getitem, default_guarded_getiter
from RestrictedPython.Guards import (
    full_write_guard,
    guarded_iter_unpack_sequence,
    guarded_unpack_sequence,
    safer_getattr,
)
from SpiffWorkflow.bpmn.exceptions import WorkflowTaskException
from SpiffWorkflow.bpmn.script_engine import PythonScriptEngine
from SpiffWorkflow.bpmn.script_engine.python_environment import BasePythonScriptEngineEnvironment


class ScriptRejected(Exception):
    """Code a diagram author wrote that the restricted compiler refuses."""


_SAFE_BUILTIN_NAMES = ["abs", "all", "any", "bool", "dict", "divmod", "enumerate", "filter", "float", "int", "isinstance", "len", "list", "map", "max", "min", "range", "reversed", "round", "set", "sorted", "str", "sum", "tuple", "zip"]
_SAFE_EXCEPTIONS = ("Exception", "ValueError", "KeyError", "TypeError", "IndexError", "ZeroDivisionError")

_INPLACE = {
    "+=": operator.iadd, "-=": operator.isub, "*=": operator.imul, "/=": operator.itruediv,
    "//=": operator.ifloordiv, "%=": operator.imod, "**=": operator.ipow,
    "|=": operator.ior, "&=": operator.iand,
}


def _inplacevar(op: str, x: Any, y: Any) -> Any:
    if op not in _INPLACE:
        raise ScriptRejected(f"不支持的运算符 {op}")
    return _INPLACE[op](x, y)


def _builtins() -> dict[str, Any]:
    import builtins

    table = {name: getattr(builtins, name) for name in _SAFE_BUILTIN_NAMES + list(_SAFE_EXCEPTIONS)}
    table.update({"None": None, "True": True, "False": False})
    return table


BUILTINS = _builtins()

GUARDS: dict[str, Any] = {
    "__builtins__": BUILTINS,
    "_getattr_": safer_getattr,
    "_getitem_": default_guarded_getitem,
    "_getiter_": default_guarded_getiter,
    "_iter_unpack_sequence_": guarded_iter_unpack_sequence,
    "_unpack_sequence_": guarded_unpack_sequence,
    "_write_": full_write_guard,
    "_inplacevar_": _inplacevar,
    "__name__": "script",
    "__metaclass__": type,
}


def _raise_errors(result: Any, source: str) -> Any:
    if result.errors:
        raise ScriptRejected("；".join(result.errors))
    return result.code


# RestrictedPython compiles these and they only fail when run (the names are not in the
# builtins, str.format is refused by the attribute guard). Refuse them at compile time too,
# so that model validation reports the element instead of a case failing later.
_FORBIDDEN_CALLS = frozenset({
    "open", "getattr", "setattr", "delattr", "hasattr", "globals", "locals", "vars", "dir", "compile",
    "type", "object", "super", "input", "breakpoint", "help", "memoryview", "exit", "quit",
})
_FORMAT_METHODS = frozenset({"format", "format_map"})


def _refuse_unsafe(source: str, mode: str) -> None:
    for node in ast.walk(ast.parse(source, mode=mode)):
        if isinstance(node, ast.Import | ast.ImportFrom):
            raise ScriptRejected(f"第 {node.lineno} 行：不允许 import")
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in _FORBIDDEN_CALLS:
            raise ScriptRejected(f"第 {node.lineno} 行：不允许调用 {node.func.id}()")
        if isinstance(node, ast.Attribute) and node.attr in _FORMAT_METHODS:
            raise ScriptRejected(f"第 {node.lineno} 行：不允许使用 str.{node.attr}()，请改用 f-string")


@lru_cache(maxsize=4096)
def compile_expression(source: str):
    code = _raise_errors(compile_restricted_eval(source.strip(), "<expression>"), source)
    _refuse_unsafe(source.strip(), "eval")
    return code


@lru_cache(maxsize=1024)
def compile_script(source: str):
    code = _raise_errors(compile_restricted_exec(source, "<script>"), source)
    _refuse_unsafe(source, "exec")
    return code


def _is_data(value: Any) -> bool:
    return not callable(value) and not isinstance(value, type)


class RestrictedEnvironment(BasePythonScriptEngineEnvironment):
    """Evaluates with task data plus curated helpers; services are dispatched to a callback."""

    def __init__(
        self,
        helpers: Mapping[str, Callable[..., Any]],
        service_handler: Callable[[str, dict[str, Any], dict[str, Any]], Any] | None = None,
    ):
        super().__init__(dict(helpers))
        self.service_handler = service_handler

    def _globals(self, context: Mapping[str, Any], external: Mapping[str, Any] | None) -> dict[str, Any]:
        scope = dict(GUARDS)
        scope.update(self.globals)
        if external:
            scope.update(external)
        scope.update(context)
        return scope

    def evaluate(self, expression, context, external_context=None):
        code = compile_expression(expression)
        return eval(code, self._globals(context, external_context))  # noqa: S307 - restricted code

    def execute(self, script, context, external_context=None):
        code = compile_script(script)
        clash = set(self.globals) & set(context)
        if clash:
            raise ValueError(f"流程数据中的字段与内置函数同名：{sorted(clash)}")
        scope = self._globals(context, external_context)
        exec(code, scope)  # noqa: S102 - restricted code
        reserved = set(GUARDS) | set(self.globals) | set(external_context or {})
        for key, value in scope.items():
            if key in reserved or key.startswith("_") or not _is_data(value):
                continue
            context[key] = value
        for key in [k for k in context if k not in scope]:
            del context[key]
        return True

    def call_service(self, context, operation_name=None, operation_params=None, **kwargs):
        if self.service_handler is None:
            raise ScriptRejected(f"服务 {operation_name} 不可用")
        params = {name: spec["value"] for name, spec in (operation_params or {}).items()}
        return json.dumps(self.service_handler(operation_name, params, context), ensure_ascii=False)


class RestrictedScriptEngine(PythonScriptEngine):
    """Validation uses the restricted compiler so that DMN `needs_eq` checks agree with it."""

    def call_service(self, task, **kwargs):
        # The library's own error path names an undefined variable, so every failure of a service
        # came out as "NameError: name 'script' is not defined"; keep the service's message instead.
        try:
            return self.environment.call_service(task.data, **kwargs)
        except Exception as err:  # noqa: BLE001 - a service may raise anything; the case shows why
            raise WorkflowTaskException(str(err), task=task, exception=err) from err

    def validate(self, expression):
        import ast

        ast.parse(expression.strip(), mode="eval")  # SyntaxError tells DMN cells apart
        compile_expression(expression)
