-- One row per render attempt (tenant, job_id, shot_index, attempt).
SELECT *
FROM ${dataset}.shot_renders
WHERE TRUE
QUALIFY ROW_NUMBER() OVER (PARTITION BY tenant, job_id, shot_index, attempt ORDER BY finished_at) = 1
