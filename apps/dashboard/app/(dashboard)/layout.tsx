import { cookies } from "next/headers";
import { redirect } from "next/navigation";
import { Header } from "@/components/header";
import { Providers } from "@/components/providers";
import { Sidebar } from "@/components/sidebar";
import { REFRESH_COOKIE } from "@/lib/server/session";

/** Every page behind sign-in: no refresh token, no dashboard. */
export default async function DashboardLayout({ children }: { children: React.ReactNode }) {
  const jar = await cookies();
  if (!jar.get(REFRESH_COOKIE)?.value) redirect("/signin");
  return (
    <Providers>
      <div className="flex min-h-screen">
        <Sidebar />
        <div className="flex min-w-0 flex-1 flex-col">
          <Header />
          <main className="flex-1 p-5">{children}</main>
        </div>
      </div>
    </Providers>
  );
}
