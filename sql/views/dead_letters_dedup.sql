-- One row per dead letter (message_id, stage, reason_code) and timestamp, the table's partition
-- column: copies of a written row are dropped, and a filter on timestamp through this view still
-- prunes partitions.
SELECT *
FROM ${dataset}.dead_letters AS d
WHERE TRUE
QUALIFY ROW_NUMBER() OVER (PARTITION BY d.timestamp, d.message_id, d.stage, d.reason_code ORDER BY d.timestamp) = 1
