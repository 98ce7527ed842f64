-- Report chart "Authentication failures by principal": the analyst view summed over days, the 20
-- principals with the most failures.
SELECT principal, SUM(failures) AS failures
FROM ${dataset}.auth_failures_by_principal
GROUP BY principal
ORDER BY failures DESC, principal
LIMIT 20
