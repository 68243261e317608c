"""Every top-level `foi` command: where it lives and its one-line help, written once here.

`foi --help` lists these lines without importing the command modules (so it stays fast); each
command takes its own help from here too (`command_help`), followed by any details of its own.
"""

from __future__ import annotations

from foi_workflow.domain.periods import EXTENSION_CAP

# command name -> ("module:attribute" under foi_workflow.cli, one-line help)
COMMANDS: dict[str, tuple[str, str]] = {
    "init": ("setup:init_cmd", "创建或升级数据库"),
    "config": ("setup:config_group", "检查配置（如行政复议机关）"),
    "intake": ("cases:intake_cmd", "登记申请（receive 事件），打印案件编号"),
    "assign": ("cases:assign_cmd", "移交给其他经办人"),
    "request-correction": ("cases:request_correction_cmd", "告知补正（一次性告知，第三十条）"),
    "receive-correction": ("cases:receive_correction_cmd", "收到补正，答复期限重新起算"),
    "consult": ("cases:consult_cmd", "征求第三方或其他机关意见，暂停计时"),
    "consultation-reply": ("cases:consultation_reply_cmd", "收到征求意见回复，恢复计时"),
    "extend": ("access:extend_cmd", f"延长答复期限（合计不超过{EXTENSION_CAP}个工作日）"),
    "set-reasonable-period": ("cases:set_reasonable_period_cmd", "确定延迟答复的合理期限"),
    "fee-notice": ("cases:fee_notice_cmd", "发出收费通知，暂停计时"),
    "fee-paid": ("cases:fee_paid_cmd", "申请人已缴费，恢复计时"),
    "decide": ("cases:decide_cmd", "作出答复决定"),
    "withdraw": ("cases:withdraw_cmd", "申请人撤回申请"),
    "serve": ("service:serve_cmd", "记录告知书的送达（直接、委托、邮寄、电子）"),
    "delivered": ("service:delivered_cmd", "记录告知书已签收或妥投，可附送达回证"),
    "returned": ("service:returned_cmd", "记录告知书被退回，可再次送达"),
    "consent": ("service:consent_cmd", "记录申请人同意电子送达及其地址"),
    "void": ("corrections:void_cmd", "作废记错的事件（作废第 1 个即整案作废）"),
    "correct": ("corrections:correct_cmd", "更正记错的事件（日期或内容）"),
    "list": ("views:list_cmd", "列出案件（电话、证件号默认遮蔽）"),
    "show": ("views:show_cmd", "查看案件详情与期限推算（电话、证件号默认遮蔽）"),
    "outcomes": ("outcomes:outcomes_cmd", "办理结果代码一览"),
    "rebuild": ("cases:rebuild_cmd", "由事件日志重建案件表"),
    "appeal": ("appeals:appeal_group", "行政复议与行政诉讼"),
    "import": ("transfer:import_cmd", "导入事件文件（JSON Lines，全部或全不）"),
    "export": ("transfer:export_cmd", "导出全部记录（可再导入）"),
    "backup": ("transfer:backup_cmd", "备份整个数据库到文件"),
    "restore": ("transfer:restore_cmd", "把备份恢复到新建的空数据库"),
    "ledger": ("ledger:ledger_group", "登记台账的导出与导入"),
    "notice": ("notices:notice_cmd", "生成告知书"),
    "register": ("register:register_cmd", "发文登记簿"),
    "fee": ("notices:fee_group", "信息处理费"),
    "report": ("report:report_group", "政府信息公开工作年度报告"),
    "year": ("report:year_group", "年度结转"),
    "calendar": ("calendar:calendar_group", "工作日历"),
    "scheduler": ("scheduler:scheduler_group", "期限调度与邮件提醒"),
    "outbox": ("scheduler:outbox_cmd", "待发与失败邮件"),
    "workflow": ("workflow:workflow_group", "办理流程图示"),
    "shell": ("shell:shell_cmd", "交互式会话：命令与案件编号补全、历史，命令即时答复"),
    "approve": ("access:approve_cmd", "批准待审批的延期申请"),
    "reject": ("access:reject_cmd", "不批准延期申请"),
    "verify": ("access:verify_cmd", "核对案件表与事件日志"),
    "admin": ("access:admin_group", "人员与权限（PostgreSQL）"),
    "demo": ("demo:demo_cmd", "生成一年的示例案件并演示全流程"),
}
# Each line fits one line of `foi --help` (80 columns); a command says more in its own help.


def command_help(name: str, details: str = "") -> str:
    """The help of top-level command `name`: its line above, then `details` if any."""
    line = COMMANDS[name][1]
    return f"{line}\n\n{details}" if details else line
