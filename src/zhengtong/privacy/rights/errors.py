"""Error codes of the person's rights: export, requests, cancelling the account, disclosures."""

from zhengtong.core.errors import error_code

EXPORT_NOT_READY = error_code(
    "privacy.rights.export_not_ready",
    409,
    "数据导出尚未完成",
    "The export is not finished yet",
)
EXPORT_LINK_INVALID = error_code(
    "privacy.rights.export_link_invalid",
    403,
    "下载链接无效，请在隐私中心重新获取",
    "The download link is not valid; get a new one in the privacy centre",
)
EXPORT_EXPIRED = error_code(
    "privacy.rights.export_expired",
    410,
    "下载链接已过期，导出文件已删除，请重新导出",
    "The download link has expired and the export was deleted; export again",
)
REQUEST_CLOSED = error_code(
    "privacy.rights.request_closed",
    409,
    "该申请已办结，不能再更改",
    "The request is closed and cannot change any more",
)
STATUS_NOT_ALLOWED = error_code(
    "privacy.rights.status_not_allowed",
    409,
    "申请不能变更为该状态",
    "The request cannot move to this status",
)
REASON_REQUIRED = error_code(
    "privacy.rights.reason_required",
    422,
    "拒绝申请时必须说明理由",
    "A refusal needs a reason",
)
NOT_YOUR_ORGANIZATION = error_code(
    "privacy.rights.not_your_organization",
    403,
    "您不是该组织的成员，不能向其提出申请",
    "You are not a member of this organisation and cannot send it a request",
)
LAST_MAIN_ADMIN = error_code(
    "privacy.rights.last_main_admin",
    409,
    "您是以下组织唯一的主管理员，请先将主管理员移交他人，再注销账号",
    "You are the only main administrator of these organisations; hand the role to someone else "
    "before cancelling your account",
)
UNKNOWN_SUBJECT = error_code(
    "privacy.rights.unknown_subject",
    422,
    "所选人员不是本组织成员",
    "A chosen person is not a member of this organisation",
)
NO_SUBJECTS = error_code(
    "privacy.rights.no_subjects",
    422,
    "请至少选择一名被提供信息的人员",
    "Choose at least one person whose data was disclosed",
)
