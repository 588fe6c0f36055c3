/**
 * A thin typed client over the generated OpenAPI types (lib/api/schema.d.ts, from
 * lib/api/openapi.json; `make dashboard-api` regenerates both). Requests go to this app's
 * /api/v1/... route handlers, which add the session's token (ADR 0011).
 */
import type { paths } from "./schema";

type Method = "get" | "post" | "put" | "patch";

/** Paths that answer `method`. */
export type PathsWith<M extends Method> = {
  [P in keyof paths]: paths[P] extends Record<M, infer Op> ? (Op extends undefined | never ? never : P) : never;
}[keyof paths];

type Operation<P extends keyof paths, M extends Method> = NonNullable<paths[P][M & keyof paths[P]]>;

type Content<R> = R extends { content: { "application/json": infer J } } ? J : unknown;

/** The JSON body of the operation's success answer (200, 201 or 202). */
export type ResponseOf<P extends keyof paths, M extends Method = "get"> =
  Operation<P, M> extends { responses: infer Rs }
    ? Rs extends { 200: infer R }
      ? Content<R>
      : Rs extends { 202: infer R }
        ? Content<R>
        : Rs extends { 201: infer R }
          ? Content<R>
          : unknown
    : unknown;

type ParametersOf<P extends keyof paths, M extends Method> =
  Operation<P, M> extends { parameters: infer Ps } ? Ps : never;

export type QueryOf<P extends keyof paths, M extends Method = "get"> =
  ParametersOf<P, M> extends { query?: infer Q } ? NonNullable<Q> : never;
export type PathParamsOf<P extends keyof paths, M extends Method = "get"> =
  ParametersOf<P, M> extends { path?: infer Q } ? NonNullable<Q> : never;
export type BodyOf<P extends keyof paths, M extends Method> =
  Operation<P, M> extends { requestBody?: infer B } ? Content<NonNullable<B>> : never;

export interface RequestOptions<P extends keyof paths, M extends Method> {
  path?: PathParamsOf<P, M>;
  query?: QueryOf<P, M>;
  body?: BodyOf<P, M>;
}

/** An answer that was not a success: the API's error envelope, or why there was none. It is the
 * only error `request()` (so `api.*` and every hook) throws; status 0 means no usable HTTP answer. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly field: string | null = null,
    readonly requestId: string | null = null,
  ) {
    super(message);
    this.name = "ApiError";
  }
}

/** `/v1/runs/{run_id}` with its path parameters filled in, plus the query string; a missing path
 * parameter is an ApiError (status 0, code missing_path_parameter): no request is sent. */
export function buildUrl(
  template: string,
  pathParams?: Record<string, unknown>,
  query?: Record<string, unknown>,
): string {
  const filled = template.replace(/\{(\w+)\}/g, (_, name: string) => {
    const value = pathParams?.[name];
    if (value === undefined || value === null) {
      throw new ApiError(0, "missing_path_parameter", `missing path parameter ${name}`);
    }
    return encodeURIComponent(String(value));
  });
  const search = new URLSearchParams();
  for (const [key, value] of Object.entries(query ?? {})) {
    if (value === undefined || value === null || value === "") continue;
    if (Array.isArray(value)) for (const item of value) search.append(key, String(item));
    else search.append(key, String(value));
  }
  const text = search.toString();
  return `/api${filled}${text ? `?${text}` : ""}`;
}

async function toApiError(response: Response): Promise<ApiError> {
  const requestId = response.headers.get("x-request-id");
  const retryAfter = response.headers.get("retry-after");
  try {
    const body = (await response.json()) as {
      error?: { code?: string; message?: string; field?: string | null; request_id?: string };
    };
    if (body.error?.message) {
      const wait = response.status === 429 && retryAfter ? ` (retry in ${retryAfter} s)` : "";
      return new ApiError(
        response.status,
        body.error.code ?? "error",
        body.error.message + wait,
        body.error.field ?? null,
        body.error.request_id ?? requestId,
      );
    }
  } catch {
    // not JSON: fall through to the status line
  }
  return new ApiError(response.status, "http_error", `HTTP ${response.status} ${response.statusText}`.trim(), null, requestId);
}

export async function request<P extends PathsWith<M>, M extends Method>(
  method: M,
  template: P,
  options: RequestOptions<P, M> = {},
): Promise<ResponseOf<P, M>> {
  const url = buildUrl(
    template,
    options.path as Record<string, unknown> | undefined,
    options.query as Record<string, unknown> | undefined,
  );
  let response: Response;
  try {
    response = await fetch(url, {
      method: method.toUpperCase(),
      headers: options.body === undefined ? {} : { "content-type": "application/json" },
      body: options.body === undefined ? undefined : JSON.stringify(options.body),
      credentials: "same-origin",
      cache: "no-store",
    });
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    throw new ApiError(0, "network_error", `the dashboard server did not answer (${reason})`);
  }
  if (!response.ok) throw await toApiError(response);
  try {
    return (await response.json()) as ResponseOf<P, M>;
  } catch (error) {
    // a success whose body is not JSON (a proxy's HTML page, a cut-off answer): no data to give
    const reason = error instanceof Error ? error.message : String(error);
    throw new ApiError(
      0,
      "bad_response",
      `the answer to ${method.toUpperCase()} ${url} (HTTP ${response.status}) was not JSON (${reason})`,
      null,
      response.headers.get("x-request-id"),
    );
  }
}

export const api = {
  get: <P extends PathsWith<"get">>(template: P, options?: RequestOptions<P, "get">) =>
    request("get", template, options),
  post: <P extends PathsWith<"post">>(template: P, options?: RequestOptions<P, "post">) =>
    request("post", template, options),
  put: <P extends PathsWith<"put">>(template: P, options?: RequestOptions<P, "put">) =>
    request("put", template, options),
  patch: <P extends PathsWith<"patch">>(template: P, options?: RequestOptions<P, "patch">) =>
    request("patch", template, options),
};
