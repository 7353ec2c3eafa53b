/** The shell: who is signed in, the header (navigation, language, sign-out) and the routes. */
import type { JSX } from "preact";
import { useEffect, useRef, useState } from "preact/hooks";
import { api, ApiError, whenUnauthorized } from "./api.ts";
import { ErrorNotice, Loading } from "./components/status.tsx";
import { LOCALES, useI18n, type Locale, type MessageKey } from "./i18n/i18n.tsx";
import { startLive, stopLive } from "./live.ts";
import { ChannelView } from "./pages/channel.tsx";
import { Channels } from "./pages/channels.tsx";
import { Groups } from "./pages/groups.tsx";
import { Analysis } from "./pages/analysis.tsx";
import { FollowerView } from "./pages/follower.tsx";
import { Live } from "./pages/live.tsx";
import { LoginDemo } from "./pages/login-demo.tsx";
import { NotFound } from "./pages/not-found.tsx";
import { Overview } from "./pages/overview.tsx";
import { Posters } from "./pages/posters.tsx";
import { Referrals } from "./pages/referrals.tsx";
import { SignIn } from "./pages/sign-in.tsx";
import { Link, matchPath, navigate, safeNext, useLocation } from "./router.tsx";

type Auth = "checking" | "in" | "out" | { error: ApiError };

const NAV: ReadonlyArray<[string, MessageKey]> = [
  ["/", "nav.overview"],
  ["/channels", "nav.channels"],
  ["/groups", "nav.groups"],
  ["/referrals", "nav.referrals"],
  ["/posters", "nav.posters"],
  ["/live", "nav.live"],
  ["/login-demo", "nav.loginDemo"],
];

const LANGUAGE_NAMES: Record<Locale, string> = { "zh-CN": "中文", en: "English" };

function route(path: string): JSX.Element {
  let params: Record<string, string> | null;
  if (matchPath("/", path)) return <Overview />;
  if (matchPath("/channels", path)) return <Channels />;
  if ((params = matchPath("/channels/:id", path))) return <ChannelView key={params.id} id={params.id!} />;
  if (matchPath("/groups", path)) return <Groups />;
  if (matchPath("/analysis", path)) return <Analysis />;
  if (matchPath("/referrals", path)) return <Referrals />;
  if (matchPath("/posters", path)) return <Posters />;
  if ((params = matchPath("/followers/:openId", path))) return <FollowerView key={params.openId} openId={params.openId!} />;
  if (matchPath("/live", path)) return <Live />;
  if (matchPath("/login-demo", path)) return <LoginDemo />;
  return <NotFound />;
}

function isCurrent(href: string, path: string): boolean {
  return href === "/"
    ? path === "/"
    : path === href || path.startsWith(`${href}/`) || (href === "/referrals" && path.startsWith("/followers/")) || (href === "/groups" && path === "/analysis");
}

function LanguageSelect(): JSX.Element {
  const { t, locale, setLocale } = useI18n();
  return (
    <div class="language">
      <label for="language">{t("language.label")}</label>
      <select id="language" value={locale} onChange={(e) => setLocale(e.currentTarget.value as Locale)}>
        {LOCALES.map((l) => (
          <option value={l} lang={l} key={l}>
            {LANGUAGE_NAMES[l]}
          </option>
        ))}
      </select>
    </div>
  );
}

export function App(): JSX.Element {
  const { t } = useI18n();
  const location = useLocation();
  const [auth, setAuth] = useState<Auth>("checking");
  const main = useRef<HTMLElement>(null);
  const firstPath = useRef(location.path);

  const check = (): void => {
    setAuth("checking");
    api.get("/api/session").then(
      () => setAuth("in"),
      (err: unknown) => setAuth(err instanceof ApiError && err.status !== 401 ? { error: err } : "out"),
    );
  };
  useEffect(() => {
    whenUnauthorized(() => setAuth("out"));
    check();
  }, []);

  const onSignIn = location.path === "/sign-in";
  useEffect(() => {
    if (auth === "out" && !onSignIn) {
      const here = location.path + (location.query.size ? `?${location.query}` : "");
      navigate(here === "/" ? "/sign-in" : `/sign-in?next=${encodeURIComponent(here)}`, { replace: true });
    }
    if (auth === "in" && onSignIn) navigate(safeNext(location.query.get("next")), { replace: true });
  }, [auth, onSignIn]);

  useEffect(() => {
    if (auth === "in") startLive();
    else stopLive();
  }, [auth]);

  // After a client-side navigation, put focus on the new page, as a page load would.
  useEffect(() => {
    if (location.path === firstPath.current) return;
    firstPath.current = "";
    const heading = main.current?.querySelector<HTMLElement>("h1");
    if (heading) {
      heading.tabIndex = -1;
      heading.focus();
    }
  }, [location.path]);

  const signOut = async (): Promise<void> => {
    try {
      await api.delete("/api/session");
    } finally {
      setAuth("out");
    }
  };

  const signedIn = auth === "in";
  return (
    <>
      <a class="skip-link" href="#main">
        {t("nav.skip")}
      </a>
      <header class="site-header">
        <div class="header-row">
          <Link href="/" class="brand">
            <span class="brand-mark" aria-hidden="true">
              ▦
            </span>
            wxqr <span class="brand-sub">{t("brand")}</span>
          </Link>
          <div class="header-tools">
            <LanguageSelect />
            {signedIn && (
              <button type="button" class="secondary small" onClick={signOut}>
                {t("nav.signOut")}
              </button>
            )}
          </div>
        </div>
        {signedIn && (
          <nav class="site-nav" aria-label={t("nav.label")}>
            <ul>
              {NAV.map(([href, label]) => (
                <li key={href}>
                  <Link href={href} aria-current={isCurrent(href, location.path) ? "page" : undefined}>
                    {t(label)}
                  </Link>
                </li>
              ))}
            </ul>
          </nav>
        )}
      </header>
      <main id="main" ref={main} tabIndex={-1}>
        {auth === "checking" ? (
          <Loading />
        ) : typeof auth === "object" ? (
          <ErrorNotice error={auth.error} onRetry={check} />
        ) : auth === "out" ? (
          onSignIn ? (
            <SignIn onSignedIn={() => setAuth("in")} />
          ) : (
            <Loading />
          )
        ) : onSignIn ? (
          <Loading />
        ) : (
          route(location.path)
        )}
      </main>
    </>
  );
}
