-- Cost per tenant per day, most expensive first: charged to the tenant, estimated, billed by providers.
SELECT tenant, day, jobs, paid_jobs, ROUND(cost_usd, 2) AS cost_usd, ROUND(estimate_usd, 2) AS estimate_usd,
  ROUND(provider_cost_usd, 2) AS provider_cost_usd
FROM ${dataset}.cost_per_tenant_day
ORDER BY day DESC, cost_usd DESC, tenant
