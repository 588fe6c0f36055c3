import { modeTone } from "@/components/kill-switch-modes";
import { EmptyState } from "@/components/states";
import { Badge } from "@/components/ui/badge";
import { Table, Td, Th } from "@/components/ui/table";
import type { Risk } from "@/lib/api/hooks";
import { dateTime } from "@/lib/format";

/** Every kill-switch change, newest first: by an admin (API or CLI) or by the risk service. */
export function ModeHistory({ history }: { history: Risk["history"] }) {
  if (history.length === 0) return <EmptyState title="The kill switch has not changed yet" />;
  return (
    <Table aria-label="mode history">
      <thead>
        <tr>
          <Th>When</Th>
          <Th>Change</Th>
          <Th>By</Th>
          <Th>Via</Th>
          <Th>Reason</Th>
        </tr>
      </thead>
      <tbody>
        {history.map((change, i) => (
          <tr key={`${change.at}-${i}`} data-testid="mode-change">
            <Td className="whitespace-nowrap text-xs">{dateTime(change.at)}</Td>
            <Td className="whitespace-nowrap">
              <Badge tone={modeTone(change.mode_before)}>{change.mode_before}</Badge>
              <span aria-hidden> → </span>
              <span className="sr-only"> to </span>
              <Badge tone={modeTone(change.mode)}>{change.mode}</Badge>
            </Td>
            <Td className="text-xs">{change.changed_by ?? "risk service"}</Td>
            <Td className="font-mono text-xs">{change.via}</Td>
            <Td className="text-xs text-slate-700">{change.reason || "—"}</Td>
          </tr>
        ))}
      </tbody>
    </Table>
  );
}
