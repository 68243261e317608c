"""`foi demo`: a sample agency and a realistic year of applications, played day by day through
the real workflow while the real scheduler sweeps each morning and mails its reminders to a
local SMTP server on 127.0.0.1; then letters and the annual report are rendered."""

from __future__ import annotations

import heapq
import io
import random
import shutil
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Any

from foi_workflow.adapters.files import private_output, write_private
from foi_workflow.config import SHANGHAI, Config, load_config
from foi_workflow.demo.plan import RETURN_REASONS, CasePlan, ServicePlan, plan_appeal, plan_service, plan_year
from foi_workflow.errors import FoiError, InvalidInput
from foi_workflow.services.app import App

CASEWORKERS = {"zhangwei": ("张伟", "zhangwei"), "liuyang": ("刘洋", "liuyang"), "chenjing": ("陈静", "chenjing")}
MAIL_DOMAIN = "demo.example.gov.cn"
AGENCY = "demo"


def demo_config_text(smtp_port: int) -> str:
    workers = "\n".join(
        f'[caseworkers.{login}]\nname = "{name}"\nemail = "{mail}@{MAIL_DOMAIN}"\nagency = "{AGENCY}"\n'
        for login, (name, mail) in CASEWORKERS.items()
    )
    return f"""# The demo agency's configuration, written by `foi demo`.
default_agency = "{AGENCY}"
db = "sqlite:///foi.db"

[workflow]
correction_period_days = 15
pause_clock_during_fee = true

[agencies.{AGENCY}]
name = "示范市自然资源和规划局"
short_name = "示自然资规公开"
address = "示范市人民路100号"
phone = "0571-88880000"
postcode = "310000"
mailbox = "gongkai@{MAIL_DOMAIN}"
number_pattern = "{{short}}〔{{year}}〕{{seq}}号"
review_body = "示范市人民政府"
folder = "."

{workers}
[scheduler]
sweep_minutes = 5
digest_time = "08:30"

[smtp]
host = "127.0.0.1"
port = {smtp_port}
tls = "none"
mail_from = "foi-scheduler@{MAIL_DOMAIN}"
mail_to = "gongkai@{MAIL_DOMAIN}"
backoff_seconds = 1
"""


def demo_report_inputs() -> str:
    """The demo agency's report inputs: table 2 and the narrative sections 一、五、六."""
    return """# The non-derived parts of the demo agency's annual report, written by `foi demo`.
preface = \"\"\"
本报告根据《中华人民共和国政府信息公开条例》（以下简称《条例》）和\\
《中华人民共和国政府信息公开工作年度报告格式》编制。\\
本报告所列数据的统计期限自 {year} 年 1 月 1 日起至 {year} 年 12 月 31 日止。
\"\"\"
overview = \"\"\"
{year} 年，{agency}认真贯彻落实《条例》，持续推进政府信息公开工作。

（一）主动公开情况。全年在政府门户网站主动公开政府信息 326 条，其中政策文件 12 条、政策解读 9 条。

（二）依申请公开办理情况。{year} 年收到政府信息公开申请 {received} 件，上年结转 {carried_in} 件，\\
办结 {handled} 件，结转下年度继续办理 {carried_out} 件。
\"\"\"
problems = \"\"\"
一是部分申请办理用时偏长；二是答复文书的说理还需加强。

{next_year} 年，本机关将完善依申请公开办理流程，加强对经办人员的培训。
\"\"\"
other_matters = \"\"\"
本机关 {year} 年依照《政府信息公开信息处理费管理办法》对超出合理范围的申请收取了信息处理费。
\"\"\"

[table2]
regulations = { issued = 0, repealed = 0, in_force = 0 }
normative_documents = { issued = 3, repealed = 1, in_force = 17 }
licensing = 412
penalties = 38
coercive_measures = 2
fees = 0
"""


@dataclass
class DemoResult:
    folder: Path
    year: int
    cases: int = 0
    events: int = 0
    automatic: int = 0
    mails_sent: int = 0
    mails_received: int = 0
    files: list[tuple[str, Path]] = field(default_factory=list)
    balanced: bool = False


Progress = Callable[[str, int, int], None]  # (step label, done, total)


class _Mailbox:
    """An aiosmtpd server on loopback that writes each message it receives to a file."""

    def __init__(self, folder: Path) -> None:
        from aiosmtpd.controller import Controller

        self.folder = folder
        folder.mkdir(parents=True, exist_ok=True)
        self.count = 0
        mailbox = self

        class Handler:
            async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
                mailbox.count += 1
                write_private(mailbox.folder / f"{mailbox.count:05d}.eml", envelope.original_content or b"")
                return "250 OK"

        self.port = _free_port()
        self.controller = Controller(Handler(), hostname="127.0.0.1", port=self.port)

    def __enter__(self) -> _Mailbox:
        self.controller.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.controller.stop()


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _morning(day: date) -> datetime:
    return datetime.combine(day, time(9, 0), tzinfo=SHANGHAI)


def run_demo(
    folder: Path,
    *,
    year: int,
    cases: int = 240,
    seed: int = 20250101,
    progress: Progress | None = None,
) -> DemoResult:
    """Build the demo in `folder` (emptied first if it holds an earlier demo)."""
    from foi_workflow.adapters.db import migrate, open_engine

    if cases < 1:
        raise InvalidInput("示例案件数应至少为 1")
    tick = progress or (lambda label, done, total: None)
    folder = folder.resolve()
    if (folder / "foi.db").exists() or (folder / "foi.toml").exists():
        for name in ("foi.db", "foi.db-wal", "foi.db-shm", "foi.toml"):
            (folder / name).unlink(missing_ok=True)
        for sub in ("mail", "notices", "report", "reports"):
            shutil.rmtree(folder / sub, ignore_errors=True)
    folder.mkdir(parents=True, exist_ok=True)
    result = DemoResult(folder=folder, year=year)
    with _Mailbox(folder / "mail") as mailbox:
        config_path = folder / "foi.toml"
        config_path.write_text(demo_config_text(mailbox.port), encoding="utf-8")
        (folder / "reports").mkdir(exist_ok=True)
        (folder / "reports" / f"{year}.toml").write_text(demo_report_inputs(), encoding="utf-8")
        config = load_config(config_path, db_url=f"sqlite:///{folder / 'foi.db'}", env={})
        engine = open_engine(config.db_url)
        migrate(engine)
        app = App(config, engine)
        _simulate(app, config, year, cases, seed, result, tick)
        result.mails_received = mailbox.count
        result.files.append(("捕获的提醒邮件", folder / "mail"))
    _render(app, folder, year, result, tick)
    return result


def _simulate(app: App, config: Config, year: int, cases: int, seed: int, result: DemoResult,
              tick: Progress) -> None:  # fmt: skip
    from foi_workflow.services.appeals import conclude, file
    from foi_workflow.services.cases import advance, intake
    from foi_workflow.services.delivery import deliver_outbox
    from foi_workflow.services.sweep import sweep

    rng = random.Random(seed)
    cal = app.calendar
    plans = plan_year(rng, cal, year, cases, list(CASEWORKERS))
    # The agenda: (date, order, kind, payload); intakes first on a day, then steps, then appeals.
    agenda: list[tuple[date, int, int, str, Any]] = []
    counter = 0
    for planned in plans:
        counter += 1
        heapq.heappush(agenda, (planned.received_on, 0, counter, "intake", planned))
    ids: dict[int, str] = {}
    plan: CasePlan
    day, last = date(year, 1, 1), date(year, 12, 31)
    total_days = (last - day).days + 1
    while day <= last:
        now = _morning(day)
        fired = sweep(app, now).transitions
        result.automatic += len(fired)
        for t in fired:  # a lapse is a decision too: its letter is served like any other
            if t.event.startswith("lapse_"):
                counter = _plan_service(app, agenda, day, counter, t.case_id, plan_service(rng))
        while agenda and agenda[0][0] == day:
            _, _, key, kind, payload = heapq.heappop(agenda)
            try:
                if kind == "intake":
                    plan = payload
                    change = intake(app, on=day, by=plan.intake["caseworker"], data=plan.intake, today=day)
                    ids[key] = change.case.id
                    counter = _schedule_next(agenda, cal, day, key, plan, 0, counter)
                elif kind == "step":
                    plan, index = payload
                    step = plan.steps[index]
                    change = advance(app, ids[key], step.event, on=day, by=plan.intake["caseworker"],
                                     data=step.data, today=day)  # fmt: skip
                    counter = _schedule_next(agenda, cal, day, key, plan, index + 1, counter)
                    if step.event == "decide":
                        counter = _plan_service(app, agenda, day, counter, ids[key], plan_service(rng))
                        appeal = plan_appeal(rng, step.data["outcome"])
                        if appeal:
                            counter += 1
                            when = day + timedelta(days=appeal["wait_days"])
                            heapq.heappush(agenda, (when, 2, counter, "appeal", (ids[key], appeal)))
                elif kind == "appeal":
                    case_id, appeal = payload
                    row = file(app, on=day, by="法制科", data={"kind": appeal["kind"], "case": case_id}, today=day)
                    if appeal["conclude_days"]:
                        counter += 1
                        when = day + timedelta(days=appeal["conclude_days"])
                        heapq.heappush(agenda, (when, 3, counter, "conclude", (row.id, appeal["result"])))
                elif kind == "conclude":
                    appeal_id, outcome = payload
                    conclude(app, appeal_id, on=day, by="法制科", data={"result": outcome}, today=day)
                else:
                    counter = _serve_step(app, agenda, rng, day, counter, kind, payload)
                result.events += 1
            except FoiError:
                # A plan step the case has moved past (e.g. the scheduler lapsed it first): skip it.
                continue
        deliver_outbox(app, now + timedelta(hours=1))
        tick("模拟一年的办理与提醒", (day - date(year, 1, 1)).days + 1, total_days)
        day += timedelta(days=1)
    result.cases = len(ids)
    result.mails_sent = deliver_outbox(app, _morning(last) + timedelta(hours=12)).sent


def _plan_service(app: App, agenda: list[tuple[date, int, int, str, Any]], day: date, counter: int, case_id: str,
                  plan: ServicePlan) -> int:  # fmt: skip
    """Issue the decision letter the day of the decision (numbers follow the letters' dates, as
    in the register of a real office) and plan its service."""
    from foi_workflow.services.notices import issue_notice

    number = issue_notice(app, case_id, "decision", by="zhangwei").number
    counter += 1
    heapq.heappush(agenda, (app.calendar.add_working_days(day, plan.sent_after) if plan.sent_after else day, 4,
                            counter, "serve", (case_id, plan, number)))  # fmt: skip
    return counter


def _serve_step(app: App, agenda: list[tuple[date, int, int, str, Any]], rng: random.Random, day: date,
                counter: int, kind: str, payload: Any) -> int:  # fmt: skip
    """Serve a case's decision letter, and record its delivery or return; a returned letter is
    posted again two working days later."""
    from foi_workflow.services.service import delivered, returned, serve

    case_id, plan, number = payload
    by = "zhangwei"
    if kind == "serve":
        serve(app, case_id, number, plan.method, on=day, by=by, today=day,
              tracking=f"EMS{rng.randint(10**9, 10**10 - 1)}CN" if plan.method == "post" else None)  # fmt: skip
        when = app.calendar.add_working_days(day, plan.delivered_after) if plan.delivered_after else day
        counter += 1
        heapq.heappush(agenda, (when, 5, counter, "delivered", (case_id, plan, number)))
    elif plan.returned:
        returned(app, case_id, number, on=day, by=by, reason=rng.choice(RETURN_REASONS), today=day)
        again = ServicePlan("post", 0, rng.randint(1, 4), returned=False)
        counter += 1
        heapq.heappush(agenda, (app.calendar.add_working_days(day, 2), 4, counter, "serve", (case_id, again, number)))
    else:
        delivered(app, case_id, number, on=day, by=by, today=day)
    return counter


def _schedule_next(agenda: list[tuple[date, int, int, str, Any]], cal: Any, day: date, key: int,
                   plan: CasePlan, index: int, counter: int) -> int:  # fmt: skip
    if index >= len(plan.steps):
        return counter
    when = cal.add_working_days(day, plan.steps[index].wait)
    heapq.heappush(agenda, (when, 1, key, "step", (plan, index)))
    return counter


def _render(app: App, folder: Path, year: int, result: DemoResult, tick: Progress) -> None:
    from sqlalchemy import select
    from sqlmodel import Session, col

    from foi_workflow.adapters.models import Case, Notice
    from foi_workflow.adapters.report_render import render
    from foi_workflow.services.export import export_to
    from foi_workflow.services.notices import issue_notice, render_stored
    from foi_workflow.services.report import build_report

    notices_dir = folder / "notices"
    notices_dir.mkdir(exist_ok=True)
    with Session(app.engine) as s:
        decided = list(s.scalars(select(Case).where(col(Case.state) == "decided").order_by(col(Case.id))))
    picks: list[tuple[date, str, str]] = []
    for wanted in ("granted", "withheld.third_party_rights", "other.correction_lapsed", "partially_granted"):
        match = next((c for c in decided if c.outcome == wanted), None)
        if match and match.decided_on is not None:
            picks.append((match.decided_on, match.id, "decision"))
    # The decision letters were issued, in date order, when the demo served them through the
    # year; one issued only now would take a number after letters dated later (the register
    # must read in order), so the demo renders what it issued and issues only what is missing.
    picks.sort()
    formats = ("txt", "pdf", "docx")
    for done, (_, case_id, kind) in enumerate(picks, 1):
        with Session(app.engine) as s:
            stored = s.scalars(select(Notice).where(col(Notice.case_id) == case_id, col(Notice.kind) == kind)).first()
        notice = stored or issue_notice(app, case_id, kind, by="zhangwei")
        for fmt in formats:
            path = notices_dir / f"{case_id}-{kind}.{fmt}"
            write_private(path, render_stored(app, notice, fmt))
            result.files.append((f"告知书 {case_id} {kind} ({fmt})", path))
        tick("生成告知书", done, len(picks))
    report_dir = folder / "report"
    report_dir.mkdir(exist_ok=True)
    report = build_report(app, year, agency=None, as_of=date(year + 1, 1, 31))
    result.balanced = report.figures.balanced
    report_formats = ("md", "html", "xlsx", "docx", "pdf", "json")
    for done, fmt in enumerate(report_formats, 1):
        content = render(report, fmt)
        path = report_dir / f"{year}-annual-report.{fmt}"
        write_private(path, content)
        result.files.append((f"{year}年度报告 ({fmt})", path))
        tick("生成年度报告", done, len(report_formats))
    events_path = folder / "events.jsonl"
    with private_output(events_path) as raw, io.TextIOWrapper(raw, encoding="utf-8") as handle:
        export_to(app, handle)
    result.files.append(("事件日志（可 foi import）", events_path))
    result.files.insert(0, ("数据库", folder / "foi.db"))
    result.files.insert(1, ("配置文件", folder / "foi.toml"))
