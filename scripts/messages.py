"""Pydantic's error types in words a customer manager understands (Chinese
first, the English gist in brackets)."""

from __future__ import annotations

from typing import Any

from crmdocs.schemas.common import QuotedNumber


# what a field with a pattern expects, in words (the pattern itself means nothing to a customer manager)
PATTERN_ZH = {
    r"^[0-9]{17}[0-9Xx]$": "身份证号应为 18 位：17 位数字，最后一位是数字或 X",
    r"^\d{4}-(0[1-9]|1[0-2]|Q[1-4])$": "期间应写成月 2026-09 或季度 2026-Q3",
    r"^\d{2}:\d{2}$": "时刻应写成 HH:MM，例如 08:30",
    r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,38}$": "用户名只能含字母、数字和 _ . -，以字母或数字开头",
}


def _show(value: Any) -> str:
    if isinstance(value, str):
        return repr(value) if value else "空白"
    if isinstance(value, dict):
        return "一组字段"
    if isinstance(value, list):
        return "一个列表"
    if value is None:
        return "空值"
    return repr(value)


def _words() -> dict[frozenset, dict[str, str]]:
    """Each coded choice's Chinese words, found by the set of its codes."""
    from crmdocs.schemas import daily, org, retailer, service

    maps = (retailer.FORMAT_ZH, retailer.NETWORK_ZH, retailer.STATUS_ZH, retailer.LOCATION_ZH, retailer.CARE_GROUP_ZH,
            daily.PURPOSE_ZH, daily.PRICE_TAGS_ZH, daily.DISPLAY_ZH, daily.INFO_CATEGORY_ZH, daily.ABSENCE_ZH,
            service.SEVERITY_ZH, org.ROLE_ZH)
    return {frozenset(str(k.value) for k in m): {str(k.value): v for k, v in m.items()} for m in maps}


def _choice(expected: str, given: Any, found: str) -> str:
    """A coded choice (``network: urban``): the codes with their Chinese words,
    and the code to write when the Chinese word was written (城网 → urban)."""
    import re

    codes = re.findall(r"'([^']*)'", expected)
    words = _words().get(frozenset(codes), {})
    if not words:
        return f"只能填 {expected}，读到的是 {found} (expected one of {expected})"
    listed = "、".join(f"{c}（{words[c]}）" for c in codes)
    text = f"只能填 {listed}，读到的是 {found}"
    meant = [c for c in codes if isinstance(given, str) and given.strip() == words[c]]
    if meant:
        text += f"；“{given.strip()}”请写成 {meant[0]}"
    return text + f" (expected one of {expected})"


def explain(error: dict[str, Any]) -> str:
    """One sentence for one entry of ``ValidationError.errors()``, with a hint
    when the value shows a Chinese input method's slip (，or full-width digits)."""
    text = _explain(error)
    given = error.get("input")
    if isinstance(given, QuotedNumber):  # "４": text where a number goes
        given = given.text
    if not isinstance(given, str):
        return text
    hints = []
    loc = error.get("loc") or ()
    if "，" in given and loc and isinstance(loc[-1], int):
        hints.append("列表里两项之间用了中文逗号“，”，请改成英文逗号“,”或每项一行")
    if any("０" <= ch <= "９" for ch in given):
        hints.append("里面有全角数字（如 ０１２），请用半角数字 012")
    short = len(given) <= 30  # a code, an id, a date or a time — not a sentence that may hold them
    if short and "：" in given:  # a time 09：30 typed with a Chinese input method
        hints.append("里面有中文冒号“：”，请改成英文冒号“:”")
    if short and given[:1] in ("“", "”", "‘", "’") and given[-1:] in ("“", "”", "‘", "’"):
        hints.append("两边用了中文引号，请改成英文引号 \"…\"")
    if not hints:
        return text
    import re

    gloss = re.search(r" ?\([A-Za-z][^()]*\)$", text)  # the English gist stays last
    if not gloss:
        return text + "；" + "；".join(hints)
    return f"{text[:gloss.start()]}；{'；'.join(hints)} {text[gloss.start():].lstrip()}"


def _explain(error: dict[str, Any]) -> str:
    kind = error.get("type", "")
    ctx = error.get("ctx") or {}
    found = _show(error.get("input"))
    msg = error.get("msg", "")
    if isinstance(error.get("input"), QuotedNumber):
        return f"应为数字，读到的是文字 “{error['input'].text}”（数字不要加引号，也不要写单位或汉字）(expected a number, found text)"
    if kind in {"missing"}:
        return "缺少必填字段 (required field missing)"
    if kind == "extra_forbidden":
        key = str((error.get("loc") or ("",))[-1])
        if "\u3000" in key:  # a Chinese input method's space, which YAML takes as part of the name
            return "字段名前面有全角空格“　”：缩进要用半角空格（英文输入状态下的空格）(full-width space before the field name)"
        if "：" in key:
            return "字段名后面用了中文冒号“：”，请改成英文冒号加空格“: ” (Chinese colon after the field name)"
        return "不认识这个字段，是写错了名字吗？(unknown field, check the spelling)"
    if kind in {"enum", "literal_error"}:
        expected = ctx.get("expected", "")
        return _choice(expected, error.get("input"), found)
    if kind in {"int_type", "int_parsing", "int_from_float"}:
        return f"应为整数，读到的是 {found} (expected a whole number)"
    if kind in {"float_type", "float_parsing"}:
        return f"应为数字，读到的是 {found} (expected a number)"
    if kind == "invalid_key":
        return f"字段名应为文字，读到的是 {found} (keys should be text)"
    if kind == "finite_number":
        return f"应为普通数字，读到的是 {found} (expected a finite number, not .inf or .nan)"
    if kind in {"bool_type", "bool_parsing"}:
        return f"应为 true 或 false，读到的是 {found} (expected true or false)"
    if kind == "greater_than_equal":
        return f"不能小于 {ctx.get('ge')}，读到的是 {found} (must be ≥ {ctx.get('ge')})"
    if kind == "greater_than":
        return f"必须大于 {ctx.get('gt')}，读到的是 {found} (must be > {ctx.get('gt')})"
    if kind == "less_than_equal":
        return f"不能大于 {ctx.get('le')}，读到的是 {found} (must be ≤ {ctx.get('le')})"
    if kind == "less_than":
        return f"必须小于 {ctx.get('lt')}，读到的是 {found} (must be < {ctx.get('lt')})"
    if kind == "string_too_short" or (kind == "too_short" and isinstance(error.get("input"), str)):
        return "不能为空 (must not be empty)"
    if kind == "string_pattern_mismatch":
        want = PATTERN_ZH.get(str(ctx.get("pattern", "")))
        return f"格式不对，{want}，读到的是 {found} (does not match the expected format)" if want else \
            f"格式不对，读到的是 {found} (does not match the expected format)"
    if kind == "string_type":
        return f"应为文字，读到的是 {found}；号码请加引号 (expected text)"
    if kind in {"list_type"}:
        return f"应为列表（每项一行，以 - 开头），读到的是 {found} (expected a list)"
    if kind in {"model_type", "dict_type", "model_attributes_type"}:
        return f"应为一组字段（名称: 值），读到的是 {found} (expected a mapping)"
    if kind == "too_short":
        return f"至少要有 {ctx.get('min_length')} 项 (too few items)"
    if kind == "too_long":
        return f"最多 {ctx.get('max_length')} 项 (too many items)"
    if kind == "union_tag_invalid":
        key = str(ctx.get("discriminator", "mode")).strip("'")
        return f"{key} 只能是 {ctx.get('expected_tags', '')}，读到的是 {ctx.get('tag', found)} (unknown {key})"
    if kind == "union_tag_not_found":
        key = str(ctx.get("discriminator", "mode")).strip("'")
        return f"缺少 {key}：请写明用哪一种 {key} (missing {key})"
    if kind in {"date_from_datetime_parsing", "date_parsing", "date_type"}:
        return f"日期不对，应写成 YYYY-MM-DD，读到的是 {found} (expected a date)"
    # our own PydanticCustomError types already carry a full sentence
    return msg
