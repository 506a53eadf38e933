import { useCallback, useEffect, useMemo, useState } from "react";

import { api, call, errorMessage } from "../../api/client";
import { indexTree, type DepartmentNode, type DirectoryTree, type TreeIndex } from "./model";

export interface DirectoryTreeState {
  tree: DirectoryTree | null;
  index: TreeIndex<DepartmentNode>;
  error: string | null;
  reload: () => Promise<void>;
}

/** GET /api/v1/directory/tree: the departments this person may browse, with counts and the watermark. */
export function useDirectoryTree(): DirectoryTreeState {
  const [tree, setTree] = useState<DirectoryTree | null>(null);
  const [error, setError] = useState<string | null>(null);
  const reload = useCallback(async () => {
    try {
      setTree(await call(api.GET("/api/v1/directory/tree")));
      setError(null);
    } catch (thrown) {
      setError(errorMessage(thrown));
    }
  }, []);
  useEffect(() => {
    void reload();
  }, [reload]);
  const index = useMemo(() => indexTree(tree?.departments ?? []), [tree]);
  return { tree, index, error, reload };
}
