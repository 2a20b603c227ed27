"""Reading YAML records: fast, strict about YAML's traps, and able to say on
which line a value stands.

* libyaml (PyYAML's C loader) parses when present; the pure-Python loader
  otherwise.
* Scalars resolve by YAML 1.2 core rules, the same in every tool: no
  ``yes``/``no`` booleans, no sexagesimal ``12:30`` → 750, no timestamps (dates
  stay text and the models parse them, so ``2026-02-30`` is an error at its
  line, not a crash). Digit strings with a leading zero (``0832…``) arrive as
  :class:`UnquotedDigits`, so a text field can tell they were not quoted.
* Duplicate keys, anchors/aliases, tabs, a BOM and non-UTF-8 bytes get
  messages a customer manager understands.
* :func:`locate` maps a Pydantic error location to the line and column of the
  node it names (a position tree built only for files that have errors).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Sequence

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

try:  # libyaml: ~7x faster than the pure-Python parser
    from yaml import CSafeLoader as _BaseLoader

    LIBYAML = True
except ImportError:  # pragma: no cover - depends on the platform's wheel
    from yaml import SafeLoader as _BaseLoader  # type: ignore[assignment]

    LIBYAML = False


from crmdocs.schemas.common import UnquotedDigits  # noqa: E402 - a text field refuses it


class YamlProblem(Exception):
    """A file that is not readable YAML; line/column are 1-based."""

    def __init__(self, message: str, line: int = 0, column: int = 0, code: str = "yaml"):
        super().__init__(message)
        self.message = message
        self.line = line
        self.column = column
        self.code = code


class Loader(_BaseLoader):  # type: ignore[misc, valid-type]
    """SafeLoader with YAML 1.2 core scalars and duplicate-key detection."""

    yaml_implicit_resolvers: dict = {}

    def construct_mapping(self, node, deep=False):  # noqa: D401 - PyYAML API
        seen: dict[Any, Node] = {}
        for key_node, _ in node.value:
            if isinstance(key_node, ScalarNode):
                if key_node.value in seen:
                    first = seen[key_node.value].start_mark.line + 1
                    raise YamlProblem(
                        f"字段 {key_node.value!r} 写了两次（第一次在第 {first} 行），只能保留一个"
                        f" (duplicate key {key_node.value!r})",
                        key_node.start_mark.line + 1,
                        key_node.start_mark.column + 1,
                        "duplicate_key",
                    )
                seen[key_node.value] = key_node
        return super().construct_mapping(node, deep)

    def construct_core_int(self, node):
        text = self.construct_scalar(node)
        digits = text.lstrip("+-")
        if len(digits) > 1 and digits.startswith("0"):
            return UnquotedDigits(text)
        return int(text)

    def construct_core_float(self, node):
        text = self.construct_scalar(node).lower()
        if text.endswith(".inf"):
            return float("-inf") if text.startswith("-") else float("inf")
        if text.endswith(".nan"):
            return float("nan")
        return float(text)


Loader.add_implicit_resolver(
    "tag:yaml.org,2002:null", re.compile(r"^(?:~|null|Null|NULL|)$"), ["~", "n", "N", ""]
)
Loader.add_implicit_resolver(
    "tag:yaml.org,2002:bool", re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"), list("tTfF")
)
Loader.add_implicit_resolver(
    "tag:yaml.org,2002:int", re.compile(r"^[-+]?[0-9]+$"), list("-+0123456789")
)
Loader.add_implicit_resolver(
    "tag:yaml.org,2002:float",
    re.compile(
        r"^(?:[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?"
        r"|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))$"
    ),
    list("-+0123456789."),
)
Loader.add_constructor("tag:yaml.org,2002:int", Loader.construct_core_int)
Loader.add_constructor("tag:yaml.org,2002:float", Loader.construct_core_float)


def decode(data: bytes) -> str:
    """Bytes → text, refusing what is not UTF-8 (a BOM is allowed and dropped)."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        hint = ""
        if data.startswith((b"\xff\xfe", b"\xfe\xff")):  # Windows Notepad's "Unicode"
            raise YamlProblem("文件是 UTF-16 编码：请用 UTF-8 另存 (file is UTF-16, not UTF-8)", 1, 0, "encoding") from None
        try:
            data.decode("gbk")
            hint = "，看起来是 GBK 编码：请用 UTF-8 另存"
        except UnicodeDecodeError:
            pass
        raise YamlProblem(
            f"文件不是 UTF-8 编码{hint} (file is not UTF-8 text)", line, 0, "encoding"
        ) from None
    if "\x00" in text:
        line = text[: text.index("\x00")].count("\n") + 1
        raise YamlProblem("文件里有二进制内容，不是文本 (binary content)", line, 0, "encoding")
    return text


def _problem_from(exc: yaml.YAMLError, text: str = "") -> YamlProblem:
    if isinstance(exc, yaml.reader.ReaderError):  # a control character; no mark, a position
        code = exc.character if isinstance(exc.character, int) else ord(str(exc.character)[:1] or "?")
        before = text[: exc.position]
        line = before.count("\n") + 1
        column = exc.position - (before.rfind("\n") + 1) + 1
        return YamlProblem(
            f"文件里有看不见的控制字符 #x{code:04x}，请删除它 (control character #x{code:04x})",
            line, column, "yaml",
        )
    mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
    line = mark.line + 1 if mark else 0
    column = mark.column + 1 if mark else 0
    problem = getattr(exc, "problem", None) or str(exc)
    lines = text.splitlines()
    # libyaml says only "found character that cannot start any token": look at the line
    on_line = lines[line - 1] if 0 < line <= len(lines) else ""
    hint = ""
    slip = _slip_before(lines, line, problem)
    if slip is not None:
        line, column, hint = slip
    elif "\\t" in problem or re.search(r"\btab\b", problem.lower()) or (
        "\t" in on_line and "cannot start any token" in problem
    ):
        hint = "请用空格缩进，不要用 Tab 键；"
    elif "another document" in problem or "expected a single document" in problem:
        hint = "一个文件只写一条记录，不要用 --- 分隔多份内容；"
    elif "mapping values are not allowed" in problem and _deeper_than_sibling(lines, line):
        hint = "这一行比上一行缩进多了：同一层的字段要左边对齐；"
    elif "mapping values are not allowed" in problem:
        hint = "冒号后面要有空格，含冒号的文字请加引号；"
    elif "could not find expected ':'" in problem:
        hint = "可能少了冒号，或引号没有配对；"
    elif "did not find expected key" in problem or "expected <block end>" in problem:
        hint = "缩进不对：同一层的字段要左边对齐，列表项（- 开头）里的字段与第一个字段对齐；"
    elif "expected ',' or ']'" in problem or "expected ',' or '}'" in problem:
        hint = "方括号或花括号没有配对，或两项之间少了逗号；"
    elif "maximum nesting depth" in problem:
        hint = "括号嵌套太深；"
    elif "could not determine a constructor" in problem:
        hint = "不支持以 ! 开头的标签，请直接写值；"
    elif "found undefined alias" in problem or "expected alias" in problem:
        hint = "不支持锚点和别名（& 与 *）；"
    return YamlProblem(f"YAML 格式错误：{hint}{problem} (YAML syntax error)", line, column, "yaml")


# a key followed by a full-width colon, or by a colon with no space: "time：08:30", "- retailer:r-1"
_KEY_SLIP = re.compile(r"^(\s*(?:-\s+)?[A-Za-z_][\w.-]*\s*)(：|:(?=[^\s:]))")
# a full-width space (U+3000) in the indentation or right after a key's colon
_WIDE_SPACE = re.compile(r"^([ ]*)\u3000|^(\s*(?:-\s+)?[A-Za-z_][\w.-]*:)\u3000")


def _slip_before(lines: list[str], line: int, problem: str):
    """A key written with a Chinese colon (or with no space after the colon) on
    the reported line or the two before it — libyaml reports such a slip on a
    later line and in words that do not name it. Returns (line, column, hint)."""
    if "could not find expected ':'" not in problem and "mapping values are not allowed" not in problem \
            and "did not find expected key" not in problem:
        return None
    for number in range(line, max(line - 3, 0), -1):
        text = lines[number - 1] if 0 < number <= len(lines) else ""
        wide = _WIDE_SPACE.match(text)  # a Chinese input method's space: invisible, not a YAML space
        if wide is not None and not text.lstrip(" \u3000").startswith("#"):
            return number, len(wide.group(1) if wide.group(1) is not None else wide.group(2)) + 1, "这一行用了全角空格“　”：缩进和冒号后面要用半角空格（英文输入状态下的空格）；"
        found = _KEY_SLIP.match(text)
        if found is None or text.lstrip().startswith("#"):
            continue
        column = len(found.group(1)) + 1
        if found.group(2) == "：":
            return number, column, "字段名后面用了中文冒号“：”，请改成英文冒号加空格“: ”；"
        if "mapping values" not in problem:  # "a:b" inside a value is fine text for YAML
            return number, column, "冒号后面要有空格；"
    return None


def _deeper_than_sibling(lines: list[str], line: int) -> bool:
    """The reported line is indented more than the line before it, which holds
    a complete ``key: value`` (so the deeper line cannot be its content)."""
    if not 1 < line <= len(lines):
        return False
    here = lines[line - 1]
    before = next((x for x in reversed(lines[: line - 1]) if x.strip() and not x.lstrip().startswith("#")), "")
    indent = len(here) - len(here.lstrip(" "))
    item = re.match(r"^(\s*-\s+)", before)
    base = len(item.group(1)) if item else len(before) - len(before.lstrip(" "))
    return indent > base and re.match(r"^\s*(?:-\s+)?[\w.-]+:\s+\S", before) is not None


def _check_aliases(text: str) -> None:
    # Aliases let a 1 KB file expand to gigabytes ("billion laughs"); records
    # never need them, so refuse them before anything is constructed.
    for event in yaml.parse(text, Loader=Loader):
        if isinstance(event, yaml.AliasEvent) or getattr(event, "anchor", None):
            mark = event.start_mark
            raise YamlProblem(
                "记录里不能用锚点和别名（& 与 *），请把内容直接写出来 (anchors and aliases are not allowed)",
                mark.line + 1,
                mark.column + 1,
                "alias",
            )


class _Composer(_BaseLoader):  # type: ignore[misc, valid-type]
    """libyaml composes the node tree in C; nodes are only marked here (plain
    scalars to resolve, quoted ones are text) and :func:`_build` resolves them
    by the same YAML 1.2 core rules as :class:`Loader`, about 3x faster than
    PyYAML's Python constructor. Anything unusual (explicit tags, complex or
    duplicate keys) goes back to :class:`Loader`, which explains it."""

    def resolve(self, kind, value, implicit):  # noqa: D401 - PyYAML API
        if kind is ScalarNode:
            return _PLAIN_TAG if implicit[0] else _TEXT_TAG
        return _NODE_TAG

    # path-based resolvers are not used: skip PyYAML's per-node bookkeeping.
    # A builtin class stored on a class is not bound to the instance, so these
    # are C calls: descend_resolver(parent, index) -> slice(...), ascend() -> ().
    descend_resolver = slice
    ascend_resolver = tuple


# markers no tag written in a file can equal (explicit tags are text)
_PLAIN_TAG, _TEXT_TAG, _NODE_TAG = object(), object(), object()


class _Unusual(Exception):
    """The fast path cannot build this document exactly like :class:`Loader`."""


_PLAIN = {
    "": None, "~": None, "null": None, "Null": None, "NULL": None,
    "true": True, "True": True, "TRUE": True, "false": False, "False": False, "FALSE": False,
}
_INT_RE = re.compile(r"[-+]?[0-9]+")
_FLOAT_RE = re.compile(
    r"(?:[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?"
    r"|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))"
)
_NUMERIC_START = frozenset("-+0123456789.")


def _plain(text: str) -> Any:
    if text in _PLAIN:
        return _PLAIN[text]
    if text[0] not in _NUMERIC_START:
        return text
    if _INT_RE.fullmatch(text):
        digits = text.lstrip("+-")
        if len(digits) > 1 and digits.startswith("0"):
            return UnquotedDigits(text)
        return int(text)
    if _FLOAT_RE.fullmatch(text):
        low = text.lower()
        if low.endswith(".inf"):
            return float("-inf") if low.startswith("-") else float("inf")
        if low.endswith(".nan"):
            return float("nan")
        return float(low)
    return text


def _scalar(node: ScalarNode) -> Any:
    tag = node.tag
    if tag is _PLAIN_TAG:
        return _plain(node.value)
    if tag is _TEXT_TAG:
        return node.value
    raise _Unusual


def _build(node: Node) -> Any:
    cls = node.__class__
    if cls is ScalarNode:
        return _scalar(node)
    if node.tag is not _NODE_TAG:
        raise _Unusual
    if cls is SequenceNode:
        return [_scalar(item) if item.__class__ is ScalarNode else _build(item) for item in node.value]
    pairs = node.value
    out = {}
    odd_keys = False
    for key_node, value_node in pairs:
        if key_node.__class__ is not ScalarNode:
            raise _Unusual
        key = _scalar(key_node)
        if key.__class__ is not str:
            odd_keys = True  # 1 and "1" differ here but are one key to Loader
        out[key] = _scalar(value_node) if value_node.__class__ is ScalarNode else _build(value_node)
    if len(out) != len(pairs) or (odd_keys and len({k.value for k, _ in pairs}) != len(pairs)):
        raise _Unusual  # duplicate keys: Loader names them
    return out


def _parse_fast(text: str) -> Any:
    composer = _Composer(text)
    try:
        node = composer.get_single_node()
    finally:
        composer.dispose()
    return None if node is None else _build(node)


# ---------------------------------------------------------------- the plainest files, faster still
#
# Records as the writer (and most people) write them use a small part of YAML:
# block mappings and sequences, one scalar per line, plain or simply quoted.
# :func:`_parse_simple` reads exactly that, line by line, and gives up
# (:class:`_Unusual`) on anything else — comments after a value, block or flow
# scalars, escapes, anchors, tags, tabs, odd indentation, unusual characters —
# leaving it to libyaml. Where it answers, the answer is the one
# :class:`Loader` gives (tests/test_yamlfast.py compares them on every record
# of the demo office, the bad-input corpus and generated text).

_SIMPLE_LINE = re.compile(r"( *)(?:(- +)|)(.*)")
_SIMPLE_KEY = re.compile(r"([A-Za-z0-9_][A-Za-z0-9_.\-]*):(?: +(.*)|)")
# characters libyaml reads as plain text (no line breaks beyond \n, no BOM)
_SIMPLE_TEXT = re.compile("[\n\x20-\x7e\xa0-\u2027\u202a-\ud7ff\ue000-\ufefe\uff00-\ufffd\U00010000-\U0010ffff]*")
_INDICATORS = frozenset("-?:,[]{}#&*!|>'\"%@`")
_SEQ, _KEY, _VALUE = 0, 1, 2


def _simple_scalar(text: str) -> Any:
    if text[0] == '"':
        if len(text) >= 2 and text[-1] == '"' and '"' not in text[1:-1] and "\\" not in text:
            return text[1:-1]
        raise _Unusual
    if text[0] == "'":
        if len(text) >= 2 and text[-1] == "'" and "'" not in text[1:-1]:
            return text[1:-1]
        raise _Unusual
    if text == "[]":
        return []
    if text == "{}":
        return {}
    first = text[0]
    if first in _INDICATORS and not (first == "-" and len(text) > 1 and text[1] in "0123456789."):
        raise _Unusual
    if ": " in text or text[-1] == ":" or " #" in text or text[-1] == " ":
        raise _Unusual
    return _plain(text)


def _line_tokens(line: str) -> tuple:
    """The pieces of one line: (kind, column, key, value) each; () for a
    blank or comment line."""
    stripped = line.lstrip(" ")
    if not stripped or stripped[0] == "#":  # blank, or a comment line
        return ()
    column = len(line) - len(stripped)
    rest = stripped
    tokens: list[tuple[int, int, Any, Any]] = []
    while rest[:2] == "- " or rest == "-":
        if rest == "-":
            raise _Unusual  # an item that starts on the next line
        dash = _SIMPLE_LINE.fullmatch(rest)
        tokens.append((_SEQ, column, None, None))
        width = len(dash.group(2))  # type: ignore[union-attr]
        column += width
        rest = rest[width:]
    if rest.endswith(" "):
        raise _Unusual
    m = _SIMPLE_KEY.fullmatch(rest)
    if m is not None:
        key, value = m.groups()
        if _plain(key).__class__ is not str:
            raise _Unusual  # 1, true, null or 0832 as a key: not text to Loader
        # _NODE_TAG: the value is on the next lines (or empty)
        tokens.append((_KEY, column, key, _NODE_TAG if value is None else _simple_scalar(value)))
    elif tokens and tokens[-1][0] == _SEQ and tokens[-1][1] < column:
        tokens.append((_VALUE, column, None, _simple_scalar(rest)))
    else:
        raise _Unusual  # a continued line, a bare scalar, a key in quotes…
    return tuple(tokens)


# Lines repeat across records (`  findings:`, `- retailer: r-0001`,
# `    price_tags: ok`): each distinct line is read once. Values are immutable
# (str, int, float, bool, None); a line whose value is a new [] or {} is not
# remembered, so no two documents share a list or a mapping.
_LINES: dict[str, tuple] = {}
_LINES_MAX = 200_000  # ~70 MB at most; emptied when full
_LINE_LONGEST = 100  # longer lines (addresses, notes) seldom repeat: not remembered


def _simple_tokens(text: str) -> list[tuple[int, int, Any, Any]]:
    """(kind, column, key, value) per piece of each line."""
    tokens: list[tuple[int, int, Any, Any]] = []
    memo = _LINES
    for line in text.split("\n"):
        pieces = memo.get(line)
        if pieces is None:
            pieces = _line_tokens(line)
            if pieces and len(line) <= _LINE_LONGEST and pieces[-1][3].__class__ not in (list, dict):
                if len(memo) >= _LINES_MAX:
                    memo.clear()
                memo[line] = pieces
        tokens += pieces
    return tokens


def _parse_simple(text: str) -> Any:
    if not _SIMPLE_TEXT.fullmatch(text):
        raise _Unusual
    tokens = _simple_tokens(text)
    if not tokens:
        raise _Unusual  # empty or only comments: libyaml says None
    value, end = _simple_block(tokens, 0, tokens[0][1])
    if end != len(tokens) or tokens[0][1] != 0:
        raise _Unusual
    return value


def _simple_block(tokens: list, i: int, column: int) -> tuple[Any, int]:
    kind = tokens[i][0]
    if kind == _SEQ:
        return _simple_seq(tokens, i, column)
    if kind == _KEY:
        return _simple_map(tokens, i, column)
    raise _Unusual


def _simple_seq(tokens: list, i: int, column: int) -> tuple[list, int]:
    out = []
    n = len(tokens)
    while i < n and tokens[i][0] == _SEQ and tokens[i][1] == column:
        i += 1
        if i >= n or tokens[i][1] <= column:
            raise _Unusual
        token = tokens[i]
        kind, inner = token[0], token[1]
        if kind == _VALUE:
            out.append(token[3])
            i += 1
        elif kind == _KEY and token[3] is not _NODE_TAG and (i + 1 == n or tokens[i + 1][1] < inner):
            out.append({token[2]: token[3]})  # `- retailer: r-0001`: what _simple_map gives, without the call
            i += 1
        else:
            item, i = _simple_block(tokens, i, inner)
            out.append(item)
    if i < n and tokens[i][1] > column:
        raise _Unusual
    return out, i


def _simple_map(tokens: list, i: int, column: int) -> tuple[dict, int]:
    out: dict = {}
    n = len(tokens)
    while i < n:
        token = tokens[i]
        if token[0] != _KEY or token[1] != column:
            break
        key = token[2]  # resolved (always a str) by _line_tokens
        if key in out:
            raise _Unusual  # a duplicate: Loader names it
        value = token[3]
        i += 1
        if value is _NODE_TAG:  # the value is on the next lines, or empty
            if i < n and tokens[i][1] > column:
                value, i = _simple_block(tokens, i, tokens[i][1])
            elif i < n and tokens[i][1] == column and tokens[i][0] == _SEQ:
                value, i = _simple_seq(tokens, i, column)
            else:
                value = None
        out[key] = value
    if i < n and tokens[i][1] >= column:
        raise _Unusual  # deeper than its key, or a sequence item beside mapping keys
    return out, i


def parse(text: str) -> Any:
    """Parse one YAML document; raise :class:`YamlProblem` with a line on failure."""
    if "&" in text or "*" in text:
        try:
            _check_aliases(text)
        except yaml.YAMLError as exc:
            raise _problem_from(exc, text) from None
    try:
        return _parse_simple(text)
    except Exception:  # noqa: BLE001 - not the plainest kind of file
        pass
    try:
        return _parse_fast(text)
    except Exception:  # noqa: BLE001 - anything unusual or wrong: Loader says what
        pass
    try:
        return yaml.load(text, Loader=Loader)  # noqa: S506 - Loader is a SafeLoader
    except YamlProblem:
        raise
    except yaml.YAMLError as exc:
        raise _problem_from(exc, text) from None
    except (ValueError, TypeError, RecursionError) as exc:  # pragma: no cover - defensive
        raise YamlProblem(f"YAML 内容无法读取：{exc} (unreadable YAML)", 0, 0, "yaml") from None


def compose(text: str) -> Node | None:
    """The node tree (with line marks) of a text that parsed."""
    return yaml.compose(text, Loader=Loader)


def compose_marks(text: str) -> Node | None:
    """The node tree for :func:`locate` alone (classes, values, line marks),
    about 4x faster than :func:`compose`: libyaml's composer without PyYAML's
    tag resolution (tags are left unresolved). Used to name the line of each
    problem, for every warning of a city's files."""
    try:
        composer = _Composer(text)
        try:
            return composer.get_single_node()
        finally:
            composer.dispose()
    except Exception:  # noqa: BLE001 - whatever it is, the full composer says the same or explains
        return compose(text)


@dataclass(frozen=True)
class Located:
    line: int
    column: int
    field: str


def _fmt(path: Sequence[Any]) -> str:
    out = ""
    for part in path:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += ("." if out else "") + str(part)
    return out


def locate(root: Node | None, loc: Sequence[Any]) -> Located:
    """Line, column and readable field path of a Pydantic ``loc``.

    Segments the YAML does not have (a union's tag, a validator's name) are
    skipped; a missing field points at its parent mapping.
    """
    node = root
    shown: list[Any] = []
    line = (node.start_mark.line + 1) if node is not None else 1
    column = (node.start_mark.column + 1) if node is not None else 1
    for index, part in enumerate(loc):
        last = index == len(loc) - 1
        if isinstance(node, MappingNode) and isinstance(part, int):  # a key written as a number
            part = str(part)
        if isinstance(node, MappingNode) and isinstance(part, str):
            for key_node, value_node in node.value:
                if isinstance(key_node, ScalarNode) and key_node.value == part:
                    shown.append(part)
                    target = value_node if isinstance(value_node, ScalarNode) else key_node
                    line, column = target.start_mark.line + 1, target.start_mark.column + 1
                    node = value_node
                    break
            else:
                nxt = loc[index + 1] if not last else None
                if not last and any(isinstance(k, ScalarNode) and k.value == nxt for k, _ in node.value):
                    continue  # a union's tag (e.g. `composite`) between two written keys
                if last or _is_field_name(part):
                    shown.append(part)
                continue
        elif isinstance(node, SequenceNode) and isinstance(part, int):
            if 0 <= part < len(node.value):
                node = node.value[part]
                shown.append(part)
                line, column = node.start_mark.line + 1, node.start_mark.column + 1
            else:
                shown.append(part)
        elif isinstance(part, (int, str)) and _is_field_name(part):
            shown.append(part)
    return Located(line, column, _fmt(shown))


_FIELD_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


def _is_field_name(part: Any) -> bool:
    return isinstance(part, int) or bool(_FIELD_RE.match(str(part)))
