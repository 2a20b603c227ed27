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

import re
from typing import Any, Optional, Sequence, Union

from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from . import yamlio, yamlwrite

_MISSING = object()


class NotPatchable(Exception):
    """This change cannot be made as a small edit; rewrite the file."""


Path = Union[str, Sequence[Union[str, int]]]


def _get(data: Any, parts: Sequence[Union[str, int]]) -> Any:
    for part in parts:
        if isinstance(part, int):
            if not isinstance(data, list) or not 0 <= part < len(data):
                return _MISSING
        elif not isinstance(data, dict) or part not in data:
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


def _splice(text: str, node: ScalarNode, new: str) -> tuple[int, int, str]:
    """The edit putting ``new`` where ``node`` is. A comment on the value's
    line stays on that line: after the ``|`` of a value that becomes a block,
    after the value that stops being one."""
    start, end = node.start_mark.index, _scalar_end(text, node)
    line_end = text.find("\n", start)
    line_end = len(text) if line_end < 0 else line_end
    if node.style in ("|", ">"):  # the comment, if any, is on the `|` line
        rest = text[start:line_end].rstrip("\r")
        header = re.match(r"[|>][-+0-9]*", rest)
        comment = rest[header.end():] if header else ""  # type: ignore[union-attr]
        if comment.strip() and "\n" not in new:
            new += comment
        elif comment.strip():
            first, _, more = new.partition("\n")
            new = f"{first}{comment}\n{more}"
    elif "\n" in new and end <= line_end:  # a one-line value becomes a block
        comment = text[end:line_end].rstrip("\r")
        if comment.strip():
            first, _, more = new.partition("\n")
            new = f"{first}{comment}\n{more}"
            end = start + len(text[start:line_end].rstrip("\r"))
    return start, end, new


def _entry_end(text: str, node: Node) -> int:
    """Where the text of a value ends (its last scalar, or a flow collection's bracket)."""
    while not isinstance(node, ScalarNode):
        if node.flow_style or not node.value:
            return node.end_mark.index
        last = node.value[-1]
        node = last[1] if isinstance(node, MappingNode) else last
    return _scalar_end(text, node)


def _line_after(text: str, index: int) -> int:
    """The start of the line after the one ``index`` is on."""
    newline = text.find("\n", index)
    return len(text) if newline < 0 else newline + 1


def _line_start(text: str, index: int) -> int:
    return text.rfind("\n", 0, index) + 1


def patch(text: str, paths: Sequence[Path], full: dict, sparse: dict) -> str:
    """``text`` with the values at ``paths`` set to those in ``full`` (see the
    module doc); raise :class:`NotPatchable` for a shape it does not edit.
    A path is dotted (``personal.phone``) or a sequence of keys and list
    indices (``("targets", 3, "sales")``); an index one past a list's end
    appends the item."""
    try:
        root = yamlio.compose(text)
    except Exception as exc:  # noqa: BLE001 - the file was read before; anything odd → rewrite
        raise NotPatchable(str(exc)) from None
    if not isinstance(root, MappingNode) or root.flow_style:
        raise NotPatchable("not a block mapping")
    edits: dict[int, tuple[int, int, str]] = {}  # start → (start, end, new text)
    inserted: set[tuple[Union[str, int], ...]] = set()
    appends: list[tuple[tuple, SequenceNode]] = []
    for path in paths:
        parts = path.split(".") if isinstance(path, str) else list(path)
        node: Node = root
        for depth, part in enumerate(parts):
            if node.flow_style if isinstance(node, (MappingNode, SequenceNode)) else True:
                raise NotPatchable(f"{path}: not a block collection")
            prefix = tuple(parts[: depth + 1])
            if isinstance(part, int):
                if not isinstance(node, SequenceNode):
                    raise NotPatchable(f"{path}: not a list")
                if part < len(node.value):
                    key_node, value_node = None, node.value[part]
                else:  # a new item: written whole, after the list's last item, in index order
                    if prefix not in inserted:
                        inserted.add(prefix)
                        appends.append((prefix, node))
                    break
            else:
                if not isinstance(node, MappingNode):
                    raise NotPatchable(f"{path}: not a mapping")
                found = _child(node, part)
                if found is None:
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
            anchor = key_node if key_node is not None else value_node
            if value_node.start_mark.line != anchor.start_mark.line and value_node.style not in ("|", ">"):
                raise NotPatchable(f"{path}: value on the next line")
            column = anchor.start_mark.column if key_node is not None else max(0, anchor.start_mark.column - 2)
            start = value_node.start_mark.index
            if value_node.value == "" and not value_node.style and start == value_node.end_mark.index:
                if key_node is None:
                    raise NotPatchable(f"{path}: an empty list item")
                # `key:` with nothing after it: the empty scalar's mark may sit on the next line
                start = key_node.end_mark.index + 1  # after the colon
                edits[start] = (start, start, " " + _value_text(value, column))
            else:
                edits[start] = _splice(text, value_node, _value_text(value, column))
    for prefix, seq in sorted(appends, key=lambda item: item[0][-1]):
        _append(text, seq, list(prefix), sparse, edits)
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
        at = _line_after(text, _entry_end(text, before))
    new = _entry_text(parts[-1], value, column)
    if at == len(text) and text and not text.endswith("\n"):
        new = "\n" + new
    if at in edits:  # two new keys at one place: in field order
        s, e, old = edits[at]
        new = old + new
    edits[at] = (at, at, new)


def _append(text: str, seq: SequenceNode, parts: list, sparse: dict,
            edits: dict[int, tuple[int, int, str]]) -> None:
    """A new last item of a block list, laid out as the writer lays out lists."""
    value = _get(sparse, parts)
    if value is _MISSING or not seq.value:
        raise NotPatchable("an item that is not there")
    dash = seq.start_mark.column
    if text[seq.start_mark.index:seq.start_mark.index + 1] != "-":
        raise NotPatchable("a list not starting with a dash")  # pragma: no cover - defensive
    at = _line_after(text, _entry_end(text, seq))
    rendered = yamlwrite.dumps([value])
    new = "".join(" " * dash + line if line.strip() else line for line in rendered.splitlines(True))
    if at == len(text) and text and not text.endswith("\n"):
        new = "\n" + new
    if at in edits:
        new = edits[at][2] + new
    edits[at] = (at, at, new)
