-- One row per dead letter (message_id, stage, reason_code) and day of timestamp, the table's day
-- partition: copies written again are dropped, the earliest kept; the window stays within one
-- partition, so a date filter can prune.
SELECT *
FROM ${dataset}.dead_letters AS d
WHERE TRUE
QUALIFY ROW_NUMBER() OVER (PARTITION BY CAST(d.timestamp AS DATE), d.message_id, d.stage, d.reason_code ORDER BY d.timestamp) = 1
