// A list read newest first, a page at a time (the work notices a person received, and those the
// organisation sent): `fetchPage(before)` returns the page older than the item `before`, the
// newest page without it. A full page means older items may exist.
import { useCallback, useEffect, useState } from "react";

export function useNewestFirst<T extends { id: string }>(
  fetchPage: (before?: string) => Promise<T[]>,
  pageSize: number,
  describe: (thrown: unknown) => string,
) {
  const [items, setItems] = useState<T[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [more, setMore] = useState(false);
  const [loadingMore, setLoadingMore] = useState(false);

  const reload = useCallback(async () => {
    try {
      const newest = await fetchPage();
      setItems(newest);
      setMore(newest.length === pageSize);
      setError(null);
    } catch (thrown) {
      setError(describe(thrown));
    }
  }, [fetchPage, pageSize, describe]);
  useEffect(() => {
    void reload();
  }, [reload]);

  const loadMore = async () => {
    const before = items?.[items.length - 1]?.id;
    if (!before) return;
    setLoadingMore(true);
    try {
      const older = await fetchPage(before);
      // An item that moved to the top since (a live update) is not listed twice.
      setItems((current) => [...(current ?? []), ...older.filter((item) => !current?.some((c) => c.id === item.id))]);
      setMore(older.length === pageSize);
    } catch (thrown) {
      setError(describe(thrown));
    } finally {
      setLoadingMore(false);
    }
  };

  return { items, setItems, error, more, loadingMore, loadMore, reload };
}
