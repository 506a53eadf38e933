import { Button, Result } from "antd";
import { useNavigate } from "react-router";

import { useT } from "../i18n";
import { HOME } from "./guards";

export default function NotFound() {
  const t = useT();
  const navigate = useNavigate();
  return (
    <Result
      status="404"
      title={t("notFound.title")}
      subTitle={t("notFound.desc")}
      extra={
        <Button type="primary" onClick={() => navigate(HOME)}>
          {t("common.backHome")}
        </Button>
      }
    />
  );
}
