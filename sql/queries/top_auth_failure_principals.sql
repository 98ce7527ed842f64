-- Principals (claimed uid, or '(unknown)') with the most authentication failures.
SELECT principal, SUM(failures) AS failures, MIN(first_seen) AS first_seen, MAX(last_seen) AS last_seen
FROM ${dataset}.auth_failures_by_principal
GROUP BY principal
ORDER BY failures DESC, principal
LIMIT 20
