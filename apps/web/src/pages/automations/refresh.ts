/** How often Automatizaciones refreshes by itself. */
export const REFRESH_MS = 5_000;
