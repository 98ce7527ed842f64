/**
 * Stage Admit: duplicates (in-run and in the job store), refusals, role and plan rules; and the
 * authorization of cancel requests against their job's document.
 */
package com.aiprod.pipeline.admit;
