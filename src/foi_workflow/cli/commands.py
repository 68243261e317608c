"""Every top-level `foi` command: where it lives and its one-line help, written once here.

`foi --help` lists these lines without importing the command modules (so it stays fast); each
command takes its own help from here too (`command_help`), followed by any details of its own.
"""

from __future__ import annotations

from foi_workflow.domain.periods import EXTENSION_CAP

# command name -> ("module:attribute" under foi_workflow.cli, one-line help)
COMMANDS: dict[str, tuple[str, str]] = {
    "init": ("setup:init_cmd", "创建或升级数据库 / create or migrate the database"),
    "config": ("setup:config_group", "检查配置（如行政复议机关）/ check the configuration"),
    "intake": ("cases:intake_cmd", "登记申请（receive 事件），打印案件编号 / register an application"),
    "assign": ("cases:assign_cmd", "移交给其他经办人 / hand the case to another caseworker"),
    "request-correction": ("cases:request_correction_cmd", "告知补正（一次性告知，第三十条）/ ask for a correction"),
    "receive-correction": ("cases:receive_correction_cmd", "收到补正，答复期限重新起算 / correction received"),
    "consult": ("cases:consult_cmd", "征求第三方或其他机关意见，暂停计时 / consult a third party"),
    "consultation-reply": ("cases:consultation_reply_cmd", "收到征求意见回复，恢复计时 / consultation reply"),
    "extend": ("cases:extend_cmd", f"延长答复期限（合计不超过{EXTENSION_CAP}个工作日）/ extend the reply period"),
    "set-reasonable-period": ("cases:set_reasonable_period_cmd", "确定延迟答复的合理期限 / set a later due date"),
    "fee-notice": ("cases:fee_notice_cmd", "发出收费通知，暂停计时 / send a fee notice"),
    "fee-paid": ("cases:fee_paid_cmd", "申请人已缴费，恢复计时 / the fee was paid"),
    "decide": ("cases:decide_cmd", "作出答复决定 / decide the case"),
    "withdraw": ("cases:withdraw_cmd", "申请人撤回申请 / the applicant withdrew"),
    "serve": ("service:serve_cmd", "记录告知书的送达（直接、委托、邮寄、电子）/ serve a letter"),
    "delivered": ("service:delivered_cmd", "记录告知书已签收或妥投，可附送达回证 / a letter was delivered"),
    "returned": ("service:returned_cmd", "记录告知书被退回，可再次送达 / a letter came back"),
    "consent": ("service:consent_cmd", "记录申请人同意电子送达及其地址 / consent to electronic service"),
    "void": ("corrections:void_cmd", "作废记错的事件（作废第 1 个即整案作废）/ void an event"),
    "correct": ("corrections:correct_cmd", "更正记错的事件（日期或内容）/ correct an event"),
    "list": ("cases:list_cmd", "列出案件（电话、证件号默认遮蔽）/ list cases"),
    "show": ("cases:show_cmd", "查看案件详情与期限推算（电话、证件号默认遮蔽）/ show a case"),
    "outcomes": ("outcomes:outcomes_cmd", "办理结果代码一览 / the outcome codes"),
    "rebuild": ("cases:rebuild_cmd", "由事件日志重建案件表 / rebuild the case table from the log"),
    "appeal": ("appeals:appeal_group", "行政复议与行政诉讼 / appeals (review, litigation)"),
    "import": ("transfer:import_cmd", "导入事件文件（JSON Lines，全部或全不）/ import events"),
    "export": ("transfer:export_cmd", "导出全部记录（可再导入）/ export everything"),
    "backup": ("transfer:backup_cmd", "备份整个数据库到文件 / back up the database"),
    "restore": ("transfer:restore_cmd", "把备份恢复到新建的空数据库 / restore a backup"),
    "ledger": ("ledger:ledger_group", "登记台账的导出与导入 / the application ledger"),
    "notice": ("notices:notice_cmd", "生成告知书 / render a notice letter"),
    "register": ("register:register_cmd", "发文登记簿 / the register of letters"),
    "fee": ("notices:fee_group", "信息处理费 / information processing fees"),
    "report": ("report:report_group", "政府信息公开工作年度报告 / the annual report"),
    "year": ("report:year_group", "年度结转 / close a year"),
    "calendar": ("calendar:calendar_group", "工作日历 / the working-day calendar"),
    "scheduler": ("scheduler:scheduler_group", "期限调度与邮件提醒 / deadline scheduler"),
    "outbox": ("scheduler:outbox_cmd", "待发与失败邮件 / the mail outbox"),
    "workflow": ("workflow:workflow_group", "办理流程图示 / the workflow diagrams"),
    "demo": ("demo:demo_cmd", "生成一年的示例案件并演示全流程 / a year of sample cases, end to end"),
}
# Each line fits one line of `foi --help` (80 columns); a command says more in its own help.


def command_help(name: str, details: str = "") -> str:
    """The help of top-level command `name`: its line above, then `details` if any."""
    line = COMMANDS[name][1]
    return f"{line}\n\n{details}" if details else line
