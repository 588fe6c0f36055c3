import type { Metadata } from "next";
import { StrategyView } from "@/components/strategies/strategy-view";

type Props = { params: Promise<{ id: string }> };

export async function generateMetadata({ params }: Props): Promise<Metadata> {
  return { title: decodeURIComponent((await params).id) };
}

export default async function StrategyPage({ params }: Props) {
  return <StrategyView id={decodeURIComponent((await params).id)} />;
}
