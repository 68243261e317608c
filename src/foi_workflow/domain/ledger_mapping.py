"""The mapping file of `foi ledger import --mapping MAPPING.toml` (SPEC §14): the columns a
ledger calls otherwise, and its own wordings of results, applicant types and channels.

    sheet = "2024年"            # the worksheet (default: the first)
    header_row = 3              # the header's row number (default: found by its wording)
    default_channel = "邮寄"    # for rows (or ledgers) without 申请方式 (default: 互联网)

    [columns]                   # our column (as the export names it, or its key) = the ledger's header
    "收到日期" = "来件时间"
    "处理结果" = "办理结论"

    [outcomes]                  # the ledger's text = an outcome code (or the report's wording)
    "同意提供" = "granted"

    [applicant_types]           # likewise: "村委会" = "other"
    [channels]                  # likewise: "政务服务网" = "online"

Pure: the parsed TOML in, a checked `LedgerMapping` out (a `ConfigError` naming the entry).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from foi_workflow.domain.ledger_columns import BY_KEY, resolve_key
from foi_workflow.domain.ledger_rows import Vocabularies
from foi_workflow.domain.ledger_values import APPLICANT_TYPES, CHANNELS, OUTCOMES, PhraseMatcher
from foi_workflow.errors import ConfigError

_SECTIONS = ("columns", "outcomes", "applicant_types", "channels")
_KEYS = frozenset({"sheet", "header_row", "default_channel", *_SECTIONS})


@dataclass(frozen=True)
class LedgerMapping:
    columns: Mapping[str, str] = field(default_factory=dict)  # column key -> the ledger's header text
    sheet: str | None = None
    header_row: int | None = None  # 1-based, as Excel numbers rows
    vocabularies: Vocabularies = field(default_factory=Vocabularies)


def _table(data: Mapping[str, Any], name: str, source: str) -> dict[str, str]:
    table = data.get(name, {})
    if not isinstance(table, dict) or not all(isinstance(k, str) and isinstance(v, str) for k, v in table.items()):
        raise ConfigError(f"{source}：[{name}] 应为“文字 = 文字”的表")
    return table


def _codes(table: Mapping[str, str], matcher: PhraseMatcher, name: str, source: str) -> dict[str, str]:
    """Each entry's value as a code: the code itself or a wording the built-in matcher knows."""
    out: dict[str, str] = {}
    for text, target in table.items():
        code = matcher.match(target)
        if code is None:
            raise ConfigError(f"{source}：[{name}] 中“{text}” = “{target}” 不是可识别的代码或名称")
        out[text] = code
    return out


def parse_mapping(data: Mapping[str, Any], source: str) -> LedgerMapping:
    unknown = sorted(set(data) - _KEYS)
    if unknown:
        raise ConfigError(f"{source}：不认识的设置 {'、'.join(unknown)}；可用：{'、'.join(sorted(_KEYS))}")
    columns: dict[str, str] = {}
    for name, header in _table(data, "columns", source).items():
        key = resolve_key(name)
        if key is None or BY_KEY[key].derived:
            known = "、".join(c.header for c in BY_KEY.values() if not c.derived)
            raise ConfigError(f"{source}：[columns] 中的“{name}”不是可导入的列；可用：{known}")
        columns[key] = header
    sheet = data.get("sheet")
    header_row = data.get("header_row")
    if sheet is not None and not isinstance(sheet, str):
        raise ConfigError(f"{source}：sheet 应为工作表名称")
    if header_row is not None and (not isinstance(header_row, int) or isinstance(header_row, bool) or header_row < 1):
        raise ConfigError(f"{source}：header_row 应为表头所在的行号（从 1 起）")
    channels = CHANNELS.with_extra(_codes(_table(data, "channels", source), CHANNELS, "channels", source))
    default = Vocabularies().default_channel
    if "default_channel" in data:
        found = CHANNELS.match(str(data["default_channel"]))
        if found is None:
            raise ConfigError(f"{source}：default_channel“{data['default_channel']}”不是可识别的申请方式")
        default = found
    vocab = Vocabularies(
        outcomes=OUTCOMES.with_extra(_codes(_table(data, "outcomes", source), OUTCOMES, "outcomes", source)),
        applicant_types=APPLICANT_TYPES.with_extra(
            _codes(_table(data, "applicant_types", source), APPLICANT_TYPES, "applicant_types", source)
        ),
        channels=channels,
        default_channel=default,
    )
    return LedgerMapping(columns=columns, sheet=sheet, header_row=header_row, vocabularies=vocab)
