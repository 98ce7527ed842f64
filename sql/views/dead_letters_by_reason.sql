-- Dead letters per UTC day, reason code (DESIGN §10) and the stage that routed them.
SELECT
  CAST(d.timestamp AS DATE) AS day,
  d.reason_code,
  d.stage,
  COUNT(*) AS dead_letters,
  MIN(d.timestamp) AS first_seen,
  MAX(d.timestamp) AS last_seen
FROM ${dataset}.dead_letters_dedup AS d
GROUP BY 1, 2, 3
