import { Component, type ReactNode } from "react";

import { errorMessage } from "../api/client";
import { getLanguage, translate } from "../i18n";

interface State {
  error: unknown;
}

/**
 * Last resort: a failed lazy chunk (for instance after a deploy) or an unexpected exception shows
 * a reload button. Plain markup on purpose, so it works even when a component chunk cannot load.
 */
export class ErrorBoundary extends Component<{ children: ReactNode }, State> {
  state: State = { error: null };

  static getDerivedStateFromError(error: unknown): State {
    return { error };
  }

  render() {
    if (this.state.error === null) return this.props.children;
    const language = getLanguage();
    return (
      <div className="zt-fatal" role="alert">
        <h2>{translate(language, "error.boundary")}</h2>
        <p>{errorMessage(this.state.error)}</p>
        <button type="button" onClick={() => window.location.reload()}>
          {translate(language, "error.reload")}
        </button>
      </div>
    );
  }
}
