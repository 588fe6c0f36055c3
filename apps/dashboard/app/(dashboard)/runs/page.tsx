import type { Metadata } from "next";
import { Suspense } from "react";
import { LoadingRows } from "@/components/states";
import { RunsList } from "@/components/runs/runs-list";

export const metadata: Metadata = { title: "Runs" };

export default function RunsPage() {
  // the filters live in the query string, which is only known in the browser
  return (
    <Suspense fallback={<LoadingRows rows={5} label="Loading runs" />}>
      <RunsList />
    </Suspense>
  );
}
