"""The parts of the annual report not derived from cases (SPEC §5): table 2 (proactive
disclosure, 主动公开) and the narrative sections 一、五、六, read from `reports/YYYY.toml`.

Pure: a parsed TOML mapping in, a `ReportInputs` out. Narrative text may name derived
figures as `{received}`, `{handled}` … (see `PLACEHOLDERS`), filled in when rendering.
The schema is documented in `docs/report-config.md`.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from foi_workflow.errors import ConfigError

# name -> what it stands for (documentation and the error message for an unknown name)
PLACEHOLDERS: dict[str, str] = {
    "year": "报告年度",
    "next_year": "报告年度的下一年",
    "agency": "机关名称",
    "received": "本年新收申请数（总计）",
    "carried_in": "上年结转申请数（总计）",
    "handled": "本年办理结果总计",
    "carried_out": "结转下年度继续办理数（总计）",
    "granted": "予以公开数（总计）",
    "review": "行政复议总计",
    "litigation": "行政诉讼总计（两类起诉之和）",
}


@dataclass(frozen=True)
class DocumentCounts:
    """第二十条第（一）项: one row (规章 or 行政规范性文件)."""

    issued: int = 0  # 本年制发件数
    repealed: int = 0  # 本年废止件数
    in_force: int = 0  # 现行有效件数


@dataclass(frozen=True)
class Table2:
    """Table 2 of the national format (主动公开政府信息情况)."""

    regulations: DocumentCounts = DocumentCounts()  # 规章
    normative_documents: DocumentCounts = DocumentCounts()  # 行政规范性文件
    licensing: int = 0  # 第二十条第（五）项 行政许可 本年处理决定数量
    penalties: int = 0  # 第二十条第（六）项 行政处罚
    coercive_measures: int = 0  # 第二十条第（六）项 行政强制
    fees: Decimal = Decimal(0)  # 第二十条第（八）项 行政事业性收费 本年收费金额（万元）

    @property
    def fees_text(self) -> str:
        return format(self.fees.normalize(), "f") if self.fees else "0"


@dataclass(frozen=True)
class ReportInputs:
    """What the agency writes for the year; every text is light Markdown (paragraphs,
    **bold**, links)."""

    title: str = ""  # default: "<agency><year>年政府信息公开工作年度报告"
    preface: str = ""
    overview: str = ""  # 一、总体情况
    problems: str = ""  # 五、存在的主要问题及改进情况
    other_matters: str = ""  # 六、其他需要报告的事项
    table2: Table2 = Table2()
    source: str = ""  # the file it came from, "" when none was found


_TEXT_KEYS = ("title", "preface", "overview", "problems", "other_matters")
_TABLE2_INTS = ("licensing", "penalties", "coercive_measures")


def _count(value: Any, where: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ConfigError(f"{where} 应为非负整数，实为 {value!r}")
    return value


def _documents(raw: Any, where: str) -> DocumentCounts:
    if raw is None:
        return DocumentCounts()
    if not isinstance(raw, Mapping):
        raise ConfigError(f"{where} 应为表，含 issued / repealed / in_force")
    unknown = set(raw) - {"issued", "repealed", "in_force"}
    if unknown:
        raise ConfigError(f"{where} 有未知项：{', '.join(sorted(unknown))}")
    return DocumentCounts(
        *(_count(raw.get(k, 0), f"{where}.{k}") for k in ("issued", "repealed", "in_force"))
    )


def parse_report_inputs(data: Mapping[str, Any], *, source: str = "") -> ReportInputs:
    """Check and read a parsed `reports/YYYY.toml`; unknown keys are refused (typos)."""
    unknown = set(data) - {*_TEXT_KEYS, "table2"}
    if unknown:
        raise ConfigError(f"{source or '报告配置'} 有未知项：{', '.join(sorted(unknown))}")
    texts: dict[str, str] = {}
    for key in _TEXT_KEYS:
        value = data.get(key, "")
        if not isinstance(value, str):
            raise ConfigError(f"{source} 的 {key} 应为文本")
        texts[key] = value.strip()
    raw2 = data.get("table2", {})
    if not isinstance(raw2, Mapping):
        raise ConfigError(f"{source} 的 [table2] 应为表")
    unknown2 = set(raw2) - {"regulations", "normative_documents", *_TABLE2_INTS, "fees"}
    if unknown2:
        raise ConfigError(f"{source} 的 [table2] 有未知项：{', '.join(sorted(unknown2))}")
    try:
        fees = Decimal(str(raw2.get("fees", 0)))
    except InvalidOperation:
        raise ConfigError(f"{source} 的 table2.fees 应为金额（万元）") from None
    if fees < 0 or isinstance(raw2.get("fees"), bool):
        raise ConfigError(f"{source} 的 table2.fees 应为非负金额（万元）")
    table2 = Table2(
        regulations=_documents(raw2.get("regulations"), "table2.regulations"),
        normative_documents=_documents(raw2.get("normative_documents"), "table2.normative_documents"),
        licensing=_count(raw2.get("licensing", 0), "table2.licensing"),
        penalties=_count(raw2.get("penalties", 0), "table2.penalties"),
        coercive_measures=_count(raw2.get("coercive_measures", 0), "table2.coercive_measures"),
        fees=fees,
    )
    for key, text in texts.items():
        check_placeholders(text, f"{source} 的 {key}")
    return ReportInputs(table2=table2, source=source, **texts)


_PLACEHOLDER = re.compile(r"\{\{|\}\}|\{([A-Za-z_]*)\}")


def check_placeholders(text: str, where: str) -> None:
    for match in _PLACEHOLDER.finditer(text):
        name = match.group(1)
        if name is not None and name not in PLACEHOLDERS:
            known = "、".join("{" + p + "}" for p in PLACEHOLDERS)
            raise ConfigError(f"{where} 中的占位符 {{{name}}} 未知；可用：{known}")


def fill(text: str, values: Mapping[str, str]) -> str:
    """Replace `{name}` by its value; `{{` and `}}` stand for literal braces."""

    def sub(match: re.Match[str]) -> str:
        token = match.group(0)
        if token in ("{{", "}}"):
            return token[0]
        name = match.group(1) or ""
        if name not in values:
            raise ConfigError(f"占位符 {{{name}}} 未知")
        return values[name]

    return _PLACEHOLDER.sub(sub, text)
