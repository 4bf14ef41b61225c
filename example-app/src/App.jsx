import { Refine } from "@refinedev/core";
import routerProvider, { NavigateToResource } from "@refinedev/react-router";
import dataProvider from "@refinedev/simple-rest";
import { BrowserRouter, Route, Routes } from "react-router";
import { config } from "./config.js";
import { provider } from "./live.js";
import { Layout } from "./Layout.jsx";
import { PostList } from "./pages/PostList.jsx";
import { PostCreate, PostEdit } from "./pages/PostForm.jsx";
import { CategoryList } from "./pages/CategoryList.jsx";

const resources = [
  { name: "posts", list: "/posts", create: "/posts/create", edit: "/posts/edit/:id" },
  // Refine itself ignores resource meta.liveMode; refine-live-wasm reads it
  // from the subscription params and keeps this resource off the wire.
  { name: "categories", list: "/categories", meta: { liveMode: "off" } },
];

export function App() {
  return (
    <BrowserRouter>
      <Refine
        dataProvider={dataProvider("/api")}
        routerProvider={routerProvider}
        liveProvider={provider}
        resources={resources}
        options={{
          liveMode: config.liveMode,
          disableTelemetry: true,
          syncWithLocation: false,
          warnWhenUnsavedChanges: false,
        }}
      >
        <Routes>
          <Route element={<Layout />}>
            <Route index element={<NavigateToResource resource="posts" />} />
            <Route path="/posts" element={<PostList />} />
            <Route path="/posts/create" element={<PostCreate />} />
            <Route path="/posts/edit/:id" element={<PostEdit />} />
            <Route path="/categories" element={<CategoryList />} />
            <Route path="*" element={<p>Nothing here.</p>} />
          </Route>
        </Routes>
      </Refine>
    </BrowserRouter>
  );
}
