-- End-to-end latency of every job that went to render (not estimates, not refusals before
-- planning) against its preset's deadline (DESIGN §4: quick_social 300 s, brand_campaign 900 s,
-- premium_spot 1800 s).
SELECT
  tenant,
  job_id,
  preset,
  mode,
  state,
  reason_code,
  CAST(finished_at AS DATE) AS day,
  latency_ms,
  CASE preset
    WHEN 'quick_social' THEN 300000
    WHEN 'brand_campaign' THEN 900000
    WHEN 'premium_spot' THEN 1800000
  END AS deadline_ms,
  latency_ms <= CASE preset
    WHEN 'quick_social' THEN 300000
    WHEN 'brand_campaign' THEN 900000
    WHEN 'premium_spot' THEN 1800000
  END AS within_deadline
FROM ${dataset}.job_results_dedup
WHERE state <> 'ESTIMATED' AND shots_total > 0
