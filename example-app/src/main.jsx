import { StrictMode } from "react";
import { createRoot } from "react-dom/client";
import { App } from "./App.jsx";
import { config } from "./config.js";
import "./styles.css";

const app = <App />;
createRoot(document.getElementById("root")).render(config.strict ? <StrictMode>{app}</StrictMode> : app);
