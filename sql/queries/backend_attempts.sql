-- Render attempts per backend and status: how many, what they cost, how long they took.
SELECT
  backend,
  status,
  COUNT(*) AS attempts,
  ROUND(SUM(cost_usd), 2) AS cost_usd,
  ROUND(AVG(latency_ms), 0) AS avg_latency_ms,
  MAX(latency_ms) AS max_latency_ms
FROM ${dataset}.shot_renders_dedup
GROUP BY backend, status
ORDER BY backend, status
