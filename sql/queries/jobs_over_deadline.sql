-- Rendered jobs that took longer than their preset's deadline, slowest first.
SELECT tenant, job_id, preset, state, reason_code, latency_ms, deadline_ms
FROM ${dataset}.job_latency_vs_deadline
WHERE NOT within_deadline
ORDER BY latency_ms DESC, tenant, job_id
