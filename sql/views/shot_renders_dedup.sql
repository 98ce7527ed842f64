-- One row per render attempt (tenant, job_id, shot_index, attempt) and finished_at, the table's
-- partition column: copies are dropped, and a filter on finished_at still prunes partitions.
SELECT *
FROM ${dataset}.shot_renders
WHERE TRUE
QUALIFY ROW_NUMBER() OVER (PARTITION BY finished_at, tenant, job_id, shot_index, attempt ORDER BY finished_at) = 1
