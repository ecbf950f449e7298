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
)
