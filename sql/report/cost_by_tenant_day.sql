-- Report chart "Cost and provider cost per tenant per day": the analyst view as it is.
SELECT CAST(day AS VARCHAR) AS day, tenant, jobs, ROUND(cost_usd, 2) AS cost_usd,
  ROUND(provider_cost_usd, 2) AS provider_cost_usd
FROM ${dataset}.cost_per_tenant_day
ORDER BY day, tenant
