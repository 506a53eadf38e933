import { CookieListLink, CookieNotice } from "./CookieNotice";
import { PolicyLink } from "./PolicyText";
import "./consent.css";

/** Under the login card: the privacy policy and the cookie list (both public), and the
 *  first-visit cookie notice. */
export function AuthPolicyLinks() {
  return (
    <>
      <div className="zt-auth-policy-links" data-testid="auth-policy-links">
        <PolicyLink />
        <CookieListLink />
      </div>
      <CookieNotice />
    </>
  );
}
