import type { Metadata } from "next";
import { Suspense } from "react";
import { NewBacktestForm } from "@/components/runs/new-backtest-form";
import { LoadingRows } from "@/components/states";

export const metadata: Metadata = { title: "New backtest" };

export default function NewBacktestPage() {
  return (
    <div className="max-w-5xl space-y-5">
      <h1 className="text-xl font-semibold">New backtest</h1>
      {/* ?strategy= preselects one, so the form needs the query string */}
      <Suspense fallback={<LoadingRows rows={6} label="Loading the form" />}>
        <NewBacktestForm />
      </Suspense>
    </div>
  );
}
