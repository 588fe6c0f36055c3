import type { Metadata } from "next";
import { Suspense } from "react";
import { CompareView } from "@/components/runs/compare-view";
import { LoadingRows } from "@/components/states";

export const metadata: Metadata = { title: "Compare runs" };

export default function CompareRunsPage() {
  // the runs to compare are in the query string (?ids=a,b), which is only known in the browser
  return (
    <Suspense fallback={<LoadingRows rows={6} label="Loading the runs to compare" />}>
      <CompareView />
    </Suspense>
  );
}
