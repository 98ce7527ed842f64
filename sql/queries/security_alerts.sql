-- SECURITY_ALERT events (forged tokens, bursts of authentication failures), latest first.
SELECT event_time, action, tenant, user_id, TRIM(JSON_VALUE(details, '$.reason'), '"') AS reason
FROM ${dataset}.audit_events_dedup
WHERE event_type = 'SECURITY_ALERT'
ORDER BY event_time DESC, action
