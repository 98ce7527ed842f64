-- Report chart "Render attempts and failures per backend": attempts per backend and status.
SELECT backend, status, COUNT(*) AS attempts
FROM ${dataset}.shot_renders_dedup
GROUP BY backend, status
ORDER BY backend, status
