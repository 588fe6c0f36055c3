import type { Metadata } from "next";
import { notFound } from "next/navigation";
import { ModelView } from "@/components/models/model-view";

type Props = { params: Promise<{ id: string }> };

export async function generateMetadata({ params }: Props): Promise<Metadata> {
  return { title: `Model #${(await params).id}` };
}

export default async function ModelPage({ params }: Props) {
  const id = Number((await params).id);
  if (!Number.isInteger(id) || id < 1) notFound();
  return <ModelView id={id} />;
}
