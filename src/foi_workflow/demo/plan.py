"""A realistic, seeded year of applications for `foi demo`: who applies, about what, and what
the caseworker will do on which working day. Pure: a random generator and a calendar in,
plans out; the demo service plays them against the real workflow, with the real scheduler
firing every automatic transition the plans leave to it."""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from foi_workflow.domain.calendar import WorkCalendar
from foi_workflow.domain.fees import quote
from foi_workflow.domain.vocabulary import ApplicantType, Channel, FeeBasis, Outcome

SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘蒋蔡余杜叶程苏魏吕丁任沈姚"
GIVEN = "伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超秀兰霞平刚桂英建华玉兰萍红玲志强海燕晓东文华国庆春梅"
PLACES = ["东城", "西湖", "南山", "北塘", "江滨", "云岭", "青石", "柳溪", "梅园", "金桥"]
ORG_KINDS: dict[ApplicantType, list[str]] = {
    ApplicantType.COMMERCIAL: [
        "科技有限公司",
        "建筑工程有限公司",
        "商贸有限公司",
        "房地产开发有限公司",
        "物流有限公司",
    ],
    ApplicantType.RESEARCH: ["大学公共管理学院", "社会科学院", "城市规划研究院", "环境科学研究所"],
    ApplicantType.SOCIAL_ORG: ["环保志愿者协会", "消费者权益保护协会", "社区发展基金会", "助残服务中心"],
    ApplicantType.LEGAL_SERVICE: ["律师事务所", "法律援助中心", "公证处"],
    ApplicantType.OTHER: ["村民委员会", "业主委员会", "个体工商户联合会"],
}
TOPICS = [
    "{year}年度{place}街道老旧小区改造项目的资金使用明细",
    "{place}片区控制性详细规划及其批复文件",
    "{place}路拓宽工程的征收补偿安置方案",
    "{year}年度本机关“三公”经费预算及决算说明",
    "{place}河道整治工程的环境影响评价批复",
    "本机关作出的编号为{num}号行政处罚决定书",
    "{place}农贸市场改造项目的招标文件及中标结果",
    "{year}年度城乡居民最低生活保障资金发放情况",
    "{place}地块国有土地使用权出让合同",
    "本机关关于{place}垃圾中转站选址的会议纪要",
    "{year}年第{num}号信访事项的处理意见",
    "{place}小学扩建工程的立项批复和预算",
]
CORRECTION_ITEMS = [
    "请明确所需信息的名称、文号或者便于查询的其他特征性描述",
    "请说明所需信息的形成时间范围",
    "请补充申请人身份证明及联系方式",
]
THIRD_PARTIES = ["{place}置业有限公司", "{place}建设集团有限公司", "市自然资源和规划局", "市生态环境局"]

# Decision outcomes chosen by hand, with their weights.
OUTCOME_WEIGHTS: list[tuple[Outcome, int]] = [
    (Outcome.GRANTED, 40),
    (Outcome.PARTIALLY_GRANTED, 12),
    (Outcome.WITHHELD_STATE_SECRET, 1),
    (Outcome.WITHHELD_PROHIBITED_BY_LAW, 1),
    (Outcome.WITHHELD_THREE_SAFETIES_ONE_STABILITY, 1),
    (Outcome.WITHHELD_THIRD_PARTY_RIGHTS, 3),
    (Outcome.WITHHELD_INTERNAL_AFFAIRS, 2),
    (Outcome.WITHHELD_PROCESS_INFORMATION, 3),
    (Outcome.WITHHELD_ENFORCEMENT_CASE_FILE, 2),
    (Outcome.WITHHELD_ADMINISTRATIVE_INQUIRY, 2),
    (Outcome.UNAVAILABLE_NOT_HELD, 14),
    (Outcome.UNAVAILABLE_NEEDS_CREATION, 3),
    (Outcome.NOT_PROCESSED_PETITION_OR_COMPLAINT, 3),
    (Outcome.NOT_PROCESSED_DUPLICATE, 2),
    (Outcome.NOT_PROCESSED_PUBLICATION, 2),
    (Outcome.NOT_PROCESSED_EXCESSIVE, 1),
    (Outcome.NOT_PROCESSED_CONFIRM_OR_REISSUE, 1),
]
# Applicants of each type, in the order of `ApplicantType` (table 3's columns).
TYPE_WEIGHTS: list[tuple[ApplicantType, int]] = list(zip(ApplicantType, (62, 14, 4, 4, 9, 7), strict=True))


@dataclass(frozen=True)
class Step:
    """One caseworker action: `event` after `wait` working days from the previous step."""

    event: str
    wait: int
    data: dict[str, Any] = field(default_factory=dict)


@dataclass
class CasePlan:
    received_on: date
    intake: dict[str, Any]
    steps: list[Step]
    appeal: dict[str, Any] | None = None  # {"kind", "wait_days", "result", "conclude_days"}


def _pick(rng: random.Random, weighted: list[tuple[Any, int]]) -> Any:
    items, weights = zip(*weighted, strict=True)
    return rng.choices(items, weights=weights)[0]


def _applicant(rng: random.Random, kind: ApplicantType) -> str:
    if kind is ApplicantType.NATURAL_PERSON:
        return rng.choice(SURNAMES) + "".join(rng.choice(GIVEN) for _ in range(rng.choice((1, 2))))
    return rng.choice(PLACES) + rng.choice(ORG_KINDS[kind])


def _working_days(cal: WorkCalendar, year: int) -> list[date]:
    day, out = date(year, 1, 1), []
    while day.year == year:
        if cal.is_working_day(day):
            out.append(day)
        day += timedelta(days=1)
    return out


def plan_year(rng: random.Random, cal: WorkCalendar, year: int, cases: int, caseworkers: list[str]) -> list[CasePlan]:
    """`cases` applications received on working days of `year`, each with its course."""
    days = _working_days(cal, year)
    plans = []
    for _ in range(cases):
        kind: ApplicantType = _pick(rng, TYPE_WEIGHTS)
        place = rng.choice(PLACES)
        received = rng.choice(days)
        intake = {
            "applicant": _applicant(rng, kind),
            "applicant_type": kind.value,
            "channel": rng.choice(list(Channel)).value,
            "request": rng.choice(TOPICS).format(year=year - rng.choice((0, 1)), place=place, num=rng.randint(1, 99)),
            "phone": f"1{rng.choice('3589')}{rng.randint(0, 999999999):09d}",
            "caseworker": rng.choice(caseworkers),
        }
        plans.append(CasePlan(received, intake, _course(rng, place)))
    plans.sort(key=lambda p: p.received_on)
    return plans


def _course(rng: random.Random, place: str) -> list[Step]:
    """What happens to one application; automatic lapses and silent replies are left to the scheduler."""
    roll = rng.random()
    steps: list[Step] = []
    opinion: str | None = None  # a consulted third party's answer
    if roll < 0.04:
        return [Step("withdraw", rng.randint(2, 10), {"reason": "申请人书面撤回申请"})]
    if roll < 0.16:
        late_notice = rng.random() < 0.1
        period = 15
        steps.append(
            Step(
                "request_correction",
                rng.randint(8, 9) if late_notice else rng.randint(2, 6),
                {"items": rng.choice(CORRECTION_ITEMS), "period": period},
            )
        )
        if rng.random() < 0.4:
            return steps  # never corrected: the scheduler lapses it (其他处理 1)
        steps.append(Step("receive_correction", rng.randint(2, period - 1)))
        if rng.random() < 0.2:
            steps.append(Step("decide", rng.randint(3, 15), _decide(Outcome.UNAVAILABLE_STILL_UNCLEAR.value)))
            return steps
    elif roll < 0.24:
        kind = "third_party" if rng.random() < 0.7 else "co_producer"
        party = rng.choice(THIRD_PARTIES).format(place=place)
        steps.append(Step("consult", rng.randint(3, 10), {"party": party, "kind": kind}))
        if rng.random() < 0.3:
            # Silence: the scheduler records consultation_reply none on day 16; decide afterwards.
            steps.append(Step("decide", 16 + rng.randint(1, 6), _decide(_decision(rng, consulted=True))))
            return steps
        reply = rng.choice(["agree", "object"])
        steps.append(Step("consultation_reply", rng.randint(3, 14), {"opinion": reply}))
        opinion = reply if kind == "third_party" else None  # a co-producer is no third party
    elif roll < 0.29:
        pages = rng.randint(35, 420)
        steps.append(
            Step(
                "fee_notice",
                rng.randint(3, 8),
                {"amount": quote(FeeBasis.PER_PAGE, pages).amount, "basis": "per_page", "quantity": pages},
            )
        )
        if rng.random() < 0.3:
            return steps  # unpaid: the scheduler lapses it (其他处理 2)
        steps.append(Step("fee_paid", rng.randint(2, 15)))
    if rng.random() < 0.12:
        steps.append(
            Step("extend", rng.randint(12, 17), {"days": rng.choice((5, 10, 15)), "approved_by": "办公室主任"})
        )
        steps.append(Step("decide", rng.randint(3, 8), _decide(_decision(rng), opinion)))
    elif rng.random() < 0.07:
        steps.append(Step("decide", rng.randint(22, 30), _decide(_decision(rng), opinion)))  # answered late
    else:
        steps.append(Step("decide", rng.randint(3, 19), _decide(_decision(rng), opinion)))
    return steps


# The reasons a caseworker writes where the letter must say why (`decide --note`).
REASONS: dict[Outcome, str] = {
    Outcome.PARTIALLY_GRANTED: "第2页所列个人身份信息，依据条例第十五条不予公开",
    Outcome.WITHHELD_STATE_SECRET: "经保密审查，该文件为依法确定的秘密级国家秘密",
    Outcome.WITHHELD_PROHIBITED_BY_LAW: "《中华人民共和国统计法》第三十九条：能够识别调查对象的资料应当保密",
    Outcome.WITHHELD_THREE_SAFETIES_ONE_STABILITY: "该信息涉及在建重要水利设施的安全防护布置",
    Outcome.WITHHELD_THIRD_PARTY_RIGHTS: "所涉合同附件载有供应商的报价构成，属于商业秘密",
    Outcome.WITHHELD_INTERNAL_AFFAIRS: "该信息为本机关内部人事考核材料",
    Outcome.WITHHELD_PROCESS_INFORMATION: "该信息为尚在讨论中的方案征求意见稿",
    Outcome.WITHHELD_ENFORCEMENT_CASE_FILE: "该信息为行政处罚案卷中的询问笔录",
    Outcome.WITHHELD_ADMINISTRATIVE_INQUIRY: "请持身份证明到不动产登记中心依法查询",
}


def _decide(outcome: str, opinion: str | None = None) -> dict[str, Any]:
    """A decision's data with its reasons, and consistent with a third party's answer (its
    consent leaves no ground to withhold on its account; disclosing over its objection would
    need a reason and a date the plan does not model)."""
    if opinion == "agree" and outcome == Outcome.WITHHELD_THIRD_PARTY_RIGHTS.value:
        outcome = Outcome.GRANTED.value
    elif opinion == "object" and outcome == Outcome.GRANTED.value:
        outcome = Outcome.WITHHELD_THIRD_PARTY_RIGHTS.value
    data: dict[str, Any] = {"outcome": outcome}
    reason = REASONS.get(Outcome(outcome))
    if reason:
        data["note"] = reason
    return data


def _decision(rng: random.Random, consulted: bool = False) -> str:
    if consulted and rng.random() < 0.4:
        return Outcome.WITHHELD_THIRD_PARTY_RIGHTS.value
    outcome: Outcome = _pick(rng, OUTCOME_WEIGHTS)
    return outcome.value


def plan_appeal(rng: random.Random, outcome: str) -> dict[str, Any] | None:
    """Some refusals are appealed: mostly review, some lawsuits."""
    refused = outcome == Outcome.PARTIALLY_GRANTED.value or outcome.startswith(("withheld.", "unavailable."))
    if not refused or rng.random() > 0.25:
        return None
    kind = _pick(rng, [("review", 7), ("litigation_direct", 2), ("litigation_after_review", 1)])
    return {
        "kind": kind,
        "wait_days": rng.randint(10, 50),
        "conclude_days": rng.randint(30, 70) if rng.random() < 0.6 else None,
        "result": _pick(rng, [("upheld", 6), ("corrected", 2), ("other", 2)]),
    }


@dataclass(frozen=True)
class ServicePlan:
    """How a decision letter reaches the applicant (SPEC §15): mostly by post, some in person;
    a few posted letters come back and are posted again."""

    method: str  # post | in_person
    sent_after: int  # working days from the decision to the letter going out
    delivered_after: int  # working days from posting to delivery (0: signed for on the spot)
    returned: bool  # the first posting comes back (address unknown, refused)


RETURN_REASONS = ("地址不详，无法投递", "收件人拒收", "逾期无人领取")


def plan_service(rng: random.Random) -> ServicePlan:
    in_person = rng.random() < 0.2
    return ServicePlan(
        method="in_person" if in_person else "post",
        sent_after=0 if rng.random() < 0.8 else rng.choice((1, 2, 3)),
        delivered_after=0 if in_person else rng.randint(1, 4),
        returned=not in_person and rng.random() < 0.06,
    )
