"""The console's two languages: English (the text in the templates) and Chinese.

``t(text)`` is the Chinese of an English text when the page is in Chinese, else the text itself; a
text without a translation stays English.  The language is the ``twofold_console_lang`` cookie (the
switch on every page sets it) or else the first of ``Accept-Language`` that the console speaks.
"""

from __future__ import annotations

from collections.abc import Callable

LANGS = ("en", "zh")
LANG_COOKIE = "twofold_console_lang"

ZH: dict[str, str] = {
    "Twofold console": "Twofold 控制台",
    "Sign in": "登录",
    "Sign out": "退出登录",
    "Access key ID": "访问密钥 ID",
    "Access key secret": "访问密钥 Secret",
    "Sign in with an access key of this server (twofold serve printed the first one).":
        "使用本服务器的访问密钥登录（twofold serve 启动时会打印第一个密钥）。",
    "Sign-in failed: the access key is unknown, revoked or the secret is wrong, or there were too many"
    " attempts. Try again later.":
        "登录失败：访问密钥不存在、已吊销或 Secret 错误，或尝试次数过多。请稍后再试。",
    "Users": "用户",
    "Audit trail": "审计日志",
    "Search": "搜索",
    "Email, phone, username, user ID or external ID": "邮箱、手机号、用户名、用户 ID 或外部 ID",
    "Find": "查找",
    "No user matches.": "没有匹配的用户。",
    "Email": "邮箱",
    "Username": "用户名",
    "Phone": "手机号",
    "Nickname": "昵称",
    "Name": "姓名",
    "MFA": "MFA",
    "Created": "创建时间",
    "Previous": "上一页",
    "Next": "下一页",
    "Page": "第",
    "of": "/",
    "users": "个用户",
    "MFA required": "需要 MFA",
    "No MFA": "无 MFA",
    "locked": "已锁定",
    "Profile": "资料",
    "User ID": "用户 ID",
    "External ID": "外部 ID",
    "Status": "状态",
    "MFA status": "MFA 状态",
    "Factor": "因素",
    "Order": "顺序",
    "Challenged": "要求验证",
    "Enrolled": "已绑定",
    "on": "开",
    "off": "关",
    "yes": "是",
    "no": "否",
    "Version": "版本",
    "Edit the MFA status": "编辑 MFA 状态",
    "On": "开启",
    "Authenticator app enrolled (totpMfaEnabled)": "已绑定身份验证器（totpMfaEnabled）",
    "Face enrolled (faceMfaEnabled)": "已录入人脸（faceMfaEnabled）",
    "MFA phone": "MFA 手机号",
    "MFA phone country code": "MFA 手机区号",
    "MFA email": "MFA 邮箱",
    "Save MFA status": "保存 MFA 状态",
    "Saved: the MFA status is now version": "已保存：MFA 状态当前版本为",
    "Someone else changed this MFA status after you opened it. Nothing was saved; the page now shows"
    " their version.":
        "在你打开此页面后，其他人修改了该 MFA 状态。未保存任何内容；页面已显示最新版本。",
    "Nothing was saved: correct the fields marked below.": "未保存：请修改下方标出的字段。",
    "Lock state": "锁定状态",
    "Failures": "失败次数",
    "Locked until": "锁定至",
    "Unlock": "解锁",
    "Unlock…": "解锁…",
    "Reset": "重置",
    "Reset…": "重置…",
    "Confirm unlock": "确认解锁",
    "Confirm reset": "确认重置",
    "All factors": "全部因素",
    "Unlocked": "已解锁",
    "Reset done": "已重置",
    "Resetting forgets what the user enrolled for this factor and ends their sign-ins.":
        "重置会删除该用户为此因素绑定的内容，并结束其登录会话。",
    "Audit events": "审计事件",
    "Time": "时间",
    "Actor": "操作者",
    "Action": "操作",
    "No events.": "没有事件。",
    "Chain integrity:": "哈希链完整性：",
    "intact": "完好",
    "sealed": "已封存",
    "pending": "待封存",
    "tampered at event": "被篡改，位于事件",
    "Checked this many seconds ago:": "检查于多少秒前：",
    "Check now": "立即检查",
    "Language": "语言",
    "Not found": "未找到",
    "No such user.": "没有此用户。",
    "Refused": "已拒绝",
    "The form is out of date or was not sent by this console. Nothing was changed; reload the page and"
    " try again.":
        "表单已过期或并非由本控制台发送。未做任何更改；请刷新页面后重试。",
    "Something went wrong": "出错了",
    "Back to users": "返回用户列表",
    "Signed in with key": "当前密钥",
    "Skip to content": "跳到正文",
    "Create a user": "创建用户",
    "MFA state": "MFA 状态",
    "Overview": "概览",
    "Policy: the factors a sign-in challenges, in order": "策略：登录时按顺序要求验证的因素",
    "Dev outbox": "开发发件箱",
    "The codes Twofold would have sent: email or SMS has no transport configured (development).":
        "Twofold 本应发送的验证码：邮件或短信尚未配置发送方式（开发环境）。",
    "Medium": "渠道",
    "To": "收件人",
    "Purpose": "用途",
    "Message": "内容",
    "The outbox is empty.": "发件箱为空。",
    "Applications": "应用",
    "New application": "新应用",
    "App ID": "应用 ID",
    "App secret": "应用 Secret",
    "Create an application": "创建应用",
    "Create application": "创建应用",
    "MFA factors of": "MFA 因素：",
    "the pool's, until changed here": "沿用用户池设置，直到在此修改",
    "Save factors of": "保存因素：",
    "Global MFA settings": "全局 MFA 设置",
    "MFA settings": "MFA 设置",
    "Saved.": "已保存。",
    "The factors the user pool offers: applications without their own list use these, and a user's default MFA status lists them.":
        "用户池提供的因素：没有自己列表的应用使用这些因素，用户的默认 MFA 状态也会列出它们。",
    "Factors offered": "提供的因素",
    "Save settings": "保存设置",
    "Access keys": "访问密钥",
    "New access key": "新的访问密钥",
    "The secret is shown only once: store it now.": "Secret 只显示这一次：请立即保存。",
    "Permissions": "权限",
    "Revoked: its console sessions ended.": "已吊销：其控制台会话已结束。",
    "Create an access key": "创建访问密钥",
    "Description": "描述",
    "May read OTP secrets": "可读取 OTP 密钥",
    "Create access key": "创建访问密钥",
    "this session": "当前会话",
    "revoked": "已吊销",
    "active": "有效",
    "Revoke…": "吊销…",
    "Clients using this key stop working and its console sessions end.": "使用此密钥的客户端将失效，其控制台会话将结束。",
    "Confirm revoke": "确认吊销",
    "Counted this many seconds ago:": "统计于以下秒数之前：",
    "Users in total": "用户总数",
    "Users with MFA required": "需要 MFA 的用户",
    "Users with the OTP flag on": "OTP 标记开启的用户",
    "Factors offered by the user pool": "用户池提供的因素",
    "Last audit events": "最近的审计事件",
    "All users": "全部用户",
    "Filter": "筛选",
    "MFA not required": "不需要 MFA",
    "OTP flag on (totpMfaEnabled)": "OTP 标记开启（totpMfaEnabled）",
    "OTP flag off": "OTP 标记关闭",
    "Face flag on (faceMfaEnabled)": "人脸标记开启（faceMfaEnabled）",
    "Older": "更早",
    "Newest": "最新",
    "User": "用户",
    "Client IP": "客户端 IP",
    "Request ID": "请求 ID",
    "Change": "变更",
    "No factor is in the policy: sign-ins challenge nothing.": "策略中没有因素：登录时不要求验证。",
    "Create user": "创建用户",
    # the overview's MFA chart, locks and failures; a user's factors and logins; the new filters
    "MFA adoption per factor": "各因素的 MFA 采用情况",
    "Required but not enrolled": "已要求但未绑定",
    "Users locked out": "被锁定的用户",
    "Every locked user": "所有被锁定的用户",
    "No factor is locked.": "没有被锁定的因素。",
    "Recent MFA failures": "最近的 MFA 失败",
    "Every MFA failure": "所有 MFA 失败",
    "No MFA failure.": "没有 MFA 失败。",
    "Reason": "原因",
    "Enrolled factors": "已绑定的因素",
    "Last used": "最近使用",
    "never (in the audit trail)": "从未（审计日志中无记录）",
    "No factor is enrolled.": "没有已绑定的因素。",
    "Login history": "登录历史",
    "Outcome": "结果",
    "Application": "应用",
    "Connection": "登录方式",
    "success": "成功",
    "failure": "失败",
    "mfa_challenge": "MFA 验证",
    "No sign-in yet.": "尚无登录记录。",
    "OTP enrolled": "已绑定 OTP",
    "OTP not enrolled": "未绑定 OTP",
    "Locked (any factor)": "已锁定（任一因素）",
    "OTP locked": "OTP 已锁定",
    "SMS locked": "SMS 已锁定",
    "EMAIL locked": "EMAIL 已锁定",
    "From (UTC)": "起始时间（UTC）",
    "To (UTC)": "结束时间（UTC）",
    "From is not a time: it was not applied.": "起始时间格式无效，未应用。",
    "To is not a time: it was not applied.": "结束时间格式无效，未应用。",
}


def pick_lang(cookie: str | None, accept_language: str | None) -> str:
    if cookie in LANGS:
        return cookie
    for part in (accept_language or "").split(","):
        tag = part.split(";", 1)[0].strip().lower()
        if tag.startswith("zh"):
            return "zh"
        if tag.startswith("en"):
            return "en"
    return "en"


def translator(lang: str) -> Callable[[str], str]:
    if lang == "zh":
        return lambda text: ZH.get(text, text)
    return lambda text: text
