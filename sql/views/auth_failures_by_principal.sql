-- Authentication failures per UTC day and principal. A failed token proves no identity: the
-- principal is the token's unverified `sub` claim (details.claimed_uid) when it could be read,
-- else '(unknown)'; source is the subscription or file the message came from. (TRIM removes
-- the quotes DuckDB's JSON_VALUE keeps around strings; BigQuery's has none.)
SELECT
  CAST(event_time AS DATE) AS day,
  COALESCE(user_id, TRIM(JSON_VALUE(details, '$.claimed_uid'), '"'), '(unknown)') AS principal,
  TRIM(JSON_VALUE(details, '$.source'), '"') AS source,
  TRIM(JSON_VALUE(details, '$.reason_code'), '"') AS reason_code,
  COUNT(*) AS failures,
  MIN(event_time) AS first_seen,
  MAX(event_time) AS last_seen
FROM ${dataset}.audit_events_dedup
WHERE event_type = 'AUTH_FAILURE'
GROUP BY 1, 2, 3, 4
