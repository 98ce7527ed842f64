-- Report gallery: the contact sheets of the latest delivered jobs, linking to their final.mp4.
SELECT tenant, job_id, preset, ROUND(cost_usd, 2) AS cost_usd,
  strftime(finished_at, '%Y-%m-%d %H:%M:%S') AS finished_at, output_uri, contact_sheet_uri
FROM ${dataset}.job_results_dedup
WHERE state = 'DELIVERED' AND contact_sheet_uri IS NOT NULL
ORDER BY finished_at DESC, tenant, job_id
LIMIT 12
