"""Who may do what on a shared PostgreSQL database (SPEC §13), with real logins: agency
separation through `foi` and through plain SQL, the actor recorded by the database, the
append-only log, the approval of extensions and of undoing a decision, `foi verify`, and
`foi admin user`. Runs in both passes of the suite: it brings its own database."""

from __future__ import annotations

import json
import tomllib
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from tests.access_helpers import CONFIG, Deployment, deployment, log_state, new_case, refused_as
from tests.cli_helpers import show

ROLES = ("cw_a", "ap_a", "cw_b", "ap_b", "office", "auditor")


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Deployment]:
    with deployment(tmp_path_factory.mktemp("shared")) as shared:
        yield shared


def test_a_caseworker_neither_sees_nor_changes_another_agencys_case_through_foi(world: Deployment) -> None:
    case_a = new_case(world, "cw_a")
    assert show(world.foi("ap_a"), case_a)["state"] == "received"
    for who in ("cw_b", "ap_b"):
        refused_as(world, who, "E-NOT-FOUND", "show", case_a)
        refused_as(world, who, "E-NOT-FOUND", "consult", case_a, "--party", "某公司")
        refused_as(world, who, "E-NOT-FOUND", "decide", case_a, "--outcome", "granted")
        refused_as(world, who, "E-NOT-FOUND", "notice", case_a, "acknowledgement")
        refused_as(world, who, "E-NOT-FOUND", "appeal", "file", "--kind", "review", "--case", case_a)
        assert case_a not in world.foi(who).ok("list --format json")
    refused_as(world, "cw_b", "E-PERMISSION", *f"{INTAKE_ARGS} --agency a".split())


INTAKE_ARGS = "intake --applicant 王五 --applicant-type natural_person --channel online --request 文件 --on 2024-03-01"


def test_plain_sql_as_another_agency_sees_nothing_and_writes_nothing(world: Deployment) -> None:
    case_a = new_case(world, "cw_a")
    world.foi("cw_a").ok(f"notice {case_a} acknowledgement")
    own = {t: world.sql("owner", f"SELECT count(*) FROM {t}")[0][0] for t in ("foi_case", "event", "notice")}
    assert all(own.values())
    for table in ("foi_case", "event", "notice", "appeal", "outbox", "counter"):
        assert world.sql("cw_b", f"SELECT count(*) FROM {table} WHERE true")[0][0] == 0 or table == "foi_case"
    seen = world.sql("cw_b", "SELECT id FROM foi_case")
    assert all(not row[0].startswith("a-") for row in seen)
    before = log_state(world)
    assert world.sql("cw_b", "UPDATE foi_case SET state = 'decided' WHERE id = %s RETURNING id", (case_a,)) == []
    assert world.sql("cw_b", "DELETE FROM outbox RETURNING id") == []
    assert "row-level security" in world.refused(
        "cw_b", """INSERT INTO event (case_id, event, "on", "by", recorded_at, data)
                   VALUES (%s, 'decide', '2024-03-05', 'x', now(), '{"outcome": "granted"}')""", (case_a,))
    assert "row-level security" in world.refused(
        "cw_b", """INSERT INTO foi_case (id, agency, state, applicant, applicant_type, channel, contact, phone,
                   id_number, request, caseworker, received_on, reply_due_provisional, extended_days, voided,
                   last_event_on, updated_at, version) VALUES ('a-fake', 'a', 'received', 'x', 'other', 'post',
                   '', '', '', 'x', 'x', '2024-03-01', false, 0, false, '2024-03-01', now(), 1)""")
    assert log_state(world) == before


def test_no_login_but_the_owner_may_update_delete_or_truncate_the_event_log(world: Deployment) -> None:
    case_a = new_case(world, "cw_a")
    before = log_state(world)
    for who in ROLES:
        for statement in ("UPDATE event SET \"on\" = '2024-01-01'", "DELETE FROM event", "TRUNCATE event"):
            assert "permission denied" in world.refused(who, statement)
    # A grant that slipped in does not open the log: the trigger still refuses.
    world.sql("owner", "GRANT UPDATE, DELETE ON event TO foi_caseworker")
    try:
        assert "只能追加" in world.refused("cw_a", "UPDATE event SET data = '{}' WHERE case_id = %s", (case_a,))
        assert "只能追加" in world.refused("cw_a", "DELETE FROM event WHERE case_id = %s", (case_a,))
    finally:
        world.sql("owner", "REVOKE UPDATE, DELETE ON event FROM foi_caseworker")
    assert log_state(world) == before


def test_the_auditor_reads_everything_and_changes_nothing(world: Deployment) -> None:
    case_a, case_b = new_case(world, "cw_a"), new_case(world, "cw_b", agency="b")
    assert world.sql("auditor", "SELECT count(*) FROM foi_case") == world.sql("owner", "SELECT count(*) FROM foi_case")
    assert world.sql("auditor", "SELECT count(*) FROM event") == world.sql("owner", "SELECT count(*) FROM event")
    assert show(world.foi("auditor"), case_a)["id"] == case_a and show(world.foi("auditor"), case_b)["id"] == case_b
    listed = {c["id"] for c in json.loads(world.foi("auditor").ok("list --format json"))}
    assert {case_a, case_b} <= listed
    for statement in ("UPDATE foi_case SET state = 'decided'", "DELETE FROM foi_case", "UPDATE person SET name = 'x'",
                      "INSERT INTO agency (code, name, created_at) VALUES ('z', 'z', now())"):  # fmt: skip
        assert "permission denied" in world.refused("auditor", statement)
    refused_as(world, "auditor", "E-PERMISSION", "decide", case_a, "--outcome", "granted")
    refused_as(world, "auditor", "E-PERMISSION", *INTAKE_ARGS.split())


def test_the_office_runs_the_consolidated_report_and_closes_the_year(world: Deployment) -> None:
    new_case(world, "cw_a", on="2023-11-01")
    new_case(world, "cw_b", on="2023-11-02", agency="b")
    office = world.foi("office")
    report = json.loads(office.ok("report 2023 --all-agencies --format json"))
    assert json.dumps(report, ensure_ascii=False).count("2023") >= 1
    assert "结转" in office.ok("year close 2023 --all-agencies --on 2024-01-05")
    carried = world.sql("owner", "SELECT DISTINCT \"by\" FROM event WHERE event = 'carry_over'")
    assert carried == [(world.logins["office"],)]
    assert world.sql("owner", "SELECT DISTINCT \"by\" FROM year_close") == [(world.logins["office"],)]
    refused_as(world, "office", "E-PERMISSION", *INTAKE_ARGS.split())
    assert "row-level security" in world.refused(
        "office", """INSERT INTO event (case_id, event, "on", "by", recorded_at, data)
                     SELECT id, 'decide', '2024-03-05', 'x', now(), '{"outcome": "granted"}' FROM foi_case LIMIT 1""")


def test_the_recorded_actor_is_the_login_and_by_is_refused(world: Deployment) -> None:
    cw = world.foi("cw_a")
    case_a = new_case(world, "cw_a")
    cw.ok(f"consult {case_a} --party 某公司 --on 2024-03-04")
    cw.ok(f"notice {case_a} consultation")
    refused_as(world, "cw_a", "E-ACTOR", "consultation-reply", case_a, "--opinion", "agree", "--by", "王主任")
    cw.ok(f"consultation-reply {case_a} --opinion agree --on 2024-03-06 --by {world.logins['cw_a']}")
    events = show(cw, case_a)["events"]
    assert {e["by"] for e in events} == {world.logins["cw_a"]}
    assert show(cw, case_a)["caseworker"] == world.logins["cw_a"]
    register = json.loads(world.foi("office").ok("register 2024 --format json"))
    assert {r["by"] for r in register if r["case"] == case_a} == {world.logins["cw_a"]}
    # Plain SQL cannot sign as someone else either, nor can SET ROLE change who the login is.
    stamped = world.sql(
        "cw_a", """INSERT INTO event (case_id, event, "on", "by", recorded_at, data)
                   VALUES (%s, 'assign', '2024-03-07', '王主任', now(), '{"caseworker": "x"}') RETURNING "by" """,
        (case_a,), first="SET ROLE foi_caseworker")  # fmt: skip
    assert stamped == [(world.logins["cw_a"],)]
    world.foi("owner").ok("rebuild")  # the projection catches up with that row


def test_a_caseworkers_extension_waits_for_an_approver_of_that_agency(world: Deployment) -> None:
    case_a = new_case(world, "cw_a")
    due = show(world.foi("cw_a"), case_a)["reply_due"]
    out = world.foi("cw_a").ok(f"extend {case_a} --days 10 --reason 需调取归档资料 --on 2024-03-08")
    assert "延期申请" in out
    assert show(world.foi("cw_a"), case_a)["reply_due"] == due  # no effect on the clock
    mail = world.sql("owner", "SELECT to_addr, subject FROM outbox WHERE case_id = %s", (case_a,))
    assert mail == [("wang@a.example.gov.cn", f"延期审批：案件 {case_a} 申请延长答复期限 10 个工作日")]
    refused_as(world, "cw_a", "E-PERMISSION", "approve", case_a)
    refused_as(world, "ap_b", "E-NOT-FOUND", "approve", case_a)
    refused_as(world, "office", "E-PERMISSION", "approve", case_a)
    refused_as(world, "cw_a", "E-ACTOR", "extend", case_a, "--days", "5", "--approved-by", "王主任")
    assert "须由审批人" in world.refused(
        "cw_a", """INSERT INTO event (case_id, event, "on", "by", recorded_at, data)
                   VALUES (%s, 'extend', '2024-03-08', 'x', now(), '{"days": 10, "approved_by": "王主任"}')""",
        (case_a,))  # fmt: skip
    world.foi("ap_a").ok(f"approve {case_a}")
    after = show(world.foi("cw_a"), case_a)
    assert after["reply_due"] > due and after["extended_days"] == 10
    extend = after["events"][-1]
    assert (extend["event"], extend["on"], extend["by"]) == ("extend", "2024-03-08", world.logins["ap_a"])
    assert extend["data"]["approved_by"] == world.logins["ap_a"]
    refused_as(world, "ap_a", "E-RULE", "approve", case_a)  # nothing left to approve
    letter = world.foi("cw_a").ok(f"notice {case_a} extension --format txt")
    assert "负责人王主任同意" in letter and "10个工作日" in letter


def test_a_rejected_request_ends_without_an_extension(world: Deployment) -> None:
    case_a = new_case(world, "cw_a")
    due = show(world.foi("cw_a"), case_a)["reply_due"]
    world.foi("cw_a").ok(f"extend {case_a} --days 5 --on 2024-03-05")
    refused_as(world, "cw_a", "E-RULE", "extend", case_a, "--days", "5", "--on", "2024-03-06")  # one at a time
    refused_as(world, "cw_a", "E-PERMISSION", "reject", case_a, "--reason", "不必", "--on", "2024-03-06")
    world.foi("ap_a").ok(f"reject {case_a} --reason 期限内可以答复 --on 2024-03-06")
    refused_as(world, "ap_a", "E-RULE", "approve", case_a)
    after = show(world.foi("cw_a"), case_a)
    assert after["reply_due"] == due and after["extended_days"] == 0
    assert [e["event"] for e in after["events"]][-2:] == ["request_extension", "reject_extension"]


def test_an_approver_extends_in_one_step_and_signs_it(world: Deployment) -> None:
    case_b = new_case(world, "cw_b", agency="b")
    world.foi("ap_b").ok(f"extend {case_b} --days 5 --on 2024-03-05")
    last = show(world.foi("cw_b"), case_b)["events"][-1]
    assert last["event"] == "extend" and last["data"]["approved_by"] == world.logins["ap_b"]


def test_voiding_or_correcting_a_decision_needs_an_approver(world: Deployment) -> None:
    case_a = new_case(world, "cw_a")
    world.foi("cw_a").ok(f"decide {case_a} --outcome granted --on 2024-03-05")
    refused_as(world, "cw_a", "E-PERMISSION", "void", case_a, "2", "--reason", "记错了")
    refused_as(world, "cw_a", "E-PERMISSION", "correct", case_a, "2", "--outcome", "partially_granted",
               "--reason", "记错了")  # fmt: skip
    assert "须由审批人" in world.refused(
        "cw_a", """INSERT INTO event (case_id, event, "on", "by", recorded_at, data)
                   VALUES (%s, 'void', CURRENT_DATE, 'x', now(), '{"target": 2, "reason": "x"}')""", (case_a,))
    world.foi("ap_a").ok(f"correct {case_a} 2 --outcome partially_granted --reason 记错了")
    assert show(world.foi("cw_a"), case_a)["outcome"] == "partially_granted"
    # Voiding an event that is not a decision stays the caseworker's own business.
    other = new_case(world, "cw_a")
    world.foi("cw_a").ok(f"consult {other} --party 某公司 --on 2024-03-04")
    world.foi("cw_a").ok(f"void {other} 2 --reason 记错了")


def test_verify_finds_a_case_row_altered_behind_the_programs_back(world: Deployment) -> None:
    from foi_workflow.config import load_config
    from foi_workflow.services.app import App
    from foi_workflow.services.verify import queue_verify_report

    case_a = new_case(world, "cw_a")
    assert world.foi("office").ok("verify").strip() == "案件表与事件日志一致"
    world.sql("owner", "UPDATE foi_case SET reply_due = '2030-01-01' WHERE id = %s", (case_a,))
    found = world.foi("office")("verify")
    assert found.exit_code == 1 and f"{case_a}: reply_due" in found.stdout
    assert world.foi("cw_b")("verify").exit_code == 0  # another agency's case is not theirs to see
    app = App(load_config(str(world.folder / "foi.toml"), db_url=world.url_of("cw_a")))
    assert queue_verify_report(app, datetime(2024, 3, 9, 8, 30, tzinfo=UTC)) >= 1
    mail = world.sql("owner", "SELECT to_addr, body FROM outbox WHERE key LIKE 'verify:%%'")
    assert [m[0] for m in mail] == ["office@example.gov.cn"] and case_a in mail[0][1]
    world.foi("owner").ok("rebuild")
    assert world.foi("office")("verify").exit_code == 0


def test_the_scheduler_runs_as_its_own_login_and_mails_the_registered_caseworker(world: Deployment) -> None:
    case_a = new_case(world, "cw_a", on="2024-05-06")
    due = show(world.foi("cw_a"), case_a)["reply_due"]
    world.foi("sched").ok("scheduler", "run", "--once", "--now", f"{due}T09:00")
    mail = world.sql("owner", "SELECT DISTINCT to_addr FROM outbox WHERE case_id = %s", (case_a,))
    assert mail == [("zhang@a.example.gov.cn",)]


def test_admin_user_lists_changes_and_revokes_people(world: Deployment) -> None:
    owner = world.foi("owner")
    people = {p["login"]: p for p in json.loads(owner.ok("admin user list --format json"))}
    assert people[world.logins["ap_a"]]["role"] == "approver"
    assert people[world.logins["office"]]["agencies"] == ["a", "b"]
    refused_as(world, "cw_a", "E-PERMISSION", "admin", "user", "list")
    refused_as(world, "ap_a", "E-PERMISSION", "admin", "user", "add", "someone", "--name", "某人", "--agency", "a",
               "--role", "auditor")  # fmt: skip
    refused_as(world, "owner", "E-CONFIG", "admin", "user", "set", world.logins["cw_b"], "--agency", "nowhere")
    login = world.logins["auditor"]
    owner.ok(f"admin user set {login} --role caseworker --agency b")
    assert world.foi("auditor").ok("list --format json") is not None
    owner.ok(f"admin user remove {login}")
    assert "permission denied" in world.refused("auditor", "SELECT count(*) FROM foi_case")
    refused_as(world, "auditor", "E-PERMISSION", *INTAKE_ARGS.split(), "--agency", "b")
    removed = {p["login"]: p for p in json.loads(owner.ok("admin user list --format json"))}[login]
    assert removed["active"] is False and removed["name"] == "审计员" and removed["agencies"] == []
    owner.ok(f"admin user add {login} --name 审计员 --agency a,b --role auditor")  # back as it was


def test_running_init_again_is_harmless(world: Deployment) -> None:
    case_a = new_case(world, "cw_a")
    before = log_state(world)
    world.foi("owner").ok("init")
    assert log_state(world) == before
    refused_as(world, "cw_b", "E-NOT-FOUND", "show", case_a)


def test_by_and_approved_by_stay_on_sqlite_and_admin_is_refused_there(tmp_path: Path) -> None:
    from tests.conftest import Foi

    foi = Foi(f"sqlite:///{tmp_path / 'own.db'}", tmp_path)
    foi.ok("init")
    case = foi.ok(f"{INTAKE_ARGS} --by 张三").strip()
    refused_line = foi(f"extend {case} --days 5 --on 2024-03-04")
    assert refused_line.exit_code == 1 and "--approved-by" in refused_line.stderr
    foi.ok(f"extend {case} --days 5 --approved-by 王主任 --on 2024-03-04 --by 李四")
    foi.ok(f"decide {case} --outcome granted --on 2024-03-05")
    foi.ok(f"void {case} 3 --reason 记错了")  # no approval on SQLite
    events = show(foi, case)["events"]
    assert [(e["event"], e["by"]) for e in events][:2] == [("receive", "张三"), ("extend", "李四")]
    admin = foi("admin user list")
    assert admin.exit_code == 1 and admin.stderr.startswith("错误[E-BACKEND]")


def test_the_migration_brings_an_existing_database_under_access_control(tmp_path: Path) -> None:
    from alembic import command

    from foi_workflow.adapters.db import _alembic_config, open_engine
    from foi_workflow.config import parse_config
    from foi_workflow.services.app import App
    from foi_workflow.services.transfer import import_lines
    from tests.conftest import Foi

    def older_database_with_cases(url: str) -> None:
        engine = open_engine(url)
        command.upgrade(_alembic_config(engine), "head")  # cases recorded by today's import, then
        lines = [
            {"case": "a-2024-00001", "event": "receive", "on": "2024-03-01", "applicant": "王五", "agency": "a",
             "applicant_type": "natural_person", "channel": "post", "request": "文件", "by": "老张"},
            {"case": "b-2024-00001", "event": "receive", "on": "2024-03-01", "applicant": "赵六", "agency": "b",
             "applicant_type": "natural_person", "channel": "post", "request": "文件", "by": "老李"},
        ]  # fmt: skip
        config = parse_config(tomllib.loads(CONFIG), base_dir=tmp_path, env={})
        import_lines(App(config, engine), [json.dumps(x, ensure_ascii=False) for x in lines], by="管理员")
        command.downgrade(_alembic_config(engine), "0003")  # the schema before access control
        engine.dispose()
        older = Foi(url, tmp_path, tmp_path / "foi.toml")("consult", "a-2024-00001", "--party", "某公司")
        assert older.exit_code == 1 and "foi init" in older.stderr

    with deployment(tmp_path, before=older_database_with_cases) as world:  # its `foi init` upgrades
        assert [c["id"] for c in json.loads(world.foi("cw_b").ok("list --format json"))] == ["b-2024-00001"]
        refused_as(world, "cw_b", "E-NOT-FOUND", "show", "a-2024-00001")
        assert show(world.foi("cw_a"), "a-2024-00001")["events"][0]["by"] == "老张"  # history keeps its names
        assert "permission denied" in world.refused("cw_a", "DELETE FROM event")


def test_service_records_and_proofs_of_delivery_keep_to_their_agency(world: Deployment) -> None:
    case_a = new_case(world, "cw_a")
    cw_a = world.foi("cw_a")
    cw_a.ok(f"decide {case_a} --outcome granted --on 2024-03-05")
    issued = cw_a(f"notice {case_a} decision --serve in_person --on 2024-03-05")
    assert issued.exit_code == 0, issued.stderr
    number = issued.stderr.strip().splitlines()[-1].split("：", 1)[1]
    proof = world.folder / "送达回证.pdf"
    proof.write_bytes(b"%PDF-1.4 signed for by the applicant")
    cw_a.ok("delivered", case_a, "--letter", number, "--on", "2024-03-06", "--proof", str(proof))
    assert world.sql("owner", "SELECT count(*) FROM service_proof WHERE case_id = %s", (case_a,))[0][0] == 1
    assert world.sql("auditor", "SELECT count(*) FROM service_proof WHERE case_id = %s", (case_a,))[0][0] == 1
    assert world.sql("cw_b", "SELECT count(*) FROM service_proof WHERE case_id = %s", (case_a,))[0][0] == 0
    refused_as(world, "cw_b", "E-NOT-FOUND", "returned", case_a, "--letter", number, "--reason", "查无此人")
    refused_as(world, "cw_b", "E-NOT-FOUND", "serve", case_a, "--letter", number, "--method", "post")
    assert "row-level security" in world.refused(
        "cw_b", """INSERT INTO service_proof (case_id, letter, sha256, name, content, "by", created_at)
                   VALUES (%s, %s, 'x', 'x.pdf', '\\x00', 'x', now())""", (case_a, number))
