import type { Run } from "@/lib/api/hooks";

function text(value: unknown): string {
  if (value === null || value === undefined || value === "") return "—";
  return typeof value === "string" ? value : JSON.stringify(value);
}

/** What it takes to run this again and get the same numbers, folded away by default. */
export function RunRepro({ run }: { run: Pick<Run, "repro" | "config" | "backtest_config"> }) {
  const repro = run.repro ?? {};
  const facts: [string, unknown][] = [
    ["Code version", repro["code_version"]],
    ["Data fingerprint", repro["data_fingerprint"]],
    ["Data source", repro["data_source"]],
    ["Seed", repro["seed"]],
    ["Config hash", repro["config_hash"]],
    ["Python", repro["python_version"]],
    ["Platform", repro["platform"]],
  ];
  const packages = repro["package_versions"];
  return (
    <details className="rounded-lg border border-slate-200 bg-white shadow-sm" data-testid="run-repro">
      <summary className="cursor-pointer px-4 py-3 text-sm font-semibold text-slate-900">
        Reproducibility: config snapshot, code version, data fingerprint, seed
      </summary>
      <div className="space-y-4 border-t border-slate-100 p-4 text-sm">
        {Object.keys(repro).length === 0 ? (
          <p className="text-slate-500">The worker records these when it starts the run.</p>
        ) : (
          <dl className="grid grid-cols-[max-content_1fr] gap-x-4 gap-y-1">
            {facts.map(([label, value]) => (
              <div key={label} className="contents">
                <dt className="text-slate-500">{label}</dt>
                <dd className="font-mono text-xs break-all">{text(value)}</dd>
              </div>
            ))}
            {packages && typeof packages === "object" ? (
              <div className="contents">
                <dt className="text-slate-500">Packages</dt>
                <dd className="font-mono text-xs break-all">
                  {Object.entries(packages as Record<string, unknown>)
                    .map(([name, version]) => `${name} ${text(version)}`)
                    .join(", ")}
                </dd>
              </div>
            ) : null}
          </dl>
        )}
        <div className="grid gap-4 lg:grid-cols-2">
          <div>
            <h3 className="mb-1 text-xs font-semibold text-slate-600">Strategy config</h3>
            <pre className="max-h-80 overflow-auto rounded bg-slate-50 p-3 text-xs">{JSON.stringify(run.config, null, 2)}</pre>
          </div>
          <div>
            <h3 className="mb-1 text-xs font-semibold text-slate-600">Backtest settings</h3>
            <pre className="max-h-80 overflow-auto rounded bg-slate-50 p-3 text-xs">
              {JSON.stringify(run.backtest_config, null, 2)}
            </pre>
          </div>
        </div>
      </div>
    </details>
  );
}
