import { useSyncExternalStore } from "react";

// Same boundary as antd's `md` breakpoint: below 768 px the layout switches to the phone shell.
const QUERY = "(max-width: 767.98px)";

function subscribe(listener: () => void): () => void {
  const media = window.matchMedia(QUERY);
  media.addEventListener("change", listener);
  return () => media.removeEventListener("change", listener);
}

export function useIsPhone(): boolean {
  return useSyncExternalStore(subscribe, () => window.matchMedia(QUERY).matches, () => false);
}
