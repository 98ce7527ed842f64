-- Report chart "Jobs by state over time": terminal jobs per period and state (job_results_dedup,
-- by finished_at in UTC). The period is a minute when the jobs finished within 2 hours of each
-- other, an hour within 4 days, else a day. DuckDB SQL (scripts/report and scripts/query).
WITH span AS (
  SELECT
    CASE
      WHEN MAX(finished_at) - MIN(finished_at) <= INTERVAL 2 HOUR THEN 'minute'
      WHEN MAX(finished_at) - MIN(finished_at) <= INTERVAL 4 DAY THEN 'hour'
      ELSE 'day'
    END AS unit
  FROM ${dataset}.job_results_dedup
)
SELECT
  span.unit,
  strftime(date_trunc(span.unit, j.finished_at), '%Y-%m-%d %H:%M') AS period,
  j.state,
  COUNT(*) AS jobs
FROM ${dataset}.job_results_dedup AS j, span
GROUP BY span.unit, period, j.state
ORDER BY period, j.state
