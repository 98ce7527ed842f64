-- One row per audit event_id: a retried or redelivered write, or an append of the Storage Write
-- API's at-least-once mode, can store an event twice (same event_time, same signature). The window
-- is partitioned by event_time (the table's partition column) as well, so a filter on event_time
-- through this view still prunes partitions.
SELECT *
FROM ${dataset}.audit_events
WHERE TRUE
QUALIFY ROW_NUMBER() OVER (PARTITION BY event_time, event_id ORDER BY event_time) = 1
