-- Share of rendered jobs that finished within their preset's deadline (DESIGN §4).
SELECT
  preset,
  deadline_ms,
  COUNT(*) AS jobs,
  SUM(CASE WHEN within_deadline THEN 1 ELSE 0 END) AS within_deadline,
  ROUND(100 * SUM(CASE WHEN within_deadline THEN 1 ELSE 0 END) / COUNT(*), 1) AS pct_within_deadline,
  MAX(latency_ms) AS max_latency_ms,
  ROUND(AVG(latency_ms), 0) AS avg_latency_ms
FROM ${dataset}.job_latency_vs_deadline
GROUP BY preset, deadline_ms
ORDER BY preset
