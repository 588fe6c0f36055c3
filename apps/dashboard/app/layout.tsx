import type { Metadata } from "next";
import "./globals.css";

export const metadata: Metadata = {
  title: { default: "Quant platform", template: "%s · Quant platform" },
  description: "Research and monitoring over the quant platform's /v1 API",
};

export default function RootLayout({ children }: { children: React.ReactNode }) {
  return (
    <html lang="en">
      <body className="min-h-screen font-sans">{children}</body>
    </html>
  );
}
