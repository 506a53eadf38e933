"""Error codes of privacy.consent."""

from zhengtong.core.errors import error_code

POLICY_ACK_REQUIRED = error_code(
    "privacy.consent.policy_ack_required",
    428,
    "隐私政策有重大更新，请阅读并确认后继续使用。",
    "The privacy policy has changed significantly; read and acknowledge it to continue",
)
POLICY_VERSION_UNKNOWN = error_code(
    "privacy.consent.policy_version_unknown",
    404,
    "该版本的隐私政策不存在。",
    "There is no privacy policy with this version",
)
POLICY_NOT_PUBLISHED = error_code(
    "privacy.consent.policy_not_published",
    404,
    "尚未发布隐私政策。",
    "No privacy policy has been published yet",
)
POLICY_TEXT_MISSING = error_code(
    "privacy.consent.policy_text_missing",
    422,
    "隐私政策的中文和英文文本都不能为空。",
    "A policy version needs both its Chinese and its English text",
)
PURPOSE_UNKNOWN = error_code(
    "privacy.consent.purpose_unknown", 404, "没有这项授权用途。", "There is no such purpose"
)
PURPOSE_UNAVAILABLE = error_code(
    "privacy.consent.purpose_unavailable",
    409,
    "该功能尚未提供，暂不能授权。",
    "This feature is not offered yet, so it cannot be consented to",
)
CONSENT_REQUIRED = error_code(
    "privacy.consent.consent_required",
    403,
    "使用该功能需要您单独同意，请先在隐私中心的授权管理中开启。",
    "This feature needs your separate consent; turn it on under Privacy centre, Consents",
)
CONTACT_HASHES_INVALID = error_code(
    "privacy.consent.contact_hashes_invalid",
    422,
    "通讯录摘要格式不正确。",
    "The contact hashes are not in the expected form",
)
GUARDIAN_CONSENT_REQUIRED = error_code(
    "privacy.consent.guardian_consent_required",
    403,
    "您登记为未满十四周岁的未成年人，需由单位管理员登记监护人同意后才能登录。",
    "You are recorded as under 14: an administrator must record your guardian's consent before you log in",
)
BIRTH_DATE_INVALID = error_code(
    "privacy.consent.birth_date_invalid",
    422,
    "出生日期不能晚于今天。",
    "The birth date cannot be in the future",
)
NOT_A_MINOR = error_code(
    "privacy.consent.not_a_minor",
    409,
    "该成员未登记为未满十四周岁，无需监护人同意。",
    "This member is not recorded as under 14, so no guardian consent is needed",
)
GUARDIAN_CONSENT_MISSING = error_code(
    "privacy.consent.guardian_consent_missing",
    404,
    "该成员没有有效的监护人同意记录。",
    "This member has no standing guardian consent",
)
