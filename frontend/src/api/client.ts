// The typed API client. Types come from schema.gen.ts, generated from the server's OpenAPI
// document (`npm run gen:api`); nothing about request or response shapes is written by hand here.
import createClient, { type Middleware } from "openapi-fetch";

import { getLanguage, translate } from "../i18n/language";
import type { paths } from "./schema.gen";

export type { paths } from "./schema.gen";

const CSRF_COOKIE = "zt_csrf";
const CSRF_HEADER = "X-CSRF-Token";
const UNSAFE_METHODS = new Set(["POST", "PUT", "PATCH", "DELETE"]);

/** The server's error body: {code, message, detail}, message already in the request's language. */
export interface ErrorBody {
  code: string;
  message: string;
  detail?: unknown;
}

export class ApiError extends Error {
  readonly status: number;
  readonly code: string;
  readonly detail: unknown;

  constructor(status: number, body: ErrorBody) {
    super(body.message);
    this.name = "ApiError";
    this.status = status;
    this.code = body.code;
    this.detail = body.detail ?? null;
  }

  /** Seconds to wait, when the server rate-limited the request. */
  get retryAfter(): number | null {
    const detail = this.detail as { retry_after?: unknown } | null;
    const value = detail && typeof detail === "object" ? detail.retry_after : null;
    return typeof value === "number" ? Math.ceil(value) : null;
  }

  /** The text to show a person. */
  get userMessage(): string {
    const seconds = this.retryAfter;
    if (this.code === "rate_limited" && seconds !== null) {
      return translate(getLanguage(), "error.retryAfter", { message: this.message, seconds });
    }
    return this.message;
  }
}

export function isApiError(error: unknown, code?: string): error is ApiError {
  return error instanceof ApiError && (code === undefined || error.code === code);
}

/** Any thrown value as the message a person should read. */
export function errorMessage(error: unknown): string {
  if (error instanceof ApiError) return error.userMessage;
  if (error instanceof Error && error.message) return error.message;
  return translate(getLanguage(), "error.network");
}

export function readCookie(name: string): string | null {
  for (const part of document.cookie.split(";")) {
    const [key, ...rest] = part.trim().split("=");
    if (key === name) return decodeURIComponent(rest.join("="));
  }
  return null;
}

type AuthListener = (error: ApiError) => void;
const authListeners = new Set<AuthListener>();

/** Called when the server answers 401 (the session ended) or 403 owed second factor. */
export function onAuthProblem(listener: AuthListener): () => void {
  authListeners.add(listener);
  return () => authListeners.delete(listener);
}

const headersMiddleware: Middleware = {
  onRequest({ request }) {
    request.headers.set("Accept-Language", getLanguage());
    if (UNSAFE_METHODS.has(request.method.toUpperCase())) {
      const csrf = readCookie(CSRF_COOKIE);
      if (csrf) request.headers.set(CSRF_HEADER, csrf);
    }
    return request;
  },
};

export const api = createClient<paths>({
  baseUrl: "",
  credentials: "same-origin",
  headers: { Accept: "application/json" },
});
api.use(headersMiddleware);

async function toApiError(response: Response, parsed: unknown): Promise<ApiError> {
  const body = parsed as Partial<ErrorBody> | undefined;
  if (body && typeof body === "object" && typeof body.code === "string" && typeof body.message === "string") {
    return new ApiError(response.status, body as ErrorBody);
  }
  return new ApiError(response.status, {
    code: `http.${response.status}`,
    message: translate(getLanguage(), "error.unexpected", { status: response.status }),
    detail: null,
  });
}

/**
 * Awaits an openapi-fetch call and returns its data, or throws an ApiError carrying the server's
 * code and (localised) message. Network failures become ApiError with code "network".
 *
 *     const me = await call(api.GET("/api/v1/me"));
 */
export async function call<D, E>(
  request: Promise<{ data?: D; error?: E; response: Response }>,
  { quietAuth = false }: { quietAuth?: boolean } = {},
): Promise<D> {
  let result: { data?: D; error?: E; response: Response };
  try {
    result = await request;
  } catch (thrown) {
    if (thrown instanceof ApiError) throw thrown;
    throw new ApiError(0, { code: "network", message: translate(getLanguage(), "error.network") });
  }
  const { data, error, response } = result;
  if (!response.ok) {
    const apiError = await toApiError(response, error);
    if (!quietAuth && (apiError.status === 401 || apiError.code === "auth.second_factor_required")) {
      authListeners.forEach((listener) => listener(apiError));
    }
    throw apiError;
  }
  return data as D;
}

/** Response body type of a path + method, e.g. `ResponseOf<"/api/v1/me", "get">`. */
export type ResponseOf<
  P extends keyof paths,
  M extends keyof paths[P] & ("get" | "post" | "put" | "delete" | "patch"),
> = paths[P][M] extends { responses: { 200: { content: { "application/json": infer R } } } } ? R : never;

/** Request body type of a path + method. */
export type BodyOf<
  P extends keyof paths,
  M extends keyof paths[P] & ("get" | "post" | "put" | "delete" | "patch"),
> = paths[P][M] extends { requestBody?: { content: { "application/json": infer B } } } ? B : never;

export type Me = ResponseOf<"/api/v1/me", "get">;
export type Organization = Me["organizations"][number];
export type LoginResult = ResponseOf<"/api/v1/auth/sms/login", "post">;
export type LoginStatus = LoginResult["status"];
export type SessionInfo = ResponseOf<"/api/v1/me/sessions", "get">[number];
export type Job = ResponseOf<"/api/v1/jobs/{job_id}", "get">;
export type QrStatus = ResponseOf<"/api/v1/auth/qr/{qr_id}", "get">["status"];
