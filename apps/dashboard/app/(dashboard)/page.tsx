import type { Metadata } from "next";
import type { ResponseOf } from "@/lib/api/client";
import { prefetch } from "@/lib/server/prefetch";
import { Overview, type OverviewData } from "./overview";
import { OVERVIEW_ALERTS_QUERY, OVERVIEW_DEFAULTS } from "./overview-query";

export const metadata: Metadata = { title: "Overview" };
export const dynamic = "force-dynamic";

/** The overview's first view is read on the server, so the figures come with the HTML instead
 * of after the bundle has loaded; SWR then keeps them fresh in the browser. */
export default async function OverviewPage() {
  const { period, mode, points } = OVERVIEW_DEFAULTS;
  const [summary, alerts] = await Promise.all([
    prefetch<ResponseOf<"/v1/metrics/summary">>(
      `/v1/metrics/summary?period=${period}&mode=${mode}&points=${points}`,
    ),
    prefetch<ResponseOf<"/v1/alerts">>(`/v1/alerts?per_page=${OVERVIEW_ALERTS_QUERY.per_page}`),
  ]);
  const initial: OverviewData = { summary, alerts };
  return <Overview initial={initial} />;
}
