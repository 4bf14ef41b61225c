import { useList } from "@refinedev/core";

/** Categories: the resource's meta.liveMode is "off", so it never subscribes. */
export function CategoryList() {
  const { result, query } = useList({ resource: "categories", pagination: { pageSize: 50 } });
  return (
    <section>
      <div className="page-head">
        <h1>Categories</h1>
        <span className="hint">resource meta.liveMode: "off" (refresh to see changes)</span>
      </div>
      {query.isError ? <p className="error">Failed to load categories.</p> : null}
      <ul className="plain" data-testid="category-list">
        {(result?.data ?? []).map((c) => (
          <li key={c.id} data-testid="category-row" data-id={c.id}>
            {c.title}
          </li>
        ))}
      </ul>
    </section>
  );
}
