export const PATHS = {
  automatizaciones: "/operacion/automatizaciones",
  puestaEnMarcha: "/operacion/puesta-en-marcha",
  tareas: "/tareas",
  nuevaTarea: "/tareas/nueva",
  agentes: "/agentes",
  personas: "/personas",
  ajustes: "/ajustes",
  cuenta: "/cuenta",
} as const;

export const taskPath = (id: number) => `/tareas/${id}`;
