/** One HTTP answer, its body parsed as JSON when it is JSON. */
export interface HttpResponse<T = unknown> {
  readonly status: number;
  readonly body: T;
  readonly text: string;
  readonly headers: Headers;
}

/** Request options of {@link HttpClient}. */
export interface HttpRequestOptions {
  readonly headers?: Readonly<Record<string, string>>;
  readonly body?: unknown;
}

/** A small fetch-based client bound to a base URL (no supertest needed, works against any listening server). */
export class HttpClient {
  constructor(
    readonly baseUrl: string,
    private readonly defaults: Readonly<Record<string, string>> = {},
  ) {}

  /** The same client with more default headers (credentials, a tenant header). */
  with(headers: Readonly<Record<string, string>>): HttpClient {
    return new HttpClient(this.baseUrl, { ...this.defaults, ...headers });
  }

  async request<T = unknown>(
    method: string,
    path: string,
    options: HttpRequestOptions = {},
  ): Promise<HttpResponse<T>> {
    const headers: Record<string, string> = { ...this.defaults, ...options.headers };
    let body: string | undefined;
    if (options.body !== undefined) {
      headers['content-type'] ??= 'application/json';
      body = typeof options.body === 'string' ? options.body : JSON.stringify(options.body);
    }
    const res = await fetch(new URL(path, this.baseUrl), { method, headers, body });
    const text = await res.text();
    let parsed: unknown = text;
    if ((res.headers.get('content-type') ?? '').includes('json') && text) parsed = JSON.parse(text);
    return { status: res.status, body: parsed as T, text, headers: res.headers };
  }

  get<T = unknown>(path: string, options?: HttpRequestOptions) {
    return this.request<T>('GET', path, options);
  }
  post<T = unknown>(path: string, body?: unknown, options?: HttpRequestOptions) {
    return this.request<T>('POST', path, { ...options, body });
  }
  patch<T = unknown>(path: string, body?: unknown, options?: HttpRequestOptions) {
    return this.request<T>('PATCH', path, { ...options, body });
  }
  put<T = unknown>(path: string, body?: unknown, options?: HttpRequestOptions) {
    return this.request<T>('PUT', path, { ...options, body });
  }
  delete<T = unknown>(path: string, options?: HttpRequestOptions) {
    return this.request<T>('DELETE', path, options);
  }
}
