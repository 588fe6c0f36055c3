// What e2e/stack.py writes to e2e/.stack/stack.json, and helpers the specs share.
import { readFileSync } from "node:fs";
import { join } from "node:path";

export const STACK_FILE = join(__dirname, ".stack", "stack.json");
export const STACK_LOG = join(__dirname, ".stack", "stack.log");

export type Role = "admin" | "trader" | "viewer";

export interface StackInfo {
  api_url: string;
  api_port: number;
  api_up: boolean;
  pids: { stack: number; api: number | null; worker: number | null };
  users: Record<Role, { username: string; password: string }>;
  runs: { backtest: string; walk_forward: string };
  strategy_id: string;
  /** how to run `quant` against this stack: the executable, its working folder, its storage */
  cli: { quant: string; cwd: string; env: Record<string, string> };
  state_dir: string;
  logs: string;
}

export function stackInfo(): StackInfo {
  return JSON.parse(readFileSync(STACK_FILE, "utf8")) as StackInfo;
}
