// Around every page of the logged-in app: the DING banner (loaded on demand) above the page.
import { lazy, Suspense } from "react";
import { Outlet } from "react-router";

const DingAlerts = lazy(() => import("./DingAlerts"));

export function DingAlertsLayout() {
  return (
    <>
      <Suspense fallback={null}>
        <DingAlerts />
      </Suspense>
      <Outlet />
    </>
  );
}
