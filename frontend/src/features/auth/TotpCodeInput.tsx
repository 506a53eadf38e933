import { SafetyCertificateOutlined } from "@ant-design/icons";
import { Input, type InputProps } from "antd";
import type { Rule } from "antd/es/form";

import type { Translate } from "../../i18n";

export function totpRules(t: Translate): Rule[] {
  return [{ required: true, pattern: /^\s*\d{6}\s*$/, message: t("totp.code.invalid") }];
}

/** Six digits from an authenticator app; numeric keyboard on phones, one-time-code autofill. */
export function TotpCodeInput(props: InputProps) {
  return (
    <Input
      size="large"
      prefix={<SafetyCertificateOutlined style={{ color: "rgba(0,0,0,0.35)" }} />}
      inputMode="numeric"
      autoComplete="one-time-code"
      maxLength={6}
      placeholder="000000"
      data-testid="totp-code"
      style={{ letterSpacing: "0.3em" }}
      {...props}
    />
  );
}
