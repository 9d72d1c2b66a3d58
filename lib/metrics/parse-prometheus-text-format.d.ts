// Types for parse-prometheus-text-format 1.1.1, which ships none; only the shape this project reads.
declare module 'parse-prometheus-text-format' {
  /** One series, values as the exposition text spells them ("1", "2.1e+09", "+Inf", "NaN"). */
  export interface PrometheusSample {
    value?: string;
    labels?: Record<string, string>;
    timestamp_ms?: string;
    /** Histograms: upper bound (as written, "+Inf" included) → cumulative count. */
    buckets?: Record<string, string>;
    /** Summaries: quantile → value. */
    quantiles?: Record<string, string>;
    count?: string;
    sum?: string;
  }

  export interface PrometheusFamily {
    name: string;
    help: string;
    /** The # TYPE word upper-cased ("COUNTER", "GAUGE", "HISTOGRAM", "SUMMARY"), or "UNTYPED" without one. */
    type: string;
    metrics: PrometheusSample[];
  }

  /** Throws (InvalidLineError) on a line it cannot read. */
  export default function parsePrometheusTextFormat(text: string): PrometheusFamily[];
}
