import { Layout } from "./Layout.tsx";
import { Routes } from "./Routes.tsx";

/** The signed-in app: header and navigation around the current page. */
export function Shell() {
  return (
    <Layout>
      <Routes />
    </Layout>
  );
}
