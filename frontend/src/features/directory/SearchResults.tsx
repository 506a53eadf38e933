import { ApartmentOutlined, RightOutlined } from "@ant-design/icons";
import { Alert, Empty, Spin, Typography } from "antd";
import { useEffect, useState } from "react";

import { api, call, errorMessage } from "../../api/client";
import { useT } from "../../i18n";
import { MemberRow } from "./MemberRows";
import type { SearchResult, TreeIndex, DepartmentNode } from "./model";
import { pathTo } from "./model";

const DEBOUNCE_MS = 180;

/** Instant search over names, pinyin ("zhangsan"), initials ("zs"), job numbers and departments. */
export function useDirectorySearch(query: string): { result: SearchResult | null; loading: boolean; error: string | null } {
  const [result, setResult] = useState<SearchResult | null>(null);
  const [loading, setLoading] = useState(false);
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    const q = query.trim();
    if (!q) {
      setResult(null);
      setLoading(false);
      setError(null);
      return;
    }
    let stopped = false;
    setLoading(true);
    const timer = window.setTimeout(() => {
      call(api.GET("/api/v1/directory/search", { params: { query: { q: q.slice(0, 64) } } }))
        .then((found) => {
          if (stopped) return;
          setResult(found);
          setError(null);
        })
        .catch((thrown: unknown) => !stopped && setError(errorMessage(thrown)))
        .finally(() => !stopped && setLoading(false));
    }, DEBOUNCE_MS);
    return () => {
      stopped = true;
      window.clearTimeout(timer);
    };
  }, [query]);
  return { result, loading, error };
}

export function SearchResults({
  query,
  index,
  onDepartment,
  onMember,
  activeMemberId,
}: {
  query: string;
  index: TreeIndex<DepartmentNode>;
  onDepartment: (id: string) => void;
  onMember: (id: string) => void;
  activeMemberId?: string | null;
}) {
  const t = useT();
  const { result, loading, error } = useDirectorySearch(query);
  if (error) return <Alert type="error" showIcon title={error} />;
  if (!result) {
    return (
      <div style={{ textAlign: "center", padding: 24 }}>
        <Spin />
      </div>
    );
  }
  const empty = result.members.length === 0 && result.departments.length === 0;
  return (
    <div data-testid="search-results" data-loading={loading ? "true" : "false"}>
      {empty && <Empty image={Empty.PRESENTED_IMAGE_SIMPLE} description={t("contacts.search.none", { query: query.trim() })} />}
      {result.departments.length > 0 && (
        <section className="zt-dir-section">
          <Typography.Text type="secondary" className="zt-dir-section-title">
            {t("contacts.search.departments")}
          </Typography.Text>
          <div className="zt-dir-rows">
            {result.departments.map((hit) => {
              const trail = pathTo(index, hit.id)
                .slice(0, -1)
                .map((d) => d.name)
                .join(" / ");
              return (
                <button key={hit.id} type="button" className="zt-dir-row" onClick={() => onDepartment(hit.id)} data-testid="search-dept">
                  <span className="zt-dir-folder">
                    <ApartmentOutlined />
                  </span>
                  <span className="zt-dir-row-main">
                    <span className="zt-dir-row-name">{hit.name}</span>
                    {trail && <span className="zt-dir-row-sub">{trail}</span>}
                  </span>
                  <RightOutlined className="zt-dir-row-arrow" />
                </button>
              );
            })}
          </div>
        </section>
      )}
      {result.members.length > 0 && (
        <section className="zt-dir-section">
          <Typography.Text type="secondary" className="zt-dir-section-title">
            {t("contacts.search.members")}
          </Typography.Text>
          <div className="zt-dir-rows" data-testid="search-members">
            {result.members.map((member) => (
              <MemberRow key={member.id} member={member} onOpen={onMember} active={member.id === activeMemberId} />
            ))}
          </div>
        </section>
      )}
    </div>
  );
}
