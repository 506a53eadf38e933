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
