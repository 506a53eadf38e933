import { Alert, App, Button } from "antd";

import { useSession } from "../../app/session";
import { useT } from "../../i18n";
import { AuthShell } from "./AuthShell";
import { TotpSetupPanel } from "./TotpSetupPanel";

/** Reached when the server says the account must set up TOTP before it may continue (admins). */
export default function TotpSetupPage() {
  const t = useT();
  const { completeLoginStep, logout } = useSession();
  const { message } = App.useApp();
  return (
    <AuthShell title={t("totp.setup.title")}>
      <Alert type="warning" showIcon title={t("totp.setup.required")} style={{ marginBottom: 20 }} />
      <TotpSetupPanel
        onEnabled={async (result) => {
          message.success(t("totp.setup.done"));
          await completeLoginStep(result.status);
        }}
      />
      <Button type="link" block onClick={() => void logout()}>
        {t("totp.otherAccount")}
      </Button>
    </AuthShell>
  );
}
