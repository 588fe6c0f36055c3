import type { Metadata } from "next";
import { HealthView } from "@/components/health/health-view";
import { publicApiUrl } from "@/lib/server/config";

export const metadata: Metadata = { title: "Health" };
// the API URL is read from the environment when the page is served, not when it is built
export const dynamic = "force-dynamic";

export default function HealthPage() {
  return <HealthView apiUrl={publicApiUrl()} />;
}
