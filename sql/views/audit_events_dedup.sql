-- One row per audit event_id: a retried or redelivered write, or an append of the Storage Write
-- API's at-least-once mode, can store an event twice (same event_time, same signature). The window
-- is partitioned by the day of event_time (the table's day partition) as well, so it stays within
-- one partition and a date filter can prune; the earliest copy is kept.
SELECT *
FROM ${dataset}.audit_events
WHERE TRUE
QUALIFY ROW_NUMBER() OVER (PARTITION BY CAST(event_time AS DATE), event_id ORDER BY event_time) = 1
