// Who is logged in: loaded from GET /api/v1/me at start and after every login step.
import { createContext, useCallback, useContext, useEffect, useMemo, useState, type ReactNode } from "react";

import { ApiError, api, call, isApiError, onAuthProblem, type LoginStatus, type Me } from "../api/client";
import { hasStoredLanguage, isLanguage, setLanguage } from "../i18n";

/** Which second-factor page a half-finished login needs; survives a reload of that page. */
export type SecondFactorStage = "totp_required" | "totp_setup_required";
const STAGE_KEY = "zt_second_factor_stage";

export type SessionState =
  | { kind: "loading" }
  | { kind: "anonymous" }
  | { kind: "second_factor"; stage: SecondFactorStage }
  | { kind: "ready"; me: Me };

interface SessionApi {
  state: SessionState;
  /** Re-reads /me; resolves to the new state. */
  refresh: () => Promise<SessionState>;
  /** Applies a LoginResult status from any login step. */
  completeLoginStep: (status: LoginStatus) => Promise<SessionState>;
  setMe: (me: Me) => void;
  logout: () => Promise<void>;
}

const SessionContext = createContext<SessionApi | null>(null);

function storedStage(): SecondFactorStage {
  try {
    const value = window.sessionStorage.getItem(STAGE_KEY);
    if (value === "totp_setup_required") return value;
  } catch {
    // ignore
  }
  return "totp_required";
}

function storeStage(stage: SecondFactorStage | null): void {
  try {
    if (stage) window.sessionStorage.setItem(STAGE_KEY, stage);
    else window.sessionStorage.removeItem(STAGE_KEY);
  } catch {
    // ignore
  }
}

function adoptAccountLanguage(me: Me): void {
  // A choice made on this browser wins; otherwise use the language stored with the account.
  if (!hasStoredLanguage() && isLanguage(me.language)) setLanguage(me.language, { persist: false });
}

async function loadState(): Promise<SessionState> {
  try {
    const me = await call(api.GET("/api/v1/me"), { quietAuth: true });
    storeStage(null);
    adoptAccountLanguage(me);
    return { kind: "ready", me };
  } catch (error) {
    if (isApiError(error, "auth.second_factor_required")) {
      const detail = (error as ApiError).detail as { stage?: unknown } | null;
      const stage =
        detail && (detail.stage === "totp_setup_required" || detail.stage === "totp_required")
          ? detail.stage
          : storedStage();
      return { kind: "second_factor", stage };
    }
    if (error instanceof ApiError && error.status === 401) return { kind: "anonymous" };
    throw error;
  }
}

export function SessionProvider({ children }: { children: ReactNode }) {
  const [state, setState] = useState<SessionState>({ kind: "loading" });
  const [bootError, setBootError] = useState<unknown>(null);

  const refresh = useCallback(async () => {
    const next = await loadState();
    setState(next);
    return next;
  }, []);

  useEffect(() => {
    refresh().catch((error: unknown) => setBootError(error));
  }, [refresh]);

  useEffect(
    () =>
      onAuthProblem((error) => {
        if (error.status === 401) setState({ kind: "anonymous" });
        else setState({ kind: "second_factor", stage: storedStage() });
      }),
    [],
  );

  const completeLoginStep = useCallback(
    async (status: LoginStatus) => {
      if (status === "ok") {
        storeStage(null);
        return refresh();
      }
      storeStage(status);
      const next: SessionState = { kind: "second_factor", stage: status };
      setState(next);
      return next;
    },
    [refresh],
  );

  const setMe = useCallback((me: Me) => setState({ kind: "ready", me }), []);

  const logout = useCallback(async () => {
    try {
      await call(api.POST("/api/v1/auth/logout"), { quietAuth: true });
    } finally {
      storeStage(null);
      setState({ kind: "anonymous" });
    }
  }, []);

  const value = useMemo(
    () => ({ state, refresh, completeLoginStep, setMe, logout }),
    [state, refresh, completeLoginStep, setMe, logout],
  );
  if (bootError) throw bootError; // shown by the error boundary, with a reload button
  return <SessionContext.Provider value={value}>{children}</SessionContext.Provider>;
}

export function useSession(): SessionApi {
  const value = useContext(SessionContext);
  if (!value) throw new Error("useSession outside SessionProvider");
  return value;
}

/** The logged-in account; only inside routes guarded by RequireSession. */
export function useMe(): Me {
  const { state } = useSession();
  if (state.kind !== "ready") throw new Error("useMe without a ready session");
  return state.me;
}
