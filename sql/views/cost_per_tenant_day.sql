-- Cost per tenant and UTC day the job finished (the table's partition day): terminal jobs, jobs
-- that cost something, what they cost and what was estimated (estimates and refusals cost 0).
SELECT
  tenant,
  CAST(finished_at AS DATE) AS day,
  COUNT(*) AS jobs,
  SUM(CASE WHEN cost_usd > 0 THEN 1 ELSE 0 END) AS paid_jobs,
  COALESCE(SUM(cost_usd), 0) AS cost_usd,
  COALESCE(SUM(CASE WHEN state <> 'ESTIMATED' THEN estimate_usd END), 0) AS estimate_usd
FROM ${dataset}.job_results_dedup
GROUP BY 1, 2
