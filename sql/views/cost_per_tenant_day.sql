-- Cost per tenant and UTC day the job finished (the table's partition day): terminal jobs, jobs
-- charged something, what tenants were charged (DESIGN §5: delivered shots at list price; estimates,
-- refusals, FAILED and REJECTED jobs are charged 0), what was estimated, and what the providers
-- billed us for those jobs (every render attempt; NULL in rows written before the column existed).
SELECT
  tenant,
  CAST(finished_at AS DATE) AS day,
  COUNT(*) AS jobs,
  SUM(CASE WHEN cost_usd > 0 THEN 1 ELSE 0 END) AS paid_jobs,
  COALESCE(SUM(cost_usd), 0) AS cost_usd,
  COALESCE(SUM(CASE WHEN state <> 'ESTIMATED' THEN estimate_usd END), 0) AS estimate_usd,
  COALESCE(SUM(provider_cost_usd), 0) AS provider_cost_usd
FROM ${dataset}.job_results_dedup
GROUP BY 1, 2
