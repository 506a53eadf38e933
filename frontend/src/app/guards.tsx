import { Flex, Spin } from "antd";
import type { ReactNode } from "react";
import { Navigate, useLocation } from "react-router";

import { useT } from "../i18n";
import { useSession } from "./session";

export const HOME = "/chat";

export function FullPageSpin() {
  const t = useT();
  return (
    <Flex align="center" justify="center" style={{ minHeight: "100vh" }}>
      <Spin size="large" description={t("app.loading")}>
        <div style={{ width: 120, height: 60 }} />
      </Spin>
    </Flex>
  );
}

export function secondFactorPath(stage: "totp_required" | "totp_setup_required"): string {
  return stage === "totp_setup_required" ? "/login/totp-setup" : "/login/totp";
}

/** The app itself: only for fully logged-in accounts. */
export function RequireSession({ children }: { children: ReactNode }) {
  const { state } = useSession();
  const location = useLocation();
  if (state.kind === "loading") return <FullPageSpin />;
  if (state.kind === "anonymous") {
    return <Navigate to="/login" replace state={{ from: location.pathname + location.search }} />;
  }
  if (state.kind === "second_factor") return <Navigate to={secondFactorPath(state.stage)} replace />;
  return <>{children}</>;
}

/** Login pages: a logged-in account goes to the app; a half-finished login to its next step. */
export function LoginStage({ stage, children }: { stage: "login" | "totp_required" | "totp_setup_required"; children: ReactNode }) {
  const { state } = useSession();
  const location = useLocation();
  const from = (location.state as { from?: string } | null)?.from;
  if (state.kind === "loading") return <FullPageSpin />;
  if (state.kind === "ready") return <Navigate to={from && from !== "/" ? from : HOME} replace />;
  if (state.kind === "anonymous" && stage !== "login") return <Navigate to="/login" replace />;
  if (state.kind === "second_factor" && state.stage !== stage) {
    return <Navigate to={secondFactorPath(state.stage)} replace state={location.state} />;
  }
  return <>{children}</>;
}
