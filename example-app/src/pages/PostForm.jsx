import { useForm, useList, useMany } from "@refinedev/core";
import { useState } from "react";
import { Link, useParams } from "react-router";
import { recordLiveEvent } from "../eventLog.js";

const EMPTY = { title: "", content: "", status: "draft", categoryId: "" };
const STATUSES = ["draft", "published", "rejected"];

export function PostCreate() {
  return <PostForm action="create" />;
}

// The same element serves /posts/edit/1 and /posts/edit/2: moving from one
// post to the next (the links below, or the browser's back button) changes
// the id without remounting the form, as it would in any Refine app.
export function PostEdit() {
  const { id } = useParams();
  return <PostForm action="edit" id={id} />;
}

/** The form's fields for a record of the server. */
function fieldsOf(record) {
  return {
    title: record.title ?? "",
    content: record.content ?? "",
    status: record.status ?? "draft",
    categoryId: record.categoryId == null ? "" : String(record.categoryId),
  };
}

/** Create or edit a post with useForm; in edit mode the record stays live. */
function PostForm({ action, id }) {
  const { onFinish, query, formLoading, mutation } = useForm({
    resource: "posts",
    action,
    id,
    redirect: action === "create" ? "list" : false,
    onLiveEvent: recordLiveEvent,
  });
  // The query is the current id's: undefined while that post loads.
  const data = query?.data?.data;
  const record = data != null && String(data.id) === String(id) ? data : undefined;

  // The user's unsaved edits and the "Saved." note belong to the post they
  // were made on: when the id changes they are dropped, and the form shows
  // the new post's record (or nothing while it loads), never the old one.
  const [draft, setDraft] = useState({ id, edits: null, saved: false });
  if (draft.id !== id) setDraft({ id, edits: null, saved: false });
  const edits = draft.id === id ? draft.edits : null;
  const saved = draft.id === id && draft.saved;

  // Follow the server's copy until the user starts typing.
  const values = edits ?? (record ? fieldsOf(record) : EMPTY);
  const dirty = edits !== null;

  const change = (field) => (e) => {
    const value = e.target.value;
    setDraft((d) => (d.id === id ? { id, edits: { ...(d.edits ?? values), [field]: value }, saved: false } : d));
  };

  const submit = async (e) => {
    e.preventDefault();
    const body = { ...values, categoryId: values.categoryId === "" ? null : Number(values.categoryId) };
    try {
      await onFinish(body);
      // Unless the user has moved to another post meanwhile.
      setDraft((d) => (d.id === id ? { id, edits: null, saved: true } : d));
    } catch {
      // useForm reports the error through the mutation state.
    }
  };

  return (
    <section>
      <div className="page-head">
        <h1>{action === "create" ? "New post" : `Edit post #${id}`}</h1>
        {action === "edit" ? <PostNav id={id} /> : null}
        <Link to="/posts">Back to posts</Link>
      </div>
      {action === "edit" ? (
        <p className="hint" data-testid="post-current" data-id={record?.id ?? ""} data-title={record?.title ?? ""}>
          On the server: <strong data-testid="post-current-title">{record?.title ?? "…"}</strong>
          {query?.isFetching ? " (refreshing)" : ""}
        </p>
      ) : null}
      <form className="form" onSubmit={submit} data-testid="post-form">
        <label>
          Title
          <input data-testid="post-title-input" value={values.title} onChange={change("title")} required />
        </label>
        <label>
          Content
          <textarea data-testid="post-content-input" value={values.content} onChange={change("content")} rows={5} />
        </label>
        <label>
          Status
          <select data-testid="post-status-input" value={values.status} onChange={change("status")}>
            {STATUSES.map((s) => (
              <option key={s} value={s}>
                {s}
              </option>
            ))}
          </select>
        </label>
        <label>
          Category
          <CategorySelect value={values.categoryId} onChange={change("categoryId")} />
        </label>
        <div className="form-actions">
          <button type="submit" data-testid="post-save" disabled={formLoading}>
            {formLoading ? "Saving…" : "Save"}
          </button>
          {mutation?.isError ? <span className="error">Failed to save: {String(mutation.error?.message)}</span> : null}
          {saved && !dirty ? (
            <span className="hint" data-testid="post-saved">
              Saved.
            </span>
          ) : null}
        </div>
      </form>
      {action === "edit" ? <UpNext id={id} /> : null}
    </section>
  );
}

/** The ids after id (this backend's ids are numbers), or none. */
function idsAfter(id, count) {
  const n = Number(id);
  return Number.isInteger(n) ? Array.from({ length: count }, (_, i) => n + 1 + i) : [];
}

/** Links to the previous and the next post: the page stays, its id changes. */
function PostNav({ id }) {
  const n = Number(id);
  if (!Number.isInteger(n)) return null;
  return (
    <nav className="post-nav">
      {n > 1 ? (
        <Link to={`/posts/edit/${n - 1}`} data-testid="post-prev-link">
          ← Previous post
        </Link>
      ) : null}
      <Link to={`/posts/edit/${n + 1}`} data-testid="post-next-link">
        Next post →
      </Link>
    </nav>
  );
}

/**
 * The two posts after this one, with useMany: its ids change with the page's
 * id (the hook stays mounted), and the titles stay live.
 */
function UpNext({ id }) {
  const ids = idsAfter(id, 2);
  const { result, query } = useMany({ resource: "posts", ids, queryOptions: { enabled: ids.length > 0 } });
  const posts = result?.data ?? [];
  if (ids.length === 0) return null;
  return (
    <div className="up-next" data-testid="up-next" data-ids={ids.join(",")}>
      <h2>Up next</h2>
      {posts.length === 0 && !query.isLoading ? <p className="hint">No more posts.</p> : null}
      <ul>
        {posts.map((post) => (
          <li key={post.id} data-testid="up-next-post" data-id={post.id} data-title={post.title}>
            <Link to={`/posts/edit/${post.id}`}>
              #{post.id} {post.title}
            </Link>
          </li>
        ))}
      </ul>
    </div>
  );
}

function CategorySelect({ value, onChange }) {
  const { result } = useList({ resource: "categories", pagination: { mode: "off" } });
  return (
    <select data-testid="post-category-input" value={value} onChange={onChange}>
      <option value="">(none)</option>
      {(result?.data ?? []).map((c) => (
        <option key={c.id} value={String(c.id)}>
          {c.title}
        </option>
      ))}
    </select>
  );
}
