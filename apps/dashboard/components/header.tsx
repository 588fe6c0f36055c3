"use client";
import { AlertCountsBadge } from "@/components/alert-counts";
import { KillSwitchControl } from "@/components/kill-switch";
import { Badge } from "@/components/ui/badge";
import { Button } from "@/components/ui/button";
import { useMe } from "@/lib/api/hooks";
import { useSignOut } from "@/lib/session-client";

export function Header() {
  const { data: me } = useMe();
  const signOut = useSignOut();
  return (
    <header className="flex items-center justify-between gap-4 border-b border-slate-200 bg-white px-5 py-2.5">
      <div className="flex items-center gap-4">
        <KillSwitchControl />
        <AlertCountsBadge />
      </div>
      <div className="flex items-center gap-3 text-sm">
        {me ? (
          <span data-testid="current-user">
            {me.username} <Badge>{me.role}</Badge>
          </span>
        ) : null}
        <Button variant="ghost" onClick={signOut}>
          Sign out
        </Button>
      </div>
    </header>
  );
}
