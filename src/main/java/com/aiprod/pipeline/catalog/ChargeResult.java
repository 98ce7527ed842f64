package com.aiprod.pipeline.catalog;

/**
 * What {@link SpendLedger#charge} decided for one job.
 *
 * @param admitted whether the job may run: a new charge that fit under the cap, or a job charged
 *     before ({@code repeated})
 * @param repeated the job was already charged (a redelivery); nothing was charged this time
 * @param estimateUsd the amount on record for this job: the earlier charge when {@code repeated},
 *     else the estimate asked for (charged only when {@code admitted})
 * @param spentBeforeUsd the tenant's spend that UTC day before this call
 * @param spentAfterUsd the spend after it (equal to {@code spentBeforeUsd} unless a new charge was
 *     made)
 * @param capUsd the cap the charge was checked against
 */
public record ChargeResult(
    boolean admitted,
    boolean repeated,
    double estimateUsd,
    double spentBeforeUsd,
    double spentAfterUsd,
    double capUsd) {}
