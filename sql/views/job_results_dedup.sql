-- One row per job (tenant, job_id) and day of finished_at, the table's day partition: copies of a
-- terminal row written again (a retry, a redelivery, an at-least-once append) are dropped, the
-- earliest kept; the window stays within one partition, so a date filter can prune.
SELECT *
FROM ${dataset}.job_results
WHERE TRUE
QUALIFY ROW_NUMBER() OVER (PARTITION BY CAST(finished_at AS DATE), tenant, job_id ORDER BY finished_at) = 1
