"""Error codes of privacy.erasure (removing members, deregistering an organisation)."""

from zhengtong.core.errors import error_code

MAIN_ADMIN_REQUIRED = error_code(
    "privacy.erasure.main_admin_required",
    403,
    "只有主管理员可以注销组织",
    "Only the main administrator can deregister the organisation",
)
ALREADY_REQUESTED = error_code(
    "privacy.erasure.already_requested",
    409,
    "组织已在注销冷静期内",
    "The organisation is already in its cooling-off period before deregistration",
)
NOT_REQUESTED = error_code(
    "privacy.erasure.not_requested",
    409,
    "组织没有待处理的注销申请",
    "The organisation has no pending deregistration",
)
PURGE_STARTED = error_code(
    "privacy.erasure.purge_started",
    409,
    "组织数据已开始删除，无法撤销",
    "Deleting the organisation's data has begun and cannot be undone",
)
NAME_MISMATCH = error_code(
    "privacy.erasure.name_mismatch",
    422,
    "输入的组织名称与本组织不一致",
    "The name typed does not match the organisation's name",
)
ARCHIVE_MAIN_ADMIN_REQUIRED = error_code(
    "privacy.erasure.archive_main_admin_required",
    403,
    "只有主管理员可以导出组织数据",
    "Only the main administrator can export the organisation's data",
)
ARCHIVE_NOT_COOLING_OFF = error_code(
    "privacy.erasure.archive_not_cooling_off",
    409,
    "只有在注销冷静期内才能导出组织数据",
    "The organisation's data can be exported only during the cooling-off period before deregistration",
)
ARCHIVE_NOT_READY = error_code(
    "privacy.erasure.archive_not_ready",
    409,
    "组织数据导出尚未完成",
    "The export of the organisation's data is not finished yet",
)
ARCHIVE_LINK_INVALID = error_code(
    "privacy.erasure.archive_link_invalid",
    403,
    "下载链接无效，请在注销页面重新获取",
    "The download link is not valid; get a new one on the deregistration page",
)
ARCHIVE_EXPIRED = error_code(
    "privacy.erasure.archive_expired",
    410,
    "下载链接已过期，导出文件已删除，请重新导出",
    "The download link has expired and the export was deleted; export again",
)
