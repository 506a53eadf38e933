"""Error codes of organisations, departments, members and admins."""

from zhengtong.core.errors import error_code

NOT_A_MEMBER = error_code(
    "org.not_a_member", 403, "您不是该组织的成员", "You are not a member of this organisation"
)
NO_CURRENT_ORG = error_code("org.no_current_org", 400, "请先选择一个组织", "Choose an organisation first")
NOT_AN_ADMIN = error_code("org.admin_required", 403, "需要管理员权限", "This needs an administrator")
OUT_OF_SCOPE = error_code(
    "org.admin_out_of_scope",
    403,
    "超出您的管理范围",
    "This is outside the part of the organisation you administer",
)
OPERATOR_REQUIRED = error_code(
    "org.operator_required", 403, "需要平台运营方权限", "This needs the platform operator"
)
DEPARTMENT_CYCLE = error_code(
    "org.department_cycle",
    409,
    "不能把部门移动到它自己或它的下级部门中",
    "A department cannot move under itself",
)
DEPARTMENT_NOT_EMPTY = error_code(
    "org.department_not_empty",
    409,
    "部门下还有子部门或成员，不能删除",
    "The department still has sub-departments or members",
)
DEPARTMENT_NAME_TAKEN = error_code(
    "org.department_name_taken",
    409,
    "同一上级部门下已有同名部门",
    "A sibling department already has this name",
)
ROOT_DEPARTMENT = error_code(
    "org.root_department", 400, "根部门不能删除或移动", "The root department cannot be deleted or moved"
)
MEMBER_EXISTS = error_code(
    "org.member_exists", 409, "该手机号已是本组织成员", "This mobile number is already a member"
)
JOB_NUMBER_TAKEN = error_code(
    "org.job_number_taken", 409, "工号已被其他成员使用", "Another member already has this job number"
)
LAST_MAIN_ADMIN = error_code(
    "org.last_main_admin", 409, "不能移除唯一的主管理员", "The only main administrator cannot be removed"
)
ROLE_NAME_TAKEN = error_code(
    "org.role_name_taken", 409, "已有同名角色", "A role with this name already exists"
)
UNKNOWN_CUSTOM_FIELD = error_code(
    "org.unknown_custom_field", 422, "未定义的自定义字段", "This custom field is not defined"
)
CUSTOM_FIELD_TAKEN = error_code(
    "org.custom_field_taken", 409, "已有相同键名的自定义字段", "A custom field with this key already exists"
)
INVITE_INVALID = error_code(
    "org.invite_invalid", 404, "邀请链接无效或已过期", "This invitation is not valid or has expired"
)
JOIN_REQUEST_PENDING = error_code(
    "org.join_request_pending",
    409,
    "您的加入申请已提交，请等待管理员审核",
    "Your request to join is already waiting for an administrator",
)
JOIN_REQUEST_DECIDED = error_code(
    "org.join_request_decided", 409, "该申请已处理", "This request has already been decided"
)
MAIN_ADMIN_FIXED = error_code(
    "org.main_admin_fixed",
    409,
    "主管理员的权限不能在此修改",
    "The main administrator's rights cannot be changed here",
)
CANNOT_GRANT_SELF = error_code(
    "org.cannot_grant_self", 403, "不能为自己分配管理权限", "You cannot give yourself administrator duties"
)
DUTIES_SEPARATED = error_code(
    "org.duties_separated",
    422,
    "三员分立：系统、安全、审计职责须由不同人员担任，每人只能担任一种",
    "System, security and audit duties are held by different people: one duty per person",
)
TRANSFER_FILE_REMOVED = error_code(
    "org.transfer_file_removed",
    410,
    "文件已按规定在任务结束一周后删除，请重新导出",
    "The file was removed a week after its job ended; run the export again",
)
