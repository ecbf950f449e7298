"""Display labels for catalog and case codes, marked for translation.

The domain packages keep Chinese labels for their own use (state_label, action_label …);
listing them here puts them into the message catalog so templates can translate them
with ``_(value)``.
"""

from __future__ import annotations

from tongban.cases.rules import SPECIAL_PROCEDURE_KINDS
from tongban.web.i18n import _

ITEM_TYPES = {
    "01": _("行政许可"),
    "02": _("行政处罚"),
    "03": _("行政强制"),
    "04": _("行政征收"),
    "05": _("行政给付"),
    "06": _("行政检查"),
    "07": _("行政确认"),
    "08": _("行政奖励"),
    "09": _("行政裁决"),
    "10": _("其他行政权力"),
    "20": _("公共服务"),
}
ONLINE_DEPTH = {
    "offline": _("仅窗口办理"),
    "info": _("网上可查询办事指南"),
    "online_apply": _("网上申报、窗口领取"),
    "full_online": _("全程网办"),
}
CROSS_PROVINCE = {
    "none": _("不支持跨省通办"),
    "full_online": _("跨省通办：全程网办"),
    "proxy": _("跨省通办：异地代收代办"),
    "multi_site": _("跨省通办：多地联办"),
}
MATERIAL_FORMS = {"original": _("原件"), "copy": _("复印件"), "electronic": _("电子材料")}
NECESSITY = {"required": _("必要"), "conditional": _("情形必要"), "deferrable": _("容缺")}
CHANNELS = {"1": _("窗口办理"), "2": _("网上办理"), "3": _("快递申请")}
SERVICE_OBJECTS = {
    "1": _("自然人"),
    "2": _("企业法人"),
    "3": _("事业法人"),
    "4": _("社会组织法人"),
    "5": _("非法人企业"),
    "6": _("行政机关"),
    "9": _("其他组织"),
}
ROLES = {
    "applicant": _("申请人"),
    "clerk": _("窗口人员"),
    "reviewer": _("部门审批人员"),
    "admin": _("中心管理员"),
    "auditor": _("安全审计员"),
    "system": _("系统"),
}
DELIVERY_METHODS = {"pickup": _("窗口领取"), "mail": _("邮寄送达"), "electronic": _("电子送达")}
DECISIONS = {"approve": _("准予"), "deny": _("不予")}
CHANNEL_KINDS = {"online": _("网上申报"), "window": _("窗口代办")}
SPECIAL_KINDS = SPECIAL_PROCEDURE_KINDS  # translated through DOMAIN_LABELS below

# Labels the cases domain sends in its read models (kept in sync with cases.rules / clock).
DOMAIN_LABELS = (
    _("已申报"),
    _("预审中"),
    _("待补正"),
    _("不予受理"),
    _("审查中"),
    _("审查补正中"),
    _("特别程序中"),
    _("已决定"),
    _("已办结"),
    _("已送达"),
    _("已撤回"),
    _("提交申请"),
    _("开始预审"),
    _("受理"),
    _("一次性告知补正"),
    _("补正材料"),
    _("材料审核通过"),
    _("材料退回"),
    _("启动特别程序"),
    _("结束特别程序"),
    _("部门审查通过"),
    _("部门审查不通过"),
    _("作出决定"),
    _("办结"),
    _("送达"),
    _("撤回申请"),
    _("重算办理时限"),
    _("办理中"),
    _("审查通过"),
    _("审查不通过"),
    _("已提交"),
    _("审核通过"),
    _("需补正"),
    _("听证"),
    _("勘察"),
    _("招投标"),
    _("专家评审"),
    _("公示"),
    _("检验"),
    _("检测"),
    _("检疫"),
    _("鉴定"),
    _("未开始计时"),
    _("正常"),
    _("预警"),
    _("超期"),
    _("暂停计时"),
    _("已停止计时"),
    # Work queues (cases.queue_rules), task states of staged bundles, electronic delivery.
    _("待受理"),
    _("部门审查任务"),
    _("待决定"),
    _("待办结"),
    _("待送达"),
    _("补正中"),
    _("已超期"),
    _("已申报、待窗口预审受理的办件"),
    _("本部门待审查的任务，按办理期限排序"),
    _("各部门审查已完成、等待作出决定的办件"),
    _("已作出决定、待办结的办件"),
    _("已办结、待送达结果的办件（按送达方式）"),
    _("等待申请人补正材料的办件"),
    _("处于听证、检验、专家评审等特别程序的办件"),
    _("已超过承诺办理期限仍未办结的办件"),
    _("等待前序事项办结"),
    _("前序事项未通过，不再办理"),
    _("电子送达（申请人已下载决定书，送达回证）"),
    # Labels that come from data and domain tables (privacy/policy.toml unmask reasons and
    # field labels, verification outcomes, indicator and escalation texts): listed here so
    # that extraction keeps their translations.
    _("审查核验申请信息"),
    _("核验申请人身份"),
    _("联系申请人"),
    _("依法协助调查"),
    _("更正错误信息"),
    _("申请人姓名/名称"),
    _("申请人身份证件号码/统一社会信用代码"),
    _("申请人联系电话"),
    _("核验通过"),
    _("核验不一致"),
    _("无法核验"),
    _("无法核验（未获授权）"),
    _("未能通过数据共享确认，请申请人提供该材料（纸质或电子件），由窗口人员核验。"),
    _("本期 %(value)s，上期 %(previous)s，目标 %(target)s"),
    _("（未达标）"),
    _("升级至部门负责人"),
    _("升级至中心"),
    # 实名认证 levels and enterprise capacities (tongban.access).
    _("未实名"),
    _("一级（手机号已验证）"),
    _("二级（身份经人口库核验）"),
    _("三级（窗口或服务站当面核验）"),
    _("法定代表人"),
    _("授权经办人"),
)
