import { useT } from "../i18n";

/** The product mark and name; `compact` shows only the mark. */
export function Brand({ compact = false, inverse = false }: { compact?: boolean; inverse?: boolean }) {
  const t = useT();
  return (
    <span className={`zt-brand${inverse ? " zt-brand-inverse" : ""}`}>
      <img src="/favicon.svg" alt="" width={28} height={28} />
      {!compact && <span className="zt-brand-name">{t("app.name")}</span>}
    </span>
  );
}
