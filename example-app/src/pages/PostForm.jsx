import { useForm, useList } from "@refinedev/core";
import { useEffect, useState } from "react";
import { Link, useParams } from "react-router";
import { recordLiveEvent } from "../eventLog.js";

const EMPTY = { title: "", content: "", status: "draft", categoryId: "" };
const STATUSES = ["draft", "published", "rejected"];

export function PostCreate() {
  return <PostForm action="create" />;
}

export function PostEdit() {
  const { id } = useParams();
  // A new key per id remounts the form: Refine keeps a hook's live
  // subscription params from its first render.
  return <PostForm key={id} action="edit" id={id} />;
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
  const record = query?.data?.data;
  const [values, setValues] = useState(EMPTY);
  const [dirty, setDirty] = useState(false);
  const [saved, setSaved] = useState(0);

  // Follow the server's copy until the user starts typing.
  useEffect(() => {
    if (record && !dirty) {
      setValues({
        title: record.title ?? "",
        content: record.content ?? "",
        status: record.status ?? "draft",
        categoryId: record.categoryId == null ? "" : String(record.categoryId),
      });
    }
  }, [record, dirty]);

  const change = (field) => (e) => {
    setDirty(true);
    setValues((v) => ({ ...v, [field]: e.target.value }));
  };

  const submit = async (e) => {
    e.preventDefault();
    const body = { ...values, categoryId: values.categoryId === "" ? null : Number(values.categoryId) };
    try {
      await onFinish(body);
      setDirty(false);
      setSaved((n) => n + 1);
    } catch {
      // useForm reports the error through the mutation state.
    }
  };

  return (
    <section>
      <div className="page-head">
        <h1>{action === "create" ? "New post" : `Edit post #${id}`}</h1>
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
          {saved > 0 && !dirty ? (
            <span className="hint" data-testid="post-saved">
              Saved.
            </span>
          ) : null}
        </div>
      </form>
    </section>
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
