"use client";
import Link from "next/link";
import { useState } from "react";
import { EmptyState, ErrorState, LoadingRows } from "@/components/states";
import { Badge } from "@/components/ui/badge";
import { Label, Select } from "@/components/ui/input";
import { Pager, Table, Td, Th } from "@/components/ui/table";
import { useModels } from "@/lib/api/hooks";
import { dateTime, ratio } from "@/lib/format";
import { STAGES, stageTone } from "./stage";

const PER_PAGE = 25;

/** The model registry, newest first: stage badges, headline validation scores, and the run
 * that trained each model. Filter by stage. */
export function ModelsTable() {
  const [stage, setStage] = useState<string>("");
  const [page, setPage] = useState(1);
  const query = { page, per_page: PER_PAGE, ...(stage ? { stage: stage as (typeof STAGES)[number] } : {}) };
  const { data, error, mutate } = useModels(query);

  const filter = (
    <div className="flex items-center gap-2 px-3 py-2">
      <Label htmlFor="model-stage" className="mb-0">
        Stage
      </Label>
      <Select
        id="model-stage"
        className="w-40"
        value={stage}
        onChange={(event) => {
          setStage(event.target.value);
          setPage(1);
        }}
      >
        <option value="">all</option>
        {STAGES.map((s) => (
          <option key={s} value={s}>
            {s}
          </option>
        ))}
      </Select>
    </div>
  );

  if (error && !data) return <ErrorState what="models" error={error} onRetry={() => mutate()} />;
  if (!data) return <LoadingRows rows={4} label="Loading models" />;

  return (
    <div>
      {filter}
      {data.items.length === 0 ? (
        <EmptyState title={stage ? `No ${stage} models` : "No models yet"}>
          Train one with <code>quant train CONFIG</code> or queue a train run (<code>POST /v1/runs</code> with type{" "}
          <code>train</code>).
        </EmptyState>
      ) : (
        <>
          <Table aria-label="models">
            <thead>
              <tr>
                <Th>Model</Th>
                <Th>Stage</Th>
                <Th className="text-right">OOS Sharpe</Th>
                <Th className="text-right">DSR</Th>
                <Th className="text-right">PBO</Th>
                <Th>Features</Th>
                <Th>Trained</Th>
              </tr>
            </thead>
            <tbody>
              {data.items.map((model) => (
                <tr key={model.id} className="hover:bg-slate-50" data-testid="model-row" data-model-id={model.id}>
                  <Td>
                    <Link href={`/models/${model.id}`} className="font-medium text-sky-700 hover:underline">
                      {model.name} v{model.version}
                    </Link>
                    <span className="ml-2 text-xs text-slate-500">#{model.id}</span>
                  </Td>
                  <Td>
                    <Badge tone={stageTone(model.stage)} data-testid="stage-badge">
                      {model.stage}
                    </Badge>
                  </Td>
                  <Td className="tabular text-right">{ratio(model.scores.oos_sharpe)}</Td>
                  <Td className="tabular text-right">{ratio(model.scores.dsr, 3)}</Td>
                  <Td className="tabular text-right">{ratio(model.scores.pbo, 3)}</Td>
                  <Td className="font-mono text-xs">{model.feature_set_version}</Td>
                  <Td className="text-xs text-slate-600">
                    {dateTime(model.created_at)}
                    {model.trained_by_run_id ? (
                      <>
                        {" · "}
                        <Link href={`/runs/${model.trained_by_run_id}`} className="hover:underline">
                          run {model.trained_by_run_id.slice(0, 8)}
                        </Link>
                      </>
                    ) : (
                      " · command line"
                    )}
                  </Td>
                </tr>
              ))}
            </tbody>
          </Table>
          <Pager page={page} perPage={PER_PAGE} total={data.total} onPage={setPage} />
        </>
      )}
    </div>
  );
}
