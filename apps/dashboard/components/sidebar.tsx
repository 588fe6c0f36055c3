"use client";
import Link from "next/link";
import { usePathname } from "next/navigation";
import { cn } from "@/lib/cn";

const LINKS = [
  { href: "/", label: "Overview" },
  { href: "/strategies", label: "Strategies" },
  { href: "/positions", label: "Positions" },
  { href: "/orders", label: "Orders" },
  { href: "/runs", label: "Runs" },
  { href: "/models", label: "Models" },
  { href: "/risk", label: "Risk" },
  { href: "/alerts", label: "Alerts" },
  { href: "/health", label: "Health" },
  { href: "/settings", label: "Settings" },
] as const;

export function Sidebar() {
  const pathname = usePathname();
  return (
    <nav aria-label="main" className="flex w-48 shrink-0 flex-col gap-1 border-r border-slate-200 bg-white p-3">
      <Link href="/" className="mb-4 px-2 text-sm font-bold tracking-tight text-slate-900">
        Quant platform
      </Link>
      {LINKS.map(({ href, label }) => {
        const active = href === "/" ? pathname === "/" : pathname.startsWith(href);
        return (
          <Link
            key={href}
            href={href}
            aria-current={active ? "page" : undefined}
            className={cn(
              "rounded-md px-2 py-1.5 text-sm",
              active ? "bg-slate-900 text-white" : "text-slate-700 hover:bg-slate-100",
            )}
          >
            {label}
          </Link>
        );
      })}
      <Link href="/runs/new" className="mt-4 rounded-md bg-sky-600 px-2 py-1.5 text-center text-sm font-medium text-white hover:bg-sky-500">
        New backtest
      </Link>
    </nav>
  );
}
