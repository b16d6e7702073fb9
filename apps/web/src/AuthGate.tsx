import { useQuery } from "@tanstack/react-query";
import type { ReactNode } from "react";
import { ErrorBox, Loading } from "./components/States.tsx";
import { errorCode } from "./errors.ts";
import { SignInPage } from "./pages/SignInPage.tsx";
import { SessionProvider } from "./session.tsx";
import { useTRPC } from "./trpc.ts";

/** Who am I? Signed in: the app. Not signed in: the sign-in form. */
export function AuthGate({ children }: { children: ReactNode }) {
  const trpc = useTRPC();
  const me = useQuery(trpc.auth.me.queryOptions({}, { retry: false, staleTime: 60_000 }));
  if (me.isPending) {
    return (
      <main className="center">
        <Loading />
      </main>
    );
  }
  if (me.error && errorCode(me.error) === "UNAUTHORIZED") return <SignInPage />;
  if (!me.data) {
    return (
      <main className="center">
        <ErrorBox error={me.error} onRetry={() => void me.refetch()} />
      </main>
    );
  }
  return <SessionProvider me={me.data}>{children}</SessionProvider>;
}
