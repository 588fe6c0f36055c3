/** The dashboard process itself is up (the API's health is at /v1/health). */
export function GET(): Response {
  return Response.json({ ok: true });
}
