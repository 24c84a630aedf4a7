"""The restricted script environment for scripts, conditions, DMN cells and timer expressions.

SpiffWorkflow runs diagram code with plain eval/exec. Here every expression and script is
compiled with RestrictedPython (no imports, no dunder attributes, no open/exec/eval) and
runs with a curated set of builtins and helpers only.

Code also runs within limits (``LIMITS``: seconds and megabytes per evaluation). The compiler
puts a tick at the head of every loop and function body, and every iteration goes through a
ticking iterator; a tick past the deadline, or with the process grown by more than the memory
allowance since the evaluation began, stops the code with ScriptLimitExceeded. What one C call
could do at once without a tick is bounded before it runs: ``**`` and ``<<`` on integers,
repeating a sequence, ``range``, and the str methods that pad, join or replace.
"""

from __future__ import annotations

import ast
import contextvars
import json
import math
import operator
import os
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from RestrictedPython import RestrictingNodeTransformer, compile_restricted_eval, compile_restricted_exec
from RestrictedPython.Eval import default_guarded_getitem
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


class ScriptLimitExceeded(ScriptRejected):
    """Code that ran past its time or memory allowance, or asked for a value too large to make."""


@dataclass(frozen=True)
class Limits:
    seconds: float = 3.0
    memory_mb: int = 256
    max_items: int = 10_000_000  # characters of a string, items of a sequence or range
    max_int_bits: int = 1_000_000


LIMITS = Limits()


def configure(seconds: float | None = None, memory_mb: int | None = None) -> Limits:
    """Set the per-evaluation allowance (the app does, from SCRIPT_TIME_LIMIT / SCRIPT_MEMORY_MB)."""
    global LIMITS
    LIMITS = Limits(seconds=LIMITS.seconds if seconds is None else float(seconds),
                    memory_mb=LIMITS.memory_mb if memory_mb is None else int(memory_mb),
                    max_items=LIMITS.max_items, max_int_bits=LIMITS.max_int_bits)
    return LIMITS


_PAGE = os.sysconf("SC_PAGE_SIZE") if hasattr(os, "sysconf") else 4096
_MEMORY_EVERY = 1024  # ticks between two looks at the process size


def _resident_bytes() -> int:
    try:
        with open("/proc/self/statm", "rb") as statm:
            return int(statm.read().split()[1]) * _PAGE
    except (OSError, ValueError, IndexError):
        return 0


class Budget:
    """The allowance of one evaluation: a deadline and a growth of the process it may not pass."""

    __slots__ = ("deadline", "ceiling", "ticks", "limits")

    def __init__(self, limits: Limits):
        self.limits = limits
        self.deadline = time.monotonic() + limits.seconds
        self.ceiling: int | None = None  # set at the first look: most evaluations never get there
        self.ticks = 0

    def tick(self) -> None:
        self.ticks += 1
        if time.monotonic() > self.deadline:
            raise ScriptLimitExceeded(f"脚本运行超过 {self.limits.seconds:g} 秒，已停止（请检查循环是否能结束）")
        if self.ticks % _MEMORY_EVERY == 0:
            size = _resident_bytes()
            if self.ceiling is None:
                self.ceiling = size + self.limits.memory_mb * 1024 * 1024 if size else 0
            elif self.ceiling and size > self.ceiling:
                raise ScriptLimitExceeded(f"脚本占用内存超过 {self.limits.memory_mb} MB，已停止")


_budget: contextvars.ContextVar[Budget | None] = contextvars.ContextVar("script_budget", default=None)


def _tick() -> None:
    budget = _budget.get()
    if budget is not None:
        budget.tick()


class _Running:
    """The budget of the outermost evaluation; nested ones (a helper evaluating) share it."""

    def __enter__(self) -> None:
        self.token = _budget.set(Budget(LIMITS)) if _budget.get() is None else None

    def __exit__(self, *exc: object) -> None:
        if self.token is not None:
            _budget.reset(self.token)


def _getiter(obj: Any) -> Iterator[Any]:
    iterator = iter(obj)
    if _budget.get() is None:
        return iterator
    return _ticking(iterator)


def _ticking(iterator: Iterator[Any]) -> Iterator[Any]:
    for item in iterator:
        _tick()
        yield item


def _too_large(what: str) -> ScriptLimitExceeded:
    return ScriptLimitExceeded(f"脚本要生成的{what}过大，已拒绝")


def _check_size(size: int, what: str = "值") -> None:
    if size > LIMITS.max_items:
        raise _too_large(what)


def _bits(value: int) -> int:
    return max(abs(value).bit_length(), 1)


def _pow(left: Any, right: Any) -> Any:
    if (isinstance(left, int) and isinstance(right, int) and right > 0 and abs(left) > 1
            and right * math.log2(abs(left)) > LIMITS.max_int_bits):
        raise _too_large("整数")
    return operator.pow(left, right)


def _lshift(left: Any, right: Any) -> Any:
    if isinstance(left, int) and isinstance(right, int) and left and _bits(left) + right > LIMITS.max_int_bits:
        raise _too_large("整数")
    return operator.lshift(left, right)


def _repeat_size(left: Any, right: Any) -> None:
    for seq, times in ((left, right), (right, left)):
        if isinstance(seq, str | list | tuple | bytes) and isinstance(times, int) and not isinstance(times, bool):
            _check_size(len(seq) * max(times, 0), "字符串或列表")


def _mul(left: Any, right: Any) -> Any:
    _repeat_size(left, right)
    return operator.mul(left, right)


_GUARDED_BINOPS = {ast.Pow: "_pow_", ast.LShift: "_lshift_", ast.Mult: "_mul_"}


class _LimitingTransformer(RestrictingNodeTransformer):
    """RestrictedPython's checks, then the limits: ticks in while-loop and function bodies (for-loops tick in their iterator), guarded
    ``**``, ``<<`` and ``*``. The injected names start with ``_``, which user code cannot write."""

    def _ticked(self, body: list[ast.stmt], at: ast.AST) -> list[ast.stmt]:
        call = ast.Expr(ast.Call(func=ast.Name("_tick_", ast.Load()), args=[], keywords=[]))
        ast.copy_location(call, at)
        ast.fix_missing_locations(call)
        return [call, *body]

    def visit_While(self, node: ast.While) -> Any:
        node = super().visit_While(node)
        node.body = self._ticked(node.body, node)
        return node

    def visit_FunctionDef(self, node: ast.FunctionDef) -> Any:
        node = super().visit_FunctionDef(node)
        node.body = self._ticked(node.body, node)
        return node

    def visit_BinOp(self, node: ast.BinOp) -> Any:
        node = super().visit_BinOp(node)
        guard = _GUARDED_BINOPS.get(type(node.op))
        if guard is None:
            return node
        call = ast.Call(func=ast.Name(guard, ast.Load()), args=[node.left, node.right], keywords=[])
        return ast.fix_missing_locations(ast.copy_location(call, node))


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
    if op == "*=":
        _repeat_size(x, y)
    elif op == "**=":
        return _pow(x, y)
    return _INPLACE[op](x, y)


def _range(*args: int) -> range:
    value = range(*args)
    _check_size(len(value), "范围（range）")
    return value


def _width_guard(method: Callable[..., Any]) -> Callable[..., Any]:
    def padded(width: Any, *rest: Any) -> Any:
        if isinstance(width, int):
            _check_size(width, "字符串")
        return method(width, *rest)
    return padded


def _join_guard(method: Callable[..., Any], sep: str) -> Callable[..., Any]:
    def joined(items: Iterable[Any]) -> Any:
        items = list(_getiter(items))
        _check_size(sum(len(i) for i in items if isinstance(i, str)) + len(sep) * len(items), "字符串")
        return method(items)
    return joined


def _replace_guard(method: Callable[..., Any], text: str) -> Callable[..., Any]:
    def replaced(old: Any, new: Any, *rest: Any) -> Any:
        if isinstance(old, str) and isinstance(new, str) and len(new) > len(old):
            count = text.count(old) if old else len(text) + 1
            _check_size(len(text) + count * (len(new) - len(old)), "字符串")
        return method(old, new, *rest)
    return replaced


_WIDTH_METHODS = frozenset({"ljust", "rjust", "center", "zfill", "expandtabs"})


def _getattr(obj: Any, name: str, *default: Any) -> Any:
    value = safer_getattr(obj, name, *default)
    if isinstance(obj, str):
        if name in _WIDTH_METHODS:
            return _width_guard(value)
        if name == "join":
            return _join_guard(value, obj)
        if name == "replace":
            return _replace_guard(value, obj)
    return value


def _builtins() -> dict[str, Any]:
    import builtins

    table = {name: getattr(builtins, name) for name in _SAFE_BUILTIN_NAMES + list(_SAFE_EXCEPTIONS)}
    table.update({"None": None, "True": True, "False": False, "range": _range})
    return table


BUILTINS = _builtins()

GUARDS: dict[str, Any] = {
    "__builtins__": BUILTINS,
    "_getattr_": _getattr,
    "_getitem_": default_guarded_getitem,
    "_getiter_": _getiter,
    "_tick_": _tick,
    "_pow_": _pow,
    "_lshift_": _lshift,
    "_mul_": _mul,
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
    code = _raise_errors(compile_restricted_eval(source.strip(), "<expression>", policy=_LimitingTransformer), source)
    _refuse_unsafe(source.strip(), "eval")
    return code


@lru_cache(maxsize=1024)
def compile_script(source: str):
    code = _raise_errors(compile_restricted_exec(source, "<script>", policy=_LimitingTransformer), source)
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
        with _Running():
            return eval(code, self._globals(context, external_context))  # noqa: S307 - restricted code

    def execute(self, script, context, external_context=None):
        code = compile_script(script)
        clash = set(self.globals) & set(context)
        if clash:
            raise ValueError(f"流程数据中的字段与内置函数同名：{sorted(clash)}")
        scope = self._globals(context, external_context)
        with _Running():
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
