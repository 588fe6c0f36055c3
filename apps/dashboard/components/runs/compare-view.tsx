"use client";
import Link from "next/link";
import { useSearchParams } from "next/navigation";
import { useMemo } from "react";
import { LineChart } from "@/components/charts/lazy";
import { EmptyState, ErrorState, LoadingRows } from "@/components/states";
import { Card, CardBody, CardHeader } from "@/components/ui/card";
import { Table, Td, Th } from "@/components/ui/table";
import { cn } from "@/lib/cn";
import { useComparedRuns } from "./compare-data";
import { compareIds, compareSections, runName } from "./compare-model";
import { growthLines, RUN_COLOURS } from "./compare-series";
import { shortId } from "./run-format";

/** 2 to 5 runs side by side (`/runs/compare?ids=a,b`): their equity curves overlaid, each from 1
 * at its own start so runs of different capital compare, and their setup, params and results in
 * columns, with the rows where they differ marked. */
export function CompareView() {
  const searchParams = useSearchParams();
  const { ids, problem } = compareIds(searchParams?.get("ids"));
  const compared = useComparedRuns(problem ? [] : ids);
  const data = compared.data;
  const lines = useMemo(
    () => growthLines((data ?? []).map(({ run, equity }) => ({ name: runName(run), points: equity }))),
    [data],
  );
  const sections = useMemo(() => (data ? compareSections(data) : []), [data]);

  return (
    <div className="space-y-5">
      <div className="flex flex-wrap items-end justify-between gap-3">
        <h1 className="text-xl font-semibold">Compare runs</h1>
        <Link className="text-sm text-sky-700 hover:underline" href="/runs">
          Back to the runs list
        </Link>
      </div>
      {problem ? (
        <EmptyState title="Nothing to compare">
          {problem}.{" "}
          <Link className="text-sky-700 underline" href="/runs">
            Pick runs in the runs list
          </Link>
        </EmptyState>
      ) : compared.error && !data ? (
        <ErrorState what="the runs to compare" error={compared.error} onRetry={() => compared.mutate()} />
      ) : !data ? (
        <LoadingRows rows={6} label="Loading the runs to compare" />
      ) : (
        <>
          {data.some(({ run }) => run.status !== "completed") ? (
            <p className="rounded-lg border border-amber-200 bg-amber-50 px-4 py-2 text-sm text-amber-900">
              Not completed, so no curve or results yet:{" "}
              {data
                .filter(({ run }) => run.status !== "completed")
                .map(({ run }) => `${shortId(run.id)} (${run.status})`)
                .join(", ")}
              .
            </p>
          ) : null}
          <Card>
            <CardHeader
              title="Equity, each run from 1 at its own start"
              description="Different capital on one scale: 1.25 is +25 % since that run's start. Dates differ when the runs' dates do."
            />
            <CardBody>
              <ul className="mb-2 flex flex-wrap gap-3 text-xs" aria-label="legend">
                {data.map(({ run }, i) => (
                  <li key={run.id} className="flex items-center gap-1">
                    <span className="inline-block h-2 w-4 rounded" style={{ background: RUN_COLOURS[i % RUN_COLOURS.length] }} />
                    <Link className="hover:underline" href={`/runs/${run.id}`}>
                      {runName(run)}
                    </Link>
                  </li>
                ))}
              </ul>
              <LineChart lines={lines} label="compared equity curves" />
            </CardBody>
          </Card>
          <Card>
            <Table aria-label="compared runs">
              <thead>
                <tr>
                  <Th>
                    <span className="sr-only">what</span>
                  </Th>
                  {data.map(({ run }) => (
                    <Th key={run.id}>
                      <Link className="font-mono normal-case text-sky-700 hover:underline" href={`/runs/${run.id}`}>
                        {shortId(run.id)}
                      </Link>
                    </Th>
                  ))}
                </tr>
              </thead>
              {sections.map((section) => (
                <tbody key={section.title}>
                  <tr>
                    <th colSpan={data.length + 1} scope="rowgroup" className="bg-slate-50 px-3 py-1.5 text-left text-xs font-semibold text-slate-600">
                      {section.title}
                    </th>
                  </tr>
                  {section.rows.map((row) => (
                    <tr key={row.label} data-differs={row.differs ? "true" : undefined}>
                      <Th scope="row" className={cn("normal-case", row.differs && "text-amber-800")}>
                        {row.label}
                        {row.differs ? <span title="the runs differ here"> ≠</span> : null}
                      </Th>
                      {row.cells.map((cell, i) => (
                        <Td key={data[i]!.run.id} className={cn("tabular text-sm", row.best === i && "font-semibold text-emerald-700")}>
                          {cell}
                        </Td>
                      ))}
                    </tr>
                  ))}
                </tbody>
              ))}
            </Table>
          </Card>
        </>
      )}
    </div>
  );
}
