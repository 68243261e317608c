"""The Chinese text of a deadline explanation (`foi show`): one formatter per kind of entry
in a clock's log, the status line, and the calendar days each period skipped or counted.

The fold (`domain.clock`, `domain.clock_events`) records (formatter, arguments) pairs; the
lines are written out only when an explanation is asked for, never on a bulk import.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date
from typing import TYPE_CHECKING, Any

from foi_workflow.domain.calendar import WEEKEND, WorkCalendar, provisional_note
from foi_workflow.domain.periods import CONSULTATION_DAYS, CORRECTION_NOTICE_DAYS, FEE_DAYS, REPLY_BUDGET
from foi_workflow.domain.vocabulary import State

if TYPE_CHECKING:
    from foi_workflow.domain.clock import ClockState

# What ended the case, by the final event.
FINAL_WORDS = {
    "decide": "作出答复",
    "withdraw": "申请人撤回申请，办结",
    "lapse_correction": "逾期未补正，视为放弃申请，办结",
    "lapse_fee": "逾期未缴费，不再处理，办结",
}
# What resumed the clock.
RESUME_WORDS = {
    "consultation_reply": "收到征求意见回复",
    "consultation_none": "征求意见期限届满未收到意见",
    "fee_paid": "申请人缴费",
}


def status_lines(s: ClockState, cal: WorkCalendar) -> list[str]:
    """Where the reply clock stands now, in one line (none before the receipt)."""
    if s.due is None:
        return []
    if s.phase == State.DECIDED:
        if s.on_time is None:
            return []
        return [f"结论：{'按时办结' if s.on_time else '逾期办结'}。"]
    if s.running and s.run_start is not None:
        if s.manual_due:
            return [f"当前答复期限：{s.due.isoformat()}（依第三十五条确定的合理期限）。"]
        running = cal.working_days_between(s.run_start, s.due)
        return [
            f"当前答复期限：{s.due.isoformat()}（期限共{s.budget}个工作日，"
            f"此前已用{s.used}个，本段自{s.run_start.isoformat()}次日起计{running}个）。"
        ]
    if s.paused_overdue and s.frozen_due is not None:
        return [f"答复期限暂停或中止时已超过{s.frozen_due.isoformat()}，已逾期。"]
    if s.phase == State.CORRECTION_REQUESTED:
        return [f"答复期限中止，自收到补正之日起重新计算{REPLY_BUDGET}个工作日。"]
    return [f"答复期限暂停中：剩余{s.remaining}个工作日，恢复计算后顺延。"]


def left_text(args: tuple[Any, ...]) -> str:
    if len(args) == 1:
        return f"已超过答复期限{args[0].isoformat()}，已逾期"
    return f"已用{args[0]}个工作日，剩余{args[1]}个"


def line_plain(on: date, what: str) -> str:
    return f"{on.isoformat()} {what}。"


def line_final_plain(d: date, event: str) -> str:
    return line_plain(d, FINAL_WORDS[event])


def line_resumed_plain(on: date, why: str) -> str:
    return line_plain(on, RESUME_WORDS[why])


def line_receive(r: date, due: date, notice: date) -> str:
    return (
        f"{r.isoformat()} 收到申请，答复期限{REPLY_BUDGET}个工作日，自次日起算，至{due.isoformat()}；"
        f"如需补正，应于{notice.isoformat()}前一次性告知（{CORRECTION_NOTICE_DAYS}个工作日）。"
    )


def line_request_correction(p: date, late_after: date | None, used: int, period: int, due: date) -> str:
    late = f"（晚于{late_after.isoformat()}的补正告知期限）" if late_after is not None else ""
    return (
        f"{p.isoformat()} 告知补正{late}，答复期限中止（此前已用{used}个工作日）；"
        f"补正期限{period}个工作日，至{due.isoformat()}。"
    )


def line_receive_correction(c: date, due: date, extended_days: int) -> str:
    carried = f"；此前延期的{extended_days}个工作日不再计入，但计入延期上限" if extended_days else ""
    return (
        f"{c.isoformat()} 收到补正，答复期限自收到补正之日起重新计算{REPLY_BUDGET}个工作日，"
        f"至{due.isoformat()}{carried}。"
    )


def line_consult(p: date, party: str, left: tuple[Any, ...], due: date) -> str:
    whom = f"向{party}" if party else ""
    return (
        f"{p.isoformat()} {whom}征求意见，答复期限暂停（{left_text(left)}）；"
        f"征求意见期限{CONSULTATION_DAYS}个工作日，至{due.isoformat()}（不计入答复期限）。"
    )


def line_consult_more(p: date, party: str, due: date) -> str:
    return (
        f"{p.isoformat()} 另向{party or '其他方'}征求意见，答复期限继续暂停；"
        f"征求意见期限{CONSULTATION_DAYS}个工作日，至{due.isoformat()}。"
    )


def line_consultation_still_open(on: date, why: str, party: str, left: tuple[tuple[str, date, date], ...]) -> str:
    what = RESUME_WORDS[why]
    still = "、".join(f"{c[0]}（至{c[2].isoformat()}）" for c in left)
    return f"{on.isoformat()} {party}{what}；仍在征求{still}的意见，答复期限继续暂停。"


def line_fee_notice_paused(p: date, left: tuple[Any, ...], due: date) -> str:
    return (
        f"{p.isoformat()} 发出收费通知，答复期限暂停（{left_text(left)}）；"
        f"缴费期限{FEE_DAYS}个工作日，至{due.isoformat()}。"
    )


def line_fee_notice_running(p: date, due: date) -> str:
    return f"{p.isoformat()} 发出收费通知，答复期限继续计算；缴费期限{FEE_DAYS}个工作日，至{due.isoformat()}。"


def line_resume_overdue(on: date, why: str, due: date) -> str:
    what = RESUME_WORDS[why]
    return f"{on.isoformat()} {what}，答复期限恢复计算；暂停前已超过答复期限{due.isoformat()}，期限不变，已逾期。"


def line_resume(on: date, why: str, paused_on: date, remaining: int, due: date) -> str:
    what = RESUME_WORDS[why]
    span = f"{paused_on.isoformat()}后至{on.isoformat()}"
    return (
        f"{on.isoformat()} {what}，答复期限恢复计算：暂停期间（{span}）不计入，"
        f"剩余{remaining}个工作日，答复期限顺延至{due.isoformat()}。"
    )


def line_resume_none_left(on: date, why: str, due: date) -> str:
    what = RESUME_WORDS[why]
    return f"{on.isoformat()} {what}，答复期限恢复计算：暂停时已无剩余工作日，应于{due.isoformat()}答复。"


def line_extend(on: date, n: int, approved: str, due: date | None, total: int) -> str:
    by = f"，经{approved}同意" if approved else ""
    text = f"答复期限延长{n}个工作日{by}" + (f"，至{due.isoformat()}" if due is not None else "")
    return f"{on.isoformat()} {text}（累计延长{total}个工作日）。"


def line_reasonable_period(on: date, due: date, reason: str) -> str:
    why = f"（理由：{reason}）" if reason else ""
    return f"{on.isoformat()} 依第三十五条确定延迟答复的合理期限，答复期限定为{due.isoformat()}{why}。"


def line_final_running(d: date, event: str, due: date) -> str:
    words = FINAL_WORDS[event]
    return f"{d.isoformat()} {words}，答复期限为{due.isoformat()}。"


def line_final_paused(d: date, event: str, paused_on: date | None, overdue: bool, frozen: date) -> str:
    words = FINAL_WORDS[event]
    return (
        f"{d.isoformat()} {words}，答复期限在{paused_on.isoformat() if paused_on else ''}暂停或中止时"
        f"{'已超过' if overdue else '尚未届满，期限为'}{frozen.isoformat()}。"
    )


def calendar_lines(cal: WorkCalendar, label: str, spans: Sequence[tuple[date, date]]) -> list[str]:
    """Holidays skipped and make-up days counted over one period's stretches."""
    holidays: dict[date, str] = {}
    weekends: set[date] = set()
    make_up: set[date] = set()
    for a, b in spans:
        if b <= a:
            continue
        for d, reason in cal.non_working_days(a, b):
            if reason == WEEKEND:
                weekends.add(d)
            else:
                holidays[d] = reason
        make_up.update(cal.make_up_days(a, b))
    parts: list[str] = []
    if holidays:
        parts.append("跳过" + "；".join(_runs(holidays)))
    if weekends:
        parts.append(f"跳过周末{len(weekends)}天")
    if make_up:
        parts.append("计入调休上班日" + "、".join(d.isoformat() for d in sorted(make_up)))
    return [f"{label}推算：" + "，".join(parts) + "。"] if parts else []


def provisional_lines(cal: WorkCalendar, spans: Sequence[tuple[date, date]]) -> list[str]:
    years = sorted({y for a, b in spans for y in cal.provisional_years(a, b)})
    return [
        f"{provisional_note(year)}，按暂定日历推算（周一至周五，除1月1日、5月1日至2日、"
        "10月1日至3日），官方安排公布后重新计算。"
        for year in years
    ]


def _runs(days: Mapping[date, str]) -> list[str]:
    """Consecutive days with the same reason as `2024-02-10至2024-02-17 法定节假日（春节）`."""
    out: list[str] = []
    ordered = sorted(days)
    i = 0
    while i < len(ordered):
        j = i
        while (
            j + 1 < len(ordered)
            and ordered[j + 1].toordinal() == ordered[j].toordinal() + 1
            and days[ordered[j + 1]] == days[ordered[i]]
        ):
            j += 1
        first, last = ordered[i], ordered[j]
        span = first.isoformat() if first == last else f"{first.isoformat()}至{last.isoformat()}"
        out.append(f"{span} {days[first]}")
        i = j + 1
    return out
