-- Audit events by type and day, busiest first.
SELECT day, event_type, SUM(events) AS events
FROM ${dataset}.audit_events_by_type_day
GROUP BY day, event_type
ORDER BY day DESC, events DESC, event_type
