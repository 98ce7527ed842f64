-- Report chart "Latency against the preset's deadline": every rendered job (the analyst view).
SELECT preset, tenant, job_id, state, latency_ms, deadline_ms, within_deadline
FROM ${dataset}.job_latency_vs_deadline
ORDER BY preset, latency_ms, tenant, job_id
