import { useEffect } from "preact/hooks";

/** The document's title, which screen readers announce on a route change. */
export function usePageTitle(title: string): void {
  useEffect(() => {
    document.title = `${title} · wxqr`;
  }, [title]);
}
