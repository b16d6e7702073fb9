export const PATHS = {
  automatizaciones: "/operacion/automatizaciones",
  tareas: "/tareas",
  nuevaTarea: "/tareas/nueva",
  agentes: "/agentes",
  ajustes: "/ajustes",
} as const;

export const taskPath = (id: number) => `/tareas/${id}`;
