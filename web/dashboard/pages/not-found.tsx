import type { JSX } from "preact";
import { Empty } from "../components/status.tsx";
import { useI18n } from "../i18n/i18n.tsx";
import { usePageTitle } from "../page-title.ts";
import { Link } from "../router.tsx";

export function NotFound(): JSX.Element {
  const { t } = useI18n();
  usePageTitle(t("notFound.title"));
  return (
    <>
      <h1>{t("notFound.title")}</h1>
      <Empty title={t("notFound.help")}>
        <p>
          <Link href="/">{t("notFound.home")}</Link>
        </p>
      </Empty>
    </>
  );
}
