import { App as AntApp, ConfigProvider } from "antd";
import enUS from "antd/es/locale/en_US";
import zhCN from "antd/es/locale/zh_CN";
import { lazy, Suspense, useEffect } from "react";
import { BrowserRouter, Navigate, Route, Routes } from "react-router";

import { translate, useLanguage } from "../i18n";
import { DingAlertsLayout } from "../features/ding/DingAlertsLayout";
import { PolicyGate } from "../features/privacy/consent/PolicyGate";
import { ErrorBoundary } from "./ErrorBoundary";
import { FullPageSpin, HOME, LoginStage, RequireSession } from "./guards";
import { NAV_ITEMS } from "./navigation";
import { SessionProvider } from "./session";
import { theme } from "./theme";

// Route-level code splitting: the login screens, the shell and each page load on demand.
const LoginPage = lazy(() => import("../features/auth/LoginPage"));
const TotpVerifyPage = lazy(() => import("../features/auth/TotpVerifyPage"));
const TotpSetupPage = lazy(() => import("../features/auth/TotpSetupPage"));
const AppLayout = lazy(() => import("./AppLayout"));
const CapabilityPage = lazy(() => import("../features/capabilities/CapabilityPage"));
const SettingsPage = lazy(() => import("../features/settings/SettingsPage"));
const ContactsPage = lazy(() => import("../features/directory/ContactsPage"));
const ChatPage = lazy(() => import("../features/chat/ChatPage"));
const DingPage = lazy(() => import("../features/ding/DingPage"));
const AdminPage = lazy(() => import("../features/admin/AdminPage"));
const JoinPage = lazy(() => import("../features/admin/JoinPage"));
const PrivacyCentrePage = lazy(() => import("../features/privacy/PrivacyCentrePage"));
const OperatorPage = lazy(() => import("../features/privacy/operator/OperatorPage"));
const WorkNoticesPage = lazy(() => import("../features/worknotices/ReceivedPage"));
const NotFound = lazy(() => import("./NotFound"));

function AppRoutes() {
  return (
    <Suspense fallback={<FullPageSpin />}>
      <Routes>
        <Route path="/login" element={<LoginStage stage="login"><LoginPage /></LoginStage>} />
        <Route
          path="/login/totp"
          element={<LoginStage stage="totp_required"><TotpVerifyPage /></LoginStage>}
        />
        <Route
          path="/login/totp-setup"
          element={<LoginStage stage="totp_setup_required"><TotpSetupPage /></LoginStage>}
        />
        {/* Public: an invitation link, opened by someone without an account */}
        <Route path="/join/:token" element={<JoinPage />} />
        <Route element={<RequireSession><PolicyGate><AppLayout /></PolicyGate></RequireSession>}>
          {/* The DING banner shows above every page of the app */}
          <Route element={<DingAlertsLayout />}>
          <Route index element={<Navigate to={HOME} replace />} />
          {NAV_ITEMS.map((item) => (
            <Route
              key={item.key}
              path={item.path}
              element={
                item.key === "messages" ? (
                  <ChatPage />
                ) : item.key === "ding" ? (
                  <DingPage />
                ) : item.key === "contacts" ? (
                  <ContactsPage />
                ) : (
                  <CapabilityPage capability={item.key} />
                )
              }
            />
          ))}
          <Route path="/chat/:conversationId" element={<ChatPage />} />
          <Route path="/ding/:dingId" element={<DingPage />} />
          {/* The address chat had before it was built */}
          <Route path="/messages" element={<Navigate to="/chat" replace />} />
          <Route path="/admin" element={<AdminPage />} />
          <Route path="/admin/:section" element={<AdminPage />} />
          <Route path="/settings" element={<Navigate to="/settings/profile" replace />} />
          <Route path="/settings/:tab" element={<SettingsPage />} />
          <Route path="/privacy" element={<Navigate to="/privacy/data" replace />} />
          <Route path="/privacy/:tab" element={<PrivacyCentrePage />} />
          <Route path="/operator" element={<OperatorPage />} />
          <Route path="/operator/:section" element={<OperatorPage />} />
          {/* Work notices received; the bell links to /work-notices/{id} */}
          <Route path="/work-notices" element={<WorkNoticesPage />} />
          <Route path="/work-notices/:workNoticeId" element={<WorkNoticesPage />} />
          <Route path="*" element={<NotFound />} />
          </Route>
        </Route>
      </Routes>
    </Suspense>
  );
}

export default function App() {
  const language = useLanguage();
  useEffect(() => {
    document.title = translate(language, "app.name");
  }, [language]);
  return (
    <ConfigProvider locale={language === "en" ? enUS : zhCN} theme={theme}>
      <AntApp>
        <ErrorBoundary>
          <BrowserRouter>
            <SessionProvider>
              <AppRoutes />
            </SessionProvider>
          </BrowserRouter>
        </ErrorBoundary>
      </AntApp>
    </ConfigProvider>
  );
}
