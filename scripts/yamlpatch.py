"""Changing values in a file a person wrote, and nothing else.

``patch(text, paths, full, sparse)`` returns ``text`` with the value at each
dotted path (``personal.phone``) replaced by the one in ``full`` — spliced in
at the scalar's position (the node marks of :func:`yamlio.compose`), its text
rendered by :func:`yamlwrite.dumps` so quoting is what the writer would do.
Comments, blank lines, key order and the quoting of every other value stay
byte for byte. A key the file does not have is added as new lines under its
parent mapping (after the key that precedes it in the record's field order),
its value taken from ``sparse`` (the record without defaults); a path absent
there too is a default and needs no line.

Shapes it does not edit (a list or mapping replaced as a whole, flow
collections ``{a: 1}``, a scalar where a mapping should be) raise
:class:`NotPatchable`: the caller then rewrites the file whole and says that
its comments were not kept. The caller checks the patched text reads back as
the intended record before writing it.
"""

from __future__ import annotations

from typing import Any, Optional

from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from . import yamlio, yamlwrite

_MISSING = object()


class NotPatchable(Exception):
    """This change cannot be made as a small edit; rewrite the file."""


def _get(data: Any, parts: list[str]) -> Any:
    for part in parts:
        if not isinstance(data, dict) or part not in data:
            return _MISSING
        data = data[part]
    return data


def _child(node: MappingNode, key: str) -> Optional[tuple[ScalarNode, Node]]:
    for key_node, value_node in node.value:
        if isinstance(key_node, ScalarNode) and key_node.value == key:
            return key_node, value_node
    return None


def _value_text(value: Any, column: int) -> str:
    """The text after ``key: `` for a scalar, continuation lines indented
    under a key at ``column`` (no final newline)."""
    if isinstance(value, (dict, list)):
        raise NotPatchable("a collection value")
    text = yamlwrite.dumps({"x": value})
    if not text.startswith("x: ") or not text.endswith("\n"):
        raise NotPatchable("unexpected rendering")  # pragma: no cover - defensive
    lines = text[3:-1].split("\n")
    return "\n".join([lines[0], *(" " * column + line if line else line for line in lines[1:])])


def _entry_text(key: str, value: Any, column: int) -> str:
    """``key: value`` lines (any value) indented to ``column``, ending in a newline."""
    text = yamlwrite.dumps({key: value})
    return "".join(" " * column + line if line.strip() else line for line in text.splitlines(True))


def _scalar_end(text: str, node: ScalarNode) -> int:
    """Where a scalar's own text ends: a block scalar's span (``|``, ``>``)
    takes in the blank lines after it, which stay."""
    start, end = node.start_mark.index, node.end_mark.index
    if node.style in ("|", ">"):
        end = start + len(text[start:end].rstrip(" \r\n"))
    return end


def _last_scalar(node: Node) -> ScalarNode:
    while not isinstance(node, ScalarNode):
        if not node.value:
            raise NotPatchable("an empty collection")
        last = node.value[-1]
        node = last[1] if isinstance(node, MappingNode) else last
    return node


def _line_after(text: str, index: int) -> int:
    """The start of the line after the one ``index`` is on."""
    newline = text.find("\n", index)
    return len(text) if newline < 0 else newline + 1


def _line_start(text: str, index: int) -> int:
    return text.rfind("\n", 0, index) + 1


def patch(text: str, paths: list[str], full: dict, sparse: dict) -> str:
    """``text`` with the values at ``paths`` set to those in ``full`` (see the
    module doc); raise :class:`NotPatchable` for a shape it does not edit."""
    try:
        root = yamlio.compose(text)
    except Exception as exc:  # noqa: BLE001 - the file was read before; anything odd → rewrite
        raise NotPatchable(str(exc)) from None
    if not isinstance(root, MappingNode) or root.flow_style:
        raise NotPatchable("not a block mapping")
    edits: dict[int, tuple[int, int, str]] = {}  # start → (start, end, new text)
    inserted: set[tuple[str, ...]] = set()
    for path in paths:
        parts = path.split(".")
        node: Node = root
        for depth, part in enumerate(parts):
            if not isinstance(node, MappingNode) or node.flow_style:
                raise NotPatchable(f"{path}: not a block mapping")
            found = _child(node, part)
            if found is None:
                prefix = tuple(parts[: depth + 1])
                if prefix not in inserted:
                    inserted.add(prefix)
                    _insert(text, node, list(prefix), full, sparse, edits)
                break
            key_node, value_node = found
            if depth < len(parts) - 1:
                node = value_node
                continue
            value = _get(full, parts)
            if value is _MISSING or not isinstance(value_node, ScalarNode) or isinstance(value, (dict, list)):
                raise NotPatchable(f"{path}: not a scalar")
            if value_node.start_mark.line != key_node.start_mark.line and value_node.style not in ("|", ">"):
                raise NotPatchable(f"{path}: value on the next line")
            start = value_node.start_mark.index
            if value_node.value == "" and value_node.style is None and start == value_node.end_mark.index:
                # `key:` with nothing after it: the empty scalar's mark may sit on the next line
                start = key_node.end_mark.index + 1  # after the colon
                new = " " + _value_text(value, key_node.start_mark.column)
            else:
                new = _value_text(value, key_node.start_mark.column)
            edits[start] = (start, _scalar_end(text, value_node) if start == value_node.start_mark.index else start, new)
    out = text
    crlf = "\r\n" in text
    for start in sorted(edits, reverse=True):
        s, e, new = edits[start]
        if crlf:
            new = new.replace("\n", "\r\n")
        out = out[:s] + new + out[e:]
    return out


def _insert(text: str, parent: MappingNode, parts: list[str], full: dict, sparse: dict,
            edits: dict[int, tuple[int, int, str]]) -> None:
    value = _get(sparse, parts)
    if value is _MISSING:
        return  # the new value is the default: the file says it by leaving the key out
    if not parent.value:
        raise NotPatchable("an empty mapping")
    column = parent.value[0][0].start_mark.column
    order = list(_get(full, parts[:-1]) or ())
    position = order.index(parts[-1]) if parts[-1] in order else len(order)
    before = None
    for key_node, value_node in parent.value:
        if key_node.value in order[:position]:
            before = value_node
    if before is None:  # first in field order: above the mapping's first key
        at = _line_start(text, parent.value[0][0].start_mark.index)
    else:
        last = _last_scalar(before)
        at = _line_after(text, _scalar_end(text, last))
    new = _entry_text(parts[-1], value, column)
    if at == len(text) and text and not text.endswith("\n"):
        new = "\n" + new
    if at in edits:  # two new keys at one place: in field order
        s, e, old = edits[at]
        new = old + new
    edits[at] = (at, at, new)
