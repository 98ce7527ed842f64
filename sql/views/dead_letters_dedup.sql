-- One row per dead letter (message_id, stage, reason_code): the earliest.
SELECT *
FROM ${dataset}.dead_letters AS d
WHERE TRUE
QUALIFY ROW_NUMBER() OVER (PARTITION BY d.message_id, d.stage, d.reason_code ORDER BY d.timestamp) = 1
