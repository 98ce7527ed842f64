-- One row per audit event_id (the earliest): a retried or redelivered write, or an append of the
-- Storage Write API's at-least-once mode, can store an event twice (the signature is the same).
SELECT *
FROM ${dataset}.audit_events
WHERE TRUE
QUALIFY ROW_NUMBER() OVER (PARTITION BY event_id ORDER BY event_time) = 1
