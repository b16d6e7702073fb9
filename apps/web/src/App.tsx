import type { AppRouter } from "@ops/contract";
import { QueryClientProvider } from "@tanstack/react-query";
import type { TRPCLink } from "@trpc/client";
import { Suspense, useState } from "react";
import { AuthGate } from "./AuthGate.tsx";
import { Loading } from "./components/States.tsx";
import { I18nProvider, type Lang } from "./i18n/index.tsx";
import { lazyPage } from "./lazy-page.ts";
import { createApiClient, createQueryClient, TRPCProvider } from "./trpc.ts";

// The signed-in shell (header, navigation, pages) loads after sign-in: the
// sign-in form paints from the first chunk alone.
const Shell = lazyPage(() => import("./Shell.tsx").then((m) => m.Shell));

/** The whole app; tests pass their own links (a fake API) and language. */
export function App({ links, lang }: { links?: TRPCLink<AppRouter>[]; lang?: Lang }) {
  const [queryClient] = useState(() =>
    createQueryClient(() => {
      // Session gone: ask "who am I" again, which shows the sign-in form.
      void queryClient.invalidateQueries({ predicate: (q) => JSON.stringify(q.queryKey).includes('"me"') });
    }),
  );
  const [trpcClient] = useState(() => createApiClient(links));
  return (
    <I18nProvider {...(lang ? { lang } : {})}>
      <QueryClientProvider client={queryClient}>
        <TRPCProvider trpcClient={trpcClient} queryClient={queryClient}>
          <AuthGate>
            <Suspense
              fallback={
                <main className="center">
                  <Loading />
                </main>
              }
            >
              <Shell />
            </Suspense>
          </AuthGate>
        </TRPCProvider>
      </QueryClientProvider>
    </I18nProvider>
  );
}
