// The weir dashboard: routes of the single-page app.

import { render } from "preact";
import { useEffect } from "preact/hooks";
import { assumeNoSignIn, refreshWhoAmI, useWhoAmI } from "./auth";
import { Layout } from "./components/layout";
import { live } from "./live";
import { Dashboard } from "./pages/dashboard";
import { EventsView } from "./pages/events";
import { ResourceDetail } from "./pages/detail";
import { GraphView } from "./pages/graph";
import { Favorites, ListView } from "./pages/list";
import { SignIn } from "./pages/signin";
import { WorkloadView } from "./pages/workload";
import { match, useLocation } from "./router";
import { applyTheme, getTheme, useFavorites } from "./store";
import "./styles.css";

const FLUX_KINDS = [
  "GitRepository",
  "OCIRepository",
  "HelmRepository",
  "HelmChart",
  "Bucket",
  "ArtifactGenerator",
  "ExternalArtifact",
  "Kustomization",
  "HelmRelease",
  "Provider",
  "Alert",
  "Receiver",
];
const WORKLOAD_KINDS = ["Deployment", "StatefulSet", "DaemonSet", "Job", "CronJob"];

function FavoritesPage() {
  const keys = useFavorites();
  return (
    <div data-view="favorites">
      <div class="page-head">
        <h1>Favorites</h1>
      </div>
      <Favorites keys={keys} />
    </div>
  );
}

function App() {
  const loc = useLocation();
  const path = loc.path;
  let section = "dashboard";
  let title = "Dashboard";
  let view;
  let params: Record<string, string> | null;
  if (path === "") {
    view = <Dashboard />;
  } else if (path === "resources") {
    section = "resources";
    title = "Resources";
    view = <ListView key="resources" config={{ view: "resources", title: "Resources", kinds: FLUX_KINDS }} />;
  } else if ((params = match("resources/:kind/:namespace/:name", path))) {
    section = "resources";
    title = `${params.name} · ${params.kind} ${params.namespace}`;
    view = <ResourceDetail key={path} kind={params.kind} namespace={params.namespace} name={params.name} />;
  } else if (path === "workloads") {
    section = "workloads";
    title = "Workloads";
    view = <ListView key="workloads" config={{ view: "workloads", title: "Workloads", kinds: WORKLOAD_KINDS }} />;
  } else if ((params = match("workloads/:kind/:namespace/:name", path))) {
    section = "workloads";
    title = `${params.name} · ${params.kind} ${params.namespace}`;
    view = <WorkloadView key={path} kind={params.kind} namespace={params.namespace} name={params.name} />;
  } else if (path === "graph") {
    section = "graph";
    title = "Graph";
    view = <GraphView />;
  } else if (path === "events") {
    section = "events";
    title = "Events";
    view = <EventsView />;
  } else if (path === "favorites") {
    section = "favorites";
    title = "Favorites";
    view = <FavoritesPage />;
  } else {
    title = "Not found";
    view = <p class="empty">No such page: {path}</p>;
  }
  useEffect(() => {
    document.title = `${title} · weir`; // a detail page is titled after its object
  }, [title]);
  return <Layout section={section}>{view}</Layout>;
}

/** The app once the server says who we are: the sign-in page first when it needs one. */
function Root() {
  const who = useWhoAmI();
  const signedIn = who !== null && who.authenticated;
  useEffect(() => {
    if (signedIn) live.start();
  }, [signedIn]);
  if (who === null) return <p class="loading">Loading…</p>;
  if (!who.authenticated) return <SignIn who={who} />;
  return <App />;
}

applyTheme(getTheme());
matchMedia("(prefers-color-scheme: dark)").addEventListener("change", () => applyTheme(getTheme()));
refreshWhoAmI().catch(assumeNoSignIn);
render(<Root />, document.getElementById("app")!);
