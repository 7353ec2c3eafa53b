/** GET a path of the API into state; with `live`, again (quietly) on every tick of the live feed. */
import { useCallback, useEffect, useRef, useState } from "preact/hooks";
import { api, ApiError } from "./api.ts";
import { useLive } from "./live.ts";

export interface ApiState<T> {
  data: T | undefined;
  error: ApiError | undefined;
  loading: boolean;
  reload: () => void;
}

export function useApi<T>(path: string | null, options: { live?: boolean } = {}): ApiState<T> {
  const { tick } = useLive();
  const liveTick = options.live ? tick : 0;
  const [nonce, setNonce] = useState(0);
  const [state, setState] = useState<{ data: T | undefined; error: ApiError | undefined; loading: boolean; path: string | null }>({
    data: undefined,
    error: undefined,
    loading: path !== null,
    path,
  });
  const latest = useRef(0);

  useEffect(() => {
    if (path === null) return;
    const call = ++latest.current;
    // A new path shows its loading state; a refresh of the same path keeps the figures on screen.
    setState((s) => (s.path === path ? s : { data: undefined, error: undefined, loading: true, path }));
    api.get<T>(path).then(
      (data) => call === latest.current && setState({ data, error: undefined, loading: false, path }),
      (err: unknown) =>
        call === latest.current &&
        setState((s) => ({ ...s, error: err instanceof ApiError ? err : new ApiError(0, "UNKNOWN", String(err)), loading: false, path })),
    );
  }, [path, nonce, liveTick]);

  const reload = useCallback(() => setNonce((n) => n + 1), []);
  return {
    data: state.path === path ? state.data : undefined,
    error: state.path === path ? state.error : undefined,
    loading: path !== null && (state.loading || state.path !== path),
    reload,
  };
}
