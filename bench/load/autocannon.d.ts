/**
 * The part of autocannon 8's programmatic API the bench uses (the package ships no types and
 * @types/autocannon is not installed). Field names as in autocannon's README and
 * lib/aggregateResult.js.
 */
declare module "autocannon" {
  namespace autocannon {
    interface Options {
      url: string;
      method?: "GET" | "POST" | "PUT" | "DELETE" | "PATCH" | "HEAD";
      headers?: Record<string, string>;
      body?: string | Buffer;
      connections?: number;
      pipelining?: number;
      /** Seconds. */
      duration?: number;
      /** Seconds without a response before a request counts as a timeout. Default 10. */
      timeout?: number;
      /** Responses whose body differs count as `mismatches`. */
      expectBody?: string;
      title?: string;
      /** Called with each connection's client as it is created, before it connects (lib/httpClient.js). */
      setupClient?: (client: Client) => void;
    }

    /**
     * One connection (lib/httpClient.js). Each loops over its own list of requests; a request
     * object may carry `onResponse(status, body, context, headers)`, called as a method of it.
     */
    interface Client {
      /** Requests this connection has sent. */
      readonly reqsMade: number;
      /** Replaces the connection's request list and builds every request buffer at once. */
      setRequests(requests: readonly object[]): void;
    }

    /** One histogram summary: mean, spread and percentiles (`p99`, …). */
    interface Histogram {
      average: number;
      mean: number;
      stddev: number;
      min: number;
      max: number;
      total: number;
      p50: number;
      p90: number;
      p99: number;
      p99_9: number;
    }

    interface Result {
      /** Requests per second sample (`average` is what autocannon prints as Req/Sec). */
      requests: Histogram & { sent: number };
      /** Milliseconds. */
      latency: Histogram & { totalCount: number };
      throughput: Histogram;
      /** Seconds actually run. */
      duration: number;
      errors: number;
      timeouts: number;
      mismatches: number;
      non2xx: number;
      resets: number;
      "2xx": number;
      statusCodeStats: Record<string, { count: number }>;
    }
  }

  namespace autocannon {
    /** What `autocannon(options)` returns: the run's result as a thenable, and its progress events ("start" once the clients are set up). */
    interface Instance extends PromiseLike<Result> {
      on(event: "start" | "tick" | "done", listener: (...args: unknown[]) => void): this;
    }
  }

  function autocannon(options: autocannon.Options): autocannon.Instance;
  export default autocannon;
}
