-- One row per job (tenant, job_id): the earliest terminal row.
SELECT *
FROM ${dataset}.job_results
WHERE TRUE
QUALIFY ROW_NUMBER() OVER (PARTITION BY tenant, job_id ORDER BY finished_at) = 1
