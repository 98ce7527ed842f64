-- One row per render attempt (tenant, job_id, shot_index, attempt) and day of finished_at, the
-- table's day partition: copies are dropped, the earliest kept; the window stays within one
-- partition, so a date filter can prune.
SELECT *
FROM ${dataset}.shot_renders
WHERE TRUE
QUALIFY ROW_NUMBER() OVER (PARTITION BY CAST(finished_at AS DATE), tenant, job_id, shot_index, attempt ORDER BY finished_at) = 1
