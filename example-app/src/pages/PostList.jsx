import { useDelete, useList, useTable } from "@refinedev/core";
import { Link } from "react-router";
import { recordLiveEvent } from "../eventLog.js";

export const PAGE_SIZE = 20;

/** The posts list: useTable, live in the mode the app runs in. */
export function PostList() {
  const {
    tableQuery,
    result,
    currentPage,
    setCurrentPage,
    pageCount,
  } = useTable({
    resource: "posts",
    pagination: { pageSize: PAGE_SIZE },
    sorters: { initial: [{ field: "id", order: "asc" }] },
    // Logged once per event for this hook. (<Refine onLiveEvent> would be
    // called once per mounted hook: twice here, with NewestPost.)
    onLiveEvent: recordLiveEvent,
  });
  const { mutate: remove, mutation: removal } = useDelete();
  const posts = result?.data ?? [];

  return (
    <section>
      <div className="page-head">
        <h1>Posts</h1>
        <NewestPost />
        <Link className="button" to="/posts/create" data-testid="post-create-link">
          New post
        </Link>
      </div>
      {tableQuery.isError ? <p className="error">Failed to load posts: {String(tableQuery.error?.message)}</p> : null}
      <table data-testid="post-table" data-loading={tableQuery.isFetching ? "1" : "0"} data-total={result?.total ?? ""}>
        <thead>
          <tr>
            <th>#</th>
            <th>Title</th>
            <th>Status</th>
            <th />
          </tr>
        </thead>
        <tbody>
          {posts.map((post) => (
            <tr key={post.id} data-testid="post-row" data-id={post.id}>
              <td data-testid="post-id">{post.id}</td>
              <td data-testid="post-title">{post.title}</td>
              <td>
                <span className={`status status-${post.status}`}>{post.status}</span>
              </td>
              <td className="actions">
                <Link to={`/posts/edit/${post.id}`} data-testid="post-edit-link">
                  Edit
                </Link>
                <button
                  type="button"
                  className="link danger"
                  data-testid="post-delete"
                  disabled={removal.isPending}
                  onClick={() => remove({ resource: "posts", id: post.id })}
                >
                  Delete
                </button>
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      {posts.length === 0 && !tableQuery.isLoading ? <p className="hint">No posts.</p> : null}
      <div className="pager">
        <button type="button" disabled={currentPage <= 1} onClick={() => setCurrentPage((p) => p - 1)}>
          Previous
        </button>
        <span data-testid="post-page">
          page {currentPage} of {Math.max(pageCount, 1)} · {result?.total ?? 0} posts
        </span>
        <button type="button" disabled={currentPage >= pageCount} onClick={() => setCurrentPage((p) => p + 1)}>
          Next
        </button>
      </div>
    </section>
  );
}

/** A second live hook on the same resource: the client shares one server subscription between them. */
function NewestPost() {
  const { result } = useList({
    resource: "posts",
    pagination: { currentPage: 1, pageSize: 1 },
    sorters: [{ field: "id", order: "desc" }],
  });
  const newest = result?.data?.[0];
  return (
    <span className="hint" data-testid="newest-post">
      {newest ? `Newest: ${newest.title}` : ""}
    </span>
  );
}
