import { RightOutlined } from "@ant-design/icons";
import { Alert, Avatar, Button, Empty, Spin, Tag, Typography } from "antd";
import { useCallback, useEffect, useRef, useState } from "react";

import { api, call, errorMessage } from "../../api/client";
import { useT } from "../../i18n";
import { avatarColour, avatarText, type MemberBrief } from "./model";

const PAGE = 50;

/** The title, and in search results the departments too: "科员 · 网络安全科". */
function subtitle(member: MemberBrief): string {
  return [member.title, ...(member.department_names ?? [])].filter(Boolean).join(" · ");
}

export function MemberRow({ member, onOpen, active }: { member: MemberBrief; onOpen: (id: string) => void; active?: boolean }) {
  const t = useT();
  return (
    <button
      type="button"
      className={`zt-dir-row${active ? " is-active" : ""}`}
      onClick={() => onOpen(member.id)}
      data-testid="member-row"
      data-member-id={member.id}
    >
      <Avatar size={36} style={{ backgroundColor: avatarColour(member.id), flex: "none", fontSize: 13 }}>
        {avatarText(member.name)}
      </Avatar>
      <span className="zt-dir-row-main">
        <span className="zt-dir-row-name">
          {member.name}
          {member.is_head && (
            <Tag color="gold" className="zt-dir-head" data-testid="head-tag">
              {t("contacts.head")}
            </Tag>
          )}
        </span>
        {subtitle(member) && <span className="zt-dir-row-sub">{subtitle(member)}</span>}
      </span>
      <RightOutlined className="zt-dir-row-arrow" />
    </button>
  );
}

/** A department's direct members, loaded page by page as the list scrolls into view. */
export function DepartmentMembers({
  departmentId,
  onOpen,
  activeId,
}: {
  departmentId: string;
  onOpen: (id: string) => void;
  activeId?: string | null;
}) {
  const t = useT();
  const [items, setItems] = useState<MemberBrief[]>([]);
  const [total, setTotal] = useState<number | null>(null);
  const [loading, setLoading] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const sentinel = useRef<HTMLDivElement | null>(null);
  const generation = useRef(0);
  const busy = useRef(false);

  const loadMore = useCallback(
    async (reset = false) => {
      if (busy.current && !reset) return;
      const mine = reset ? ++generation.current : generation.current;
      busy.current = true;
      setLoading(true);
      try {
        const offset = reset ? 0 : items.length;
        const page = await call(
          api.GET("/api/v1/directory/departments/{department_id}/members", {
            params: { path: { department_id: departmentId }, query: { offset, limit: PAGE } },
          }),
        );
        if (mine !== generation.current) return;
        setItems((current) => (reset ? page.items : [...current, ...page.items]));
        setTotal(page.total);
        setError(null);
      } catch (thrown) {
        if (mine === generation.current) setError(errorMessage(thrown));
      } finally {
        if (mine === generation.current) {
          busy.current = false;
          setLoading(false);
        }
      }
    },
    [departmentId, items.length],
  );

  useEffect(() => {
    setItems([]);
    setTotal(null);
    void loadMore(true); // a new department starts from its first page
  }, [departmentId]); // eslint-disable-line react-hooks/exhaustive-deps

  const more = total !== null && items.length < total;
  useEffect(() => {
    const node = sentinel.current;
    if (!node || !more || error) return;
    const observer = new IntersectionObserver((entries) => {
      if (entries.some((entry) => entry.isIntersecting)) void loadMore();
    });
    observer.observe(node);
    return () => observer.disconnect();
  }, [more, loadMore, error]);

  if (error && items.length === 0) return <Alert type="error" showIcon title={error} />;
  return (
    <div data-testid="member-list" data-total={total ?? ""}>
      {total === 0 && !loading && <Empty image={Empty.PRESENTED_IMAGE_SIMPLE} description={t("contacts.noMembers")} />}
      <div className="zt-dir-rows">
        {items.map((member) => (
          <MemberRow key={member.id} member={member} onOpen={onOpen} active={member.id === activeId} />
        ))}
      </div>
      {loading && (
        <div style={{ textAlign: "center", padding: 12 }}>
          <Spin size="small" />
        </div>
      )}
      {error && items.length > 0 && <Alert type="error" showIcon title={error} style={{ marginTop: 8 }} />}
      {more && (
        <div ref={sentinel} style={{ textAlign: "center", padding: 8, minHeight: 40 }}>
          {!loading && (
            <Button type="link" onClick={() => void loadMore()} data-testid="load-more">
              {t("contacts.loadMore")}
            </Button>
          )}
        </div>
      )}
      {total !== null && total > 0 && !more && (
        <Typography.Paragraph type="secondary" style={{ textAlign: "center", margin: "8px 0 0", fontSize: 12 }}>
          {t("contacts.memberTotal", { count: total })}
        </Typography.Paragraph>
      )}
    </div>
  );
}
