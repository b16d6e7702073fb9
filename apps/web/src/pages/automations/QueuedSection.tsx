import { useQuery } from "@tanstack/react-query";
import { useState } from "react";
import { ExplainPanel } from "../../components/ExplainPanel.tsx";
import { Section } from "../../components/Section.tsx";
import { QueryView } from "../../components/States.tsx";
import { useT } from "../../i18n/index.tsx";
import { taskPath } from "../../paths.ts";
import { Link } from "../../router.tsx";
import { useSession } from "../../session.tsx";
import { useTRPC } from "../../trpc.ts";
import { REFRESH_MS } from "./refresh.ts";

/** Queued tasks, each with the engine's explanation of why it is not dispatching now. */
export function QueuedSection() {
  const t = useT();
  const trpc = useTRPC();
  const { workspaceId } = useSession();
  const queued = useQuery(
    trpc.tasks.list.queryOptions({ workspace_id: workspaceId, status: "queued", limit: 25, offset: 0 }, { refetchInterval: REFRESH_MS }),
  );
  return (
    <Section id="queued" title={t("queued.title")}>
      <QueryView query={queued} isEmpty={(d) => d.tasks.length === 0} empty={t("queued.empty")}>
        {(data) => (
          <ul className="plain-list">
            {data.tasks.map((task) => (
              <QueuedItem key={task.id} id={task.id} title={task.title} agent={task.agent_slug} model={task.model} />
            ))}
          </ul>
        )}
      </QueryView>
    </Section>
  );
}

function QueuedItem({ id, title, agent, model }: { id: number; title: string; agent: string | null; model: string | null }) {
  const t = useT();
  const [open, setOpen] = useState(false);
  return (
    <li className="queued-item">
      <div className="row row-between">
        <span>
          <Link to={taskPath(id)}>
            #{id} {title}
          </Link>{" "}
          <span className="muted">
            {agent ?? t("tasks.noAgent")}
            {model ? ` · ${model}` : ""}
          </span>
        </span>
        <button type="button" className="btn btn-small" aria-expanded={open} onClick={() => setOpen(!open)}>
          {open ? t("queued.hide") : t("queued.explain")}
        </button>
      </div>
      {open ? <ExplainPanel taskId={id} /> : null}
    </li>
  );
}
