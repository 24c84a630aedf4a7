"""Which rules of a UNIQUE decision table can match the same input.

Cells are read the way SpiffWorkflow's DMNEngine evaluates them: a cell holding `?` is an
expression of the input; a cell that parses as an expression on its own is compared with
`==`; anything else is appended to the input (`>= 12` means `input >= 12`). Only what can be
read exactly is analysed: constants, comparisons with numbers, `==`/`!=`/`is None`,
`in`/`not in` a literal tuple or list, and `and` of those. Any other cell overlaps only an
empty cell or a cell of identical text, so a reported overlap is one some input really hits
(columns are taken as independent inputs).
"""

from __future__ import annotations

import ast
import math
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

_INPUT = "dmninputexpr"
# The engine's own rule: `?` outside quotes stands for the input.
_QUESTION = re.compile(r"(\?)(?=(?:[^'\"]|['\"][^'\"]*['\"])*$)")
_INTEGER_TYPES = frozenset({"integer", "int", "long"})
_BOOLEAN_TYPES = frozenset({"boolean", "bool"})
_NO_VALUE = object()


@dataclass(frozen=True)
class Cell:
    """The inputs a cell accepts: one of `values` (if given), none of `excluded`, within the bounds."""

    values: tuple[Any, ...] | None = None
    excluded: tuple[Any, ...] = ()
    low: float = -math.inf
    low_open: bool = True
    high: float = math.inf
    high_open: bool = True
    numeric: bool = False

    def __and__(self, other: Cell) -> Cell:
        if self.values is None or other.values is None:
            values = self.values if other.values is None else other.values
        else:
            values = tuple(a for a in self.values if any(_equal(a, b) for b in other.values))
        low, low_open = self.low, self.low_open
        if other.low > low or (other.low == low and other.low_open):
            low, low_open = other.low, other.low_open
        high, high_open = self.high, self.high_open
        if other.high < high or (other.high == high and other.high_open):
            high, high_open = other.high, other.high_open
        return Cell(values, self.excluded + other.excluded, low, low_open, high, high_open,
                    self.numeric or other.numeric)

    def admits(self, value: Any) -> bool:
        if any(_equal(value, x) for x in self.excluded):
            return False
        if not self.numeric:
            return True
        if not isinstance(value, int | float):
            return False
        above = value > self.low or (value == self.low and not self.low_open)
        below = value < self.high or (value == self.high and not self.high_open)
        return above and below

    def is_empty(self, type_ref: str = "") -> bool:
        values = self.values
        if values is None and type_ref.lower() in _BOOLEAN_TYPES:
            values = (True, False)
        if values is not None:
            return not any(self.admits(v) for v in values)
        if not self.numeric:
            return False  # an unbounded domain minus finitely many values
        if type_ref.lower() in _INTEGER_TYPES:
            first, last = self._integer_bounds()
            if first > last:
                return True
            if math.isinf(first) or math.isinf(last) or last - first + 1 > len(self.excluded):
                return False
            return not any(self.admits(n) for n in range(int(first), int(last) + 1))
        if self.low < self.high:
            return False
        return not (self.low == self.high and self.admits(self.low))

    def _integer_bounds(self) -> tuple[float, float]:
        first, last = self.low, self.high
        if not math.isinf(first):
            first = first + 1 if self.low_open and float(first).is_integer() else math.ceil(first)
        if not math.isinf(last):
            last = last - 1 if self.high_open and float(last).is_integer() else math.floor(last)
        return first, last


@dataclass(frozen=True)
class Opaque:
    """A cell we do not analyse, kept by its text."""

    text: str


ANY = Cell()


def _equal(a: Any, b: Any) -> bool:
    try:
        return bool(a == b)
    except Exception:  # noqa: BLE001 - an odd __eq__ is simply "not equal"
        return False


def _literal(node: ast.AST) -> Any:
    try:
        return ast.literal_eval(node)
    except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
        return _NO_VALUE


def _is_input(node: ast.AST) -> bool:
    return isinstance(node, ast.Name) and node.id == _INPUT


_FLIPPED = {ast.Lt: ast.Gt, ast.LtE: ast.GtE, ast.Gt: ast.Lt, ast.GtE: ast.LtE, ast.Eq: ast.Eq, ast.NotEq: ast.NotEq}


def _constraint(op: ast.cmpop, value: Any) -> Cell | None:
    kind = type(op)
    if kind is ast.Eq:
        return Cell(values=(value,))
    if kind is ast.NotEq:
        return Cell(excluded=(value,))
    if kind is ast.Is and value is None:
        return Cell(values=(None,))
    if kind is ast.IsNot and value is None:
        return Cell(excluded=(None,))
    if kind in (ast.In, ast.NotIn) and isinstance(value, tuple | list | set | frozenset):
        return Cell(values=tuple(value)) if kind is ast.In else Cell(excluded=tuple(value))
    if kind in (ast.Lt, ast.LtE, ast.Gt, ast.GtE) and isinstance(value, int | float) and not isinstance(value, bool):
        if math.isnan(value):
            return None
        if kind in (ast.Lt, ast.LtE):
            return Cell(high=value, high_open=kind is ast.Lt, numeric=True)
        return Cell(low=value, low_open=kind is ast.Gt, numeric=True)
    return None


def _comparison(node: ast.Compare) -> Cell | None:
    operands = [node.left, *node.comparators]
    cell = ANY
    for left, op, right in zip(operands, node.ops, operands[1:], strict=False):
        if _is_input(left) and not _is_input(right):
            value, oper = _literal(right), op
        elif _is_input(right) and not _is_input(left) and type(op) in _FLIPPED:
            value, oper = _literal(left), _FLIPPED[type(op)]()
        else:
            return None
        part = None if value is _NO_VALUE else _constraint(oper, value)
        if part is None:
            return None
        cell = cell & part
    return cell


def _expression(node: ast.AST) -> Cell | None:
    if isinstance(node, ast.BoolOp) and isinstance(node.op, ast.And):
        cell = ANY
        for part in node.values:
            read = _expression(part)
            if read is None:
                return None
            cell = cell & read
        return cell
    if isinstance(node, ast.Compare):
        return _comparison(node)
    return None


def read_cell(text: str | None) -> Cell | Opaque:
    """What one input cell accepts, or Opaque when it cannot be read exactly."""
    source = (text or "").strip()
    if not source or source == "-":
        return ANY
    try:
        if "?" in source:
            expression = _QUESTION.sub(_INPUT, source)
            if "?" in expression:
                return Opaque(source)
            return _expression(ast.parse(expression, mode="eval").body) or Opaque(source)
        try:
            node = ast.parse(source, mode="eval").body
        except SyntaxError:
            return _expression(ast.parse(f"{_INPUT} {source}", mode="eval").body) or Opaque(source)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return Opaque(source)
    value = _literal(node)
    return Opaque(source) if value is _NO_VALUE else Cell(values=(value,))


def cells_overlap(a: Cell | Opaque, b: Cell | Opaque, type_ref: str = "") -> bool:
    """True only when some input certainly satisfies both cells."""
    if isinstance(a, Opaque) or isinstance(b, Opaque):
        other = b if isinstance(a, Opaque) else a
        return a == b or other == ANY
    return not (a & b).is_empty(type_ref)


def _cell_text(entry: Any) -> str | None:
    lhs = getattr(entry, "lhs", None) or [getattr(entry, "text", None)]
    return lhs[0]


def overlaps(table: Any) -> list[tuple[Any, list[Any]]]:
    """For each rule that can match together with earlier rules: (rule, those earlier rules)."""
    types: Sequence[str] = [getattr(i, "typeRef", "") or "" for i in table.inputs]
    rows: list[tuple[Any, list[Cell | Opaque]]] = [
        (rule, [read_cell(_cell_text(e)) for e in rule.inputEntries]) for rule in table.rules
    ]
    found: list[tuple[Any, list[Any]]] = []
    for j, (rule, cells) in enumerate(rows):
        earlier = [other for other, other_cells in rows[:j] if _rows_overlap(cells, other_cells, types)]
        if earlier:
            found.append((rule, earlier))
    return found


def _rows_overlap(a: Iterable[Cell | Opaque], b: Iterable[Cell | Opaque], types: Sequence[str]) -> bool:
    pairs = list(zip(a, b, strict=False))
    return all(cells_overlap(x, y, types[i] if i < len(types) else "") for i, (x, y) in enumerate(pairs))
