import { NavLink, Outlet } from "react-router";
import { ConnectionBadge } from "./ConnectionBadge.jsx";
import { LiveEventLog } from "./LiveEventLog.jsx";
import { NotificationsPanel } from "./NotificationsPanel.jsx";
import { config } from "./config.js";

export function Layout() {
  return (
    <div className="layout">
      <header className="topbar">
        <strong className="brand">refine-live-wasm</strong>
        <nav>
          <NavLink to="/posts" end>
            Posts
          </NavLink>
          <NavLink to="/categories">Categories</NavLink>
        </nav>
        <span className="settings" data-testid="settings">
          protocol <code data-testid="setting-protocol">{config.protocol}</code> · liveMode{" "}
          <code data-testid="setting-live-mode">{config.liveMode}</code>
          {config.strict ? " · StrictMode" : ""}
        </span>
        <ConnectionBadge />
      </header>
      <main className="content">
        <Outlet />
      </main>
      <aside className="sidebar">
        <NotificationsPanel />
        <LiveEventLog />
      </aside>
    </div>
  );
}
