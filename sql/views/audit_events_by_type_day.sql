-- Audit events per UTC day, type (DESIGN §9) and status.
SELECT
  CAST(event_time AS DATE) AS day,
  event_type,
  status,
  COUNT(*) AS events,
  COUNT(DISTINCT tenant) AS tenants
FROM ${dataset}.audit_events_dedup
GROUP BY 1, 2, 3
