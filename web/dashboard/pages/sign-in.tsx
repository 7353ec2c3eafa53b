/** Sign-in: the admin token is exchanged for an HttpOnly session cookie, then forgotten. */
import type { JSX } from "preact";
import { useState } from "preact/hooks";
import { api, ApiError } from "../api.ts";
import { useI18n } from "../i18n/i18n.tsx";
import { usePageTitle } from "../page-title.ts";

export function SignIn({ onSignedIn }: { onSignedIn: () => void }): JSX.Element {
  const { t } = useI18n();
  usePageTitle(t("signIn.title"));
  const [token, setToken] = useState("");
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  const submit = async (e: Event): Promise<void> => {
    e.preventDefault();
    const value = token.trim();
    if (value === "") {
      setError(t("signIn.empty"));
      return;
    }
    setBusy(true);
    setError(null);
    try {
      await api.post("/api/session", { token: value });
      setToken("");
      onSignedIn();
    } catch (err) {
      const status = err instanceof ApiError ? err.status : 0;
      setError(t(status === 401 ? "signIn.wrong" : status === 429 ? "error.rateLimited" : status === 0 ? "error.network" : "error.unavailable"));
    } finally {
      setBusy(false);
    }
  };

  return (
    <section class="sign-in card" aria-labelledby="sign-in-title">
      <h1 id="sign-in-title">{t("signIn.title")}</h1>
      <p>{t("signIn.intro")}</p>
      {/* POST even without the script's handler: a GET would put the token in the URL. */}
      <form method="post" action="/sign-in" onSubmit={submit} noValidate>
        <label for="admin-token">{t("signIn.token")}</label>
        <input
          id="admin-token"
          name="token"
          type="password"
          autocomplete="off"
          spellcheck={false}
          value={token}
          onInput={(e) => setToken(e.currentTarget.value)}
          aria-describedby={error ? "admin-token-help admin-token-error" : "admin-token-help"}
          aria-invalid={error !== null}
        />
        <p id="admin-token-help" class="hint">
          {t("signIn.help")}
        </p>
        {error && (
          <p id="admin-token-error" class="form-error" role="alert">
            {error}
          </p>
        )}
        <button type="submit" disabled={busy}>
          {busy ? t("signIn.busy") : t("signIn.submit")}
        </button>
      </form>
    </section>
  );
}
