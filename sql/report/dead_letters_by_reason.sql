-- Report chart "Dead letters by reason": the analyst view summed over days and stages.
SELECT reason_code, SUM(dead_letters) AS dead_letters
FROM ${dataset}.dead_letters_by_reason
GROUP BY reason_code
ORDER BY dead_letters DESC, reason_code
