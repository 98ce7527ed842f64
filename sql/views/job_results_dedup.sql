-- One row per job (tenant, job_id) and finished_at, the table's partition column: copies of a
-- terminal row are dropped, and a filter on finished_at through this view still prunes partitions.
SELECT *
FROM ${dataset}.job_results
WHERE TRUE
QUALIFY ROW_NUMBER() OVER (PARTITION BY finished_at, tenant, job_id ORDER BY finished_at) = 1
