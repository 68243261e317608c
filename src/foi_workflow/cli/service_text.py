"""The words of service on the command line (SPEC §15): the methods, and what `foi show` prints
about a case's service of letters and remedy windows."""

from __future__ import annotations

from typing import Any

from foi_workflow.domain.service import UNSERVED_FLAG
from foi_workflow.domain.vocabulary import NoticeKind, ServiceMethod

METHODS = tuple(m.value for m in ServiceMethod)
METHOD_HELP = "in_person 直接送达 / delegated 委托送达 / post 邮寄送达 / electronic 电子送达（须申请人同意）"

def service_lines(summary: dict[str, Any], service: list[dict[str, Any]]) -> list[str]:
    """What `foi show` says of service: the reply date that counts (or 未记录送达), each
    letter's service history, the remedy windows and 已生效."""
    lines: list[str] = []
    if summary["replied_on"] is not None:
        basis = "以送达记录为准" if summary["served"] else f"以决定日期计，{UNSERVED_FLAG}"
        lines.append(f"答复日期：{summary['replied_on']}（{basis}）")
    if summary["review_until"]:
        lines.append(f"申请行政复议期限：至 {summary['review_until']}（60日）")
        lines.append(f"提起行政诉讼期限：至 {summary['litigation_until']}（6个月）")
        if summary["final"]:
            lines.append("已生效：救济期限均已届满，未申请行政复议或提起行政诉讼")
    if service:
        lines.append("")
        lines.append("送达：")
        for entry in service:
            lines.append(f"  {NoticeKind.label_of(entry['kind'])} {entry['letter']}")
            lines.extend(f"    {_attempt(a)}" for a in entry["attempts"])
    return lines


def _attempt(a: dict[str, Any]) -> str:
    text = f"{a['on']} {ServiceMethod.label_of(a['method'])}"
    if a["sent_on"]:
        text += f"，交邮 {a['sent_on']}"
    if a["tracking"]:
        text += f"，邮件号 {a['tracking']}"
    if a["delivered_on"]:
        text += f"；{a['delivered_on']} 送达" + (f"（凭证 SHA-256 {a['proof'][:16]}…）" if a["proof"] else "")
    elif a["returned"] is not None:
        text += f"；已退回：{a['returned']}"
    else:
        text += "；尚未签收"
    return text
