"use client";
import Link from "next/link";
import { ErrorState, LoadingRows } from "@/components/states";
import { Badge } from "@/components/ui/badge";
import { Card, CardBody, CardHeader } from "@/components/ui/card";
import { Table, Td, Th } from "@/components/ui/table";
import { useModel, type ModelDetail } from "@/lib/api/hooks";
import { dateTime, ratio } from "@/lib/format";
import { stageTone } from "./stage";
import { StageControl } from "./stage-control";

type Fold = ModelDetail["walk_forward_folds"][number];

function FoldsTable({ folds, label }: { folds: Fold[]; label: string }) {
  return (
    <Table aria-label={label}>
      <thead>
        <tr>
          <Th>Test dates</Th>
          <Th className="text-right">Train rows</Th>
          <Th className="text-right">Test rows</Th>
          <Th className="text-right">Purged</Th>
          <Th className="text-right">Embargoed</Th>
          <Th className="text-right">Sharpe</Th>
          <Th className="text-right">Hit rate</Th>
        </tr>
      </thead>
      <tbody>
        {folds.map((fold, index) => (
          <tr key={`${fold.start}-${index}`}>
            <Td className="tabular text-xs">
              {fold.start} → {fold.end}
            </Td>
            <Td className="tabular text-right">{fold.n_train.toLocaleString()}</Td>
            <Td className="tabular text-right">{fold.n_test.toLocaleString()}</Td>
            <Td className="tabular text-right">{fold.purged.toLocaleString()}</Td>
            <Td className="tabular text-right">{fold.embargoed.toLocaleString()}</Td>
            <Td className="tabular text-right">{ratio(fold.sharpe)}</Td>
            <Td className="tabular text-right">{ratio(fold.hit_rate, 3)}</Td>
          </tr>
        ))}
      </tbody>
    </Table>
  );
}

/** Global feature importances as horizontal bars, largest first, scaled to the largest. */
export function ImportanceBars({ importances }: { importances: ModelDetail["importances"] }) {
  if (importances.length === 0) return <p className="text-sm text-slate-500">No importances recorded.</p>;
  const top = Math.max(...importances.map((i) => i.importance), Number.EPSILON);
  return (
    <ul aria-label="feature importances" className="space-y-1.5">
      {importances.map(({ feature, importance }) => (
        <li key={feature} className="grid grid-cols-[10rem_1fr_4rem] items-center gap-2 text-xs">
          <span className="truncate font-mono" title={feature}>
            {feature}
          </span>
          <span className="h-3 rounded bg-slate-100">
            <span
              role="meter"
              aria-label={feature}
              aria-valuenow={importance}
              aria-valuemin={0}
              aria-valuemax={top}
              className="block h-3 rounded bg-sky-500"
              style={{ width: `${(100 * importance) / top}%` }}
            />
          </span>
          <span className="tabular text-right">{ratio(importance, 3)}</span>
        </li>
      ))}
    </ul>
  );
}

function Fact({ term, children }: { term: string; children: React.ReactNode }) {
  return (
    <div className="grid grid-cols-[11rem_1fr] gap-2 py-1 text-sm">
      <dt className="text-slate-500">{term}</dt>
      <dd className="break-all">{children}</dd>
    </div>
  );
}

function json(value: unknown): string {
  return Object.entries(value as Record<string, unknown>)
    .map(([k, v]) => `${k}=${typeof v === "object" ? JSON.stringify(v) : String(v)}`)
    .join(", ");
}

/** A model's page: scores, lineage, validation folds, importances, stage history and (for
 * admins) the stage decision. */
export function ModelView({ id }: { id: number }) {
  const { data: model, error, mutate } = useModel(id);
  if (error && !model) return <ErrorState what={`model #${id}`} error={error} onRetry={() => mutate()} />;
  if (!model) return <LoadingRows rows={6} label="Loading the model" />;
  const cpcv = model.cpcv;

  return (
    <div className="space-y-5">
      <div className="flex flex-wrap items-center gap-3">
        <h1 className="text-xl font-semibold">
          {model.name} v{model.version}
        </h1>
        <Badge tone={stageTone(model.stage)} data-testid="model-stage">
          {model.stage}
        </Badge>
        <span className="text-xs text-slate-500">
          #{model.id} · {model.kind} · {model.stage} since {dateTime(model.stage_since)}
        </span>
      </div>

      <div className="grid gap-5 lg:grid-cols-2">
        <Card>
          <CardHeader title="Validation" description="Purged walk-forward over every candidate; the best one's scores." />
          <CardBody>
            <dl>
              <Fact term="OOS Sharpe">{ratio(model.scores.oos_sharpe)}</Fact>
              <Fact term="Deflated Sharpe">{ratio(model.scores.dsr, 3)}</Fact>
              <Fact term="PBO">{ratio(model.scores.pbo, 3)}</Fact>
              <Fact term="Candidates tried">
                {model.scores.n_trials ?? "—"} (chosen: #{model.chosen_candidate ?? "—"}; Sharpes{" "}
                {model.candidate_sharpes.map((s) => ratio(s)).join(", ")})
              </Fact>
              {cpcv ? (
                <Fact term="CPCV">
                  {cpcv.summary["paths"]} paths, median Sharpe {ratio(cpcv.summary["median"])}, p05{" "}
                  {ratio(cpcv.summary["p05"])}, positive {ratio(100 * (cpcv.summary["share_positive"] ?? 0), 0)}%
                </Fact>
              ) : null}
              <Fact term="Rows">{model.rows?.toLocaleString() ?? "—"}</Fact>
            </dl>
          </CardBody>
        </Card>
        <Card>
          <CardHeader title="Lineage" description="What the model learned from and where its bytes are." />
          <CardBody>
            <dl>
              <Fact term="Feature set version">
                <span className="font-mono text-xs">{model.feature_set_version}</span>
              </Fact>
              <Fact term="Label">{json(model.label_definition)}</Fact>
              <Fact term="Training window">
                {dateTime(model.train_start)} → {dateTime(model.train_end)}
              </Fact>
              <Fact term="Data fingerprint">
                <span className="font-mono text-xs">{model.data_fingerprint}</span>
              </Fact>
              <Fact term="Parameters">
                <span className="font-mono text-xs">{json(model.params)}</span>
              </Fact>
              <Fact term="Artifact sha256">
                <span className="font-mono text-xs" data-testid="artifact-sha">
                  {model.artifact_sha256}
                </span>
              </Fact>
              <Fact term="Code version">
                <span className="font-mono text-xs">{model.code_version}</span>
              </Fact>
              <Fact term="Trained by">
                {model.trained_by_run_id ? (
                  <Link href={`/runs/${model.trained_by_run_id}`} className="text-sky-700 hover:underline">
                    run {model.trained_by_run_id.slice(0, 8)}
                  </Link>
                ) : (
                  model.trained_via
                )}
              </Fact>
            </dl>
          </CardBody>
        </Card>
      </div>

      <Card>
        <CardHeader
          title="Walk-forward folds"
          description="Each out-of-sample fold: training rows whose labels overlap the test are purged, those just after it embargoed."
        />
        <FoldsTable folds={model.walk_forward_folds} label="walk-forward folds" />
      </Card>
      {cpcv ? (
        <Card>
          <CardHeader title="CPCV folds" description={`${cpcv.n_groups} groups, ${cpcv.n_test_groups} tested at a time.`} />
          <FoldsTable folds={cpcv.folds} label="cpcv folds" />
        </Card>
      ) : null}

      <Card>
        <CardHeader title="Feature importances" description="xgboost gain, largest first." />
        <CardBody>
          <ImportanceBars importances={model.importances} />
        </CardBody>
      </Card>

      <Card>
        <CardHeader title="Stage history" description="Every decision with its reason and who made it." />
        <Table aria-label="stage history">
          <thead>
            <tr>
              <Th>When</Th>
              <Th>Change</Th>
              <Th>Reason</Th>
              <Th>By</Th>
            </tr>
          </thead>
          <tbody>
            {model.stage_history.map((change, index) => (
              <tr key={`${change.decided_at}-${index}`}>
                <Td className="text-xs">{dateTime(change.decided_at)}</Td>
                <Td className="text-xs">
                  {change.from_stage ?? "registered"} → {change.to_stage}
                </Td>
                <Td className="text-xs">{change.reason}</Td>
                <Td className="text-xs">{change.decided_by ?? "—"}</Td>
              </tr>
            ))}
          </tbody>
        </Table>
        <CardBody className="border-t border-slate-100">
          <StageControl model={model} onChanged={() => mutate()} />
        </CardBody>
      </Card>
    </div>
  );
}
