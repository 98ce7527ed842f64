-- Dead letters by reason code (DESIGN §10), most frequent first.
SELECT reason_code, SUM(dead_letters) AS dead_letters, MIN(first_seen) AS first_seen, MAX(last_seen) AS last_seen
FROM ${dataset}.dead_letters_by_reason
GROUP BY reason_code
ORDER BY dead_letters DESC, reason_code
